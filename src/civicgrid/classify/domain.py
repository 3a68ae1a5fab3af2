"""The text classifier that suggests a category."""

from civicgrid.domains import Domain

DOMAIN = Domain(name="classify", label="智能分类", commands=("civicgrid.classify.cli",))
