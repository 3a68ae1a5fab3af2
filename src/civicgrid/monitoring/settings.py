"""Settings of environmental monitoring (prefix ``CIVICGRID_MONITORING_``), read once."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MonitoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICGRID_MONITORING_", env_file=".env", extra="ignore")

    # The HJ 212 TCP listener (``civicgrid hj212 serve`` and the ``hj212`` service).
    hj212_host: str = "0.0.0.0"
    hj212_port: int = Field(default=9212, ge=1, le=65535)
    # A station silent this long is disconnected (it reconnects); the stations' book is re-read this often.
    idle_timeout_s: float = Field(default=600.0, gt=0)
    book_refresh_s: float = Field(default=30.0, gt=0)


@lru_cache
def get_monitoring_settings() -> MonitoringSettings:
    return MonitoringSettings()
