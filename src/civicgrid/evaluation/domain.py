"""Evaluation (综合评价): indicators, scores, grades and the monthly report."""

from civicgrid.domains import Domain

DOMAIN = Domain(
    name="evaluation",
    label="综合评价",
    api=("civicgrid.evaluation.api",),
    commands=("civicgrid.evaluation.cli",),
)
