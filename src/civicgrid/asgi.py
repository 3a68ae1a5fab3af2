"""The ASGI entry point for uvicorn/gunicorn: ``civicgrid.asgi:app``."""

from civicgrid.app import create_app

app = create_app()
