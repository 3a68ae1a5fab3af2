"""Settings of environmental monitoring (prefix ``CIVICGRID_MONITORING_``), read once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    # The ``station-aggregate`` job (hourly/daily aggregates, then the minute archive): seconds between runs
    # (0 = off; checked at the job's one-minute beat); on its first run it looks back this many days.
    aggregate_interval_s: float = Field(default=300.0, ge=0)
    aggregate_first_days: int = Field(default=2, ge=1)
    # Minute and real-time readings older than this move to Parquet files (``archive_dir``, by default
    # ``<data_dir>/warehouse/station-readings``), at most ``archive_batch_rows`` rows per file.
    archive_after_days: int = Field(default=7, ge=1)
    archive_dir: Path | None = None
    archive_batch_rows: int = Field(default=200_000, ge=1000)
    # MQTT ingest (``civicgrid mqtt ingest`` and the ``mqtt`` service; the service idles unless enabled).
    # Workers share ``$share/<group>/civicgrid/stations/+/…``; worker i connects as ``<client_id>-<i>`` with a
    # persistent session (kept ``mqtt_session_expiry_s`` by the broker while the worker is away).
    mqtt_enabled: bool = False
    mqtt_broker: str = "mqtt://127.0.0.1:1883"
    mqtt_group: str = Field(default="civicgrid", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    mqtt_client_id: str = Field(default="civicgrid-ingest", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    mqtt_workers: int = Field(default=1, ge=1, le=32)
    mqtt_keepalive_s: int = Field(default=60, ge=5, le=3600)
    mqtt_session_expiry_s: int = Field(default=86_400, ge=60)
    mqtt_receive_maximum: int = Field(default=100, ge=1, le=65535)  # unacknowledged messages in flight
    # The demo's station simulator (the ``station-simulator`` service, idle unless ``simulate`` is on): every
    # active station sends simulated data to this host's HJ 212 listener, a real-time packet this often.
    simulate: bool = False
    simulate_interval_s: float = Field(default=30.0, ge=0.05, le=3600)


@lru_cache
def get_monitoring_settings() -> MonitoringSettings:
    return MonitoringSettings()
