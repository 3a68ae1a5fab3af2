"""Open311 settings (prefix ``CIVICGRID_OPEN311_``), read once."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from civicgrid.settings import get_settings

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-26T00:00:00+08:00"  # bump when the service list or its behaviour changes


class Open311Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICGRID_OPEN311_", env_file=".env", extra="ignore")

    # Comma-separated jurisdiction ids this server answers for; empty means the district code alone.
    jurisdictions: str = ""
    contact: str = "姑苏区城市管理指挥中心 电话 0512-12345"
    key_service: str = "请联系区城市管理指挥中心申请 API 密钥（api_key）"
    max_results: int = 1000
    window_days: int = 90

    @property
    def jurisdiction_ids(self) -> tuple[str, ...]:
        ids = tuple(x.strip() for x in self.jurisdictions.split(",") if x.strip())
        return ids or (get_settings().district_code,)


@lru_cache
def get_open311_settings() -> Open311Settings:
    return Open311Settings()
