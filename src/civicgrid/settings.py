"""Runtime settings, read once from the environment (prefix ``CIVICGRID_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "civicgrid-development-secret-change-me"  # refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICGRID_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/civicgrid.db"
    data_dir: Path = Path("var")
    secret_key: str = DEFAULT_SECRET
    # Key for the personal fields encrypted at rest (reporter name and phone). Several keys may be listed,
    # comma separated; the first encrypts, all decrypt (rotation).
    pii_keys: str = ""
    timezone: str = "Asia/Shanghai"
    grid_digits: Literal[2, 3] = 2
    district_code: str = "320508"
    token_minutes: int = Field(default=8 * 60, ge=1)
    sqlite_busy_timeout_ms: int = 10_000
    # How long a worker process may serve reference data (names, grids, users' roles) from memory before
    # re-reading it; edits made by the same process are seen at once (see refcache.py).
    reference_cache_s: float = 5.0
    # Threads per server process for database work (see app.lifespan); more processes, few threads each.
    threads_per_worker: int = Field(default=2, ge=1, le=64)
    max_upload_bytes: int = 10 * 1024 * 1024
    max_description_chars: int = 4000
    # Auto-dispatch thresholds (rapid response).
    # Sources whose reports are dispatched without a person; empty: each source's own ``trusted`` flag
    # (cases/sources.py — inspectors and sensors).
    auto_dispatch_sources: str = ""
    auto_dispatch_min_confidence: float = 0.80
    # Notifications are also posted to these webhooks (comma separated); the sweeper runs
    # every N seconds (0 = off).
    webhook_urls: str = ""
    sweeper_interval_s: int = 60
    # The outbox (webhooks and other deliveries after commit): how often the delivery job runs, the longest
    # pause between retries, and after how many failed attempts a delivery is shown as failing.
    outbox_interval_s: float = Field(default=5.0, ge=0)
    outbox_max_backoff_s: float = Field(default=3600.0, gt=0)
    outbox_failing_after: int = Field(default=5, ge=1)
    log_json: bool = False  # JSON log lines (production)
    # Map tiles: a URL template for an intranet tile server; empty means draw grids and cases without tiles.
    tile_url: str = ""

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("生产环境必须设置 CIVICGRID_SECRET_KEY（不能使用默认密钥）")
        if self.env == "production" and not self.pii_keys:
            raise ValueError("生产环境必须设置 CIVICGRID_PII_KEYS（个人信息加密密钥）")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache
def get_settings() -> Settings:
    return Settings()
