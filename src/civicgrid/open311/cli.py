"""Command-line commands of this domain (registered by civicgrid.cli)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``civicgrid`` command line."""
