"""HTTP routes of this domain (mounted by civicgrid.app)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount this domain's routes on the application."""
