"""Settings of the analytics warehouse (prefix ``CIVICGRID_ANALYTICS_``), read once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from civicgrid.settings import get_settings


class AnalyticsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICGRID_ANALYTICS_", env_file=".env", extra="ignore")

    # Where the Parquet partitions live; empty means ``<data_dir>/warehouse``.
    warehouse_dir: Path | None = None
    duckdb_threads: int = Field(default=2, ge=1)
    duckdb_memory_limit: str = "512MB"
    h3_resolution: int = Field(default=9, ge=0, le=15)
    xlsx_max_rows: int = Field(default=100_000, ge=1)
    # The pages' 导出 Excel links answer within a request: openpyxl writes about 1,000 rows a second on one
    # core, so a longer list is refused with a message (the API's CSV/Parquet export streams any size).
    xlsx_web_max_rows: int = Field(default=20_000, ge=1)
    recurring_min: int = Field(default=5, ge=2)
    spike_min_count: int = Field(default=8, ge=1)
    spike_ratio: float = Field(default=3.0, gt=1)
    spike_z: float = Field(default=3.0, gt=0)
    # Minimum-volume rule of every ranking (leader page, evaluation tables): a unit with fewer cases than this
    # in the period (应处置数 for disposal rankings) is listed apart as 案件量不足，不参与排名, never ranked.
    ranking_min_cases: int = Field(default=10, ge=1)

    @property
    def root(self) -> Path:
        return self.warehouse_dir or get_settings().data_dir / "warehouse"


@lru_cache
def get_analytics_settings() -> AnalyticsSettings:
    return AnalyticsSettings()
