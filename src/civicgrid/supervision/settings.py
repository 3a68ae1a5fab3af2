"""Settings of the supervision domain (prefix ``CIVICGRID_SUPERVISION_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SupervisionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICGRID_SUPERVISION_", env_file=".env", extra="ignore")

    # 黄灯: the deadline or the next milestone within this many days (SPEC §13: N = 3).
    warn_days: int = Field(default=3, ge=0, le=60)


@lru_cache
def get_supervision_settings() -> SupervisionSettings:
    return SupervisionSettings()
