"""Security: personal data at rest, the audit chains and their verification."""

from civicgrid.domains import Domain

DOMAIN = Domain(name="security", label="安全与审计", commands=("civicgrid.security.cli",))
