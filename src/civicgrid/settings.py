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
    # Cipher for new ciphertexts of personal data: Fernet (AES-128-CBC + HMAC) or SM4-GCM (国密, GB/T 39786);
    # every ciphertext names its cipher and key, so rows of both kinds decrypt (``civicgrid pii rotate``).
    pii_cipher: Literal["fernet", "sm4-gcm"] = "fernet"
    # Key of the audit chains' MACs and of the signed checkpoints; kept out of the database (required in
    # production; development and test derive one from the secret key). See security/chain.py.
    audit_key: str = ""
    audit_mac: Literal["hmac-sha256", "hmac-sm3"] = "hmac-sha256"
    # Signed checkpoints of the chain heads (outside the database); empty = <data_dir>/audit-anchors.
    audit_anchor_dir: Path | None = None
    # Minutes between scheduled checkpoints (the audit-checkpoint job; 0 = only backup and the command).
    audit_checkpoint_interval_min: int = Field(default=15, ge=0)
    timezone: str = "Asia/Shanghai"
    grid_digits: Literal[2, 3] = 2
    district_code: str = "320508"
    token_minutes: int = Field(default=8 * 60, ge=1)
    # Other sites whose pages may POST to /api and /open311 from a browser (comma separated origins, e.g.
    # "https://app.example.gov.cn"); this site itself is always allowed. See org/csrf.py.
    trusted_origins: str = ""
    sqlite_busy_timeout_ms: int = 10_000
    # How long a worker process may serve reference data (names, grids, users' roles) from memory before
    # re-reading it; edits made by the same process are seen at once (see refcache.py).
    reference_cache_s: float = 5.0
    # Threads per server process for database work (see app.lifespan); more processes, few threads each.
    threads_per_worker: int = Field(default=2, ge=1, le=64)
    # Seconds a client may take to send a request's line and headers (slowloris guard, ops/head_timeout.py);
    # past it the connection gets 408 and is closed.
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    max_upload_bytes: int = 10 * 1024 * 1024
    # Photos: how many are decoded at once per process (each may take ~160 MB at the 40 M-pixel limit), how
    # many photos one anonymous client may store per hour, and after how many hours an upload never attached
    # to a case is deleted (see storage/files.py).
    image_workers: int = Field(default=2, ge=1, le=32)
    anonymous_uploads_per_hour: int = Field(default=60, ge=1)
    upload_orphan_hours: int = Field(default=24, ge=1)
    # Bodies other than multipart uploads (JSON, forms): refused with 413 past this size, while being read.
    max_json_bytes: int = Field(default=1024 * 1024, ge=1024)
    # JSON bodies larger than this are parsed on a worker thread instead of the event loop.
    json_inline_bytes: int = Field(default=8 * 1024, ge=0)
    max_description_chars: int = 4000
    # Anonymous tracking codes (查询码, security/codes.py): the HMAC key of their stored digests; empty
    # derives one from secret_key for this purpose. Set it once, before the first report: changing it (or
    # secret_key while it is empty) makes every issued code stop working.
    tracking_code_key: str = ""
    # Failed code attempts allowed per case number (in the database, across processes) and per client address
    # (per process) within the window; past either, tracking answers 429 with Retry-After.
    code_failures_per_case: int = Field(default=5, ge=1)
    code_failures_per_client: int = Field(default=20, ge=1)
    code_failure_window_s: int = Field(default=900, ge=1)
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
    # Bearer token that Prometheus must send to read /metrics; empty = /metrics answers only clients on this
    # machine (loopback, not forwarded by a proxy). See ops/observe.py.
    metrics_token: str = ""
    # Map tiles: a URL template for an intranet tile server; empty means draw grids and cases without tiles.
    # (Older name of map_tiles_url, still read when map_tiles_url is empty.)
    tile_url: str = ""
    # The base map (docs/web.md "Maps"). Without a tile URL every map draws the offline vector base map from
    # the database (streets, community names, roads, landmarks) and no tile request is ever made. With one,
    # e.g. an intranet 天地图 "http://tdt.gov.local/vec_w/wmts?...&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
    # tiles are drawn under the same layers. map_tiles_crs says which coordinates the tiles use: wgs84
    # (also 天地图's CGCS2000, within centimetres of WGS84) or gcj02 (AMap, Tencent): every WGS84 point drawn
    # is then shifted to GCJ-02 and every point picked is shifted back.
    map_tiles_url: str = ""
    map_tiles_attribution: str = ""
    map_tiles_crs: Literal["wgs84", "gcj02"] = "wgs84"
    map_tiles_subdomains: str = ""  # the letters that replace {s} in the URL, e.g. "01234567"
    map_tiles_max_zoom: int = Field(default=18, ge=1, le=22)
    # The public map of reports (/map): category codes (or prefixes) never shown there — by default 社会治理
    # (E08: neighbour disputes and the like point at households) — and for how many days a closed report
    # stays on it.
    public_map_hidden_categories: str = "E08"
    public_map_days: int = Field(default=30, ge=1, le=366)
    # The wall screen (/wall): seconds between refreshes and between rotating panels.
    wall_refresh_s: int = Field(default=30, ge=5, le=3600)
    wall_rotate_s: int = Field(default=20, ge=5, le=3600)
    # A streaming replica for the leader dashboard and analytics reads (see replica.py); empty = the primary.
    # Past read_max_lag_s behind, or unreachable (retried after read_retry_s), those reads go to the primary.
    read_database_url: str = ""
    read_max_lag_s: float = Field(default=30.0, gt=0)
    read_retry_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("生产环境必须设置 CIVICGRID_SECRET_KEY（不能使用默认密钥）")
        if self.env == "production" and not self.pii_keys:
            raise ValueError("生产环境必须设置 CIVICGRID_PII_KEYS（个人信息加密密钥）")
        if self.env == "production" and (not self.audit_key or self.audit_key == self.secret_key):
            raise ValueError("生产环境必须设置 CIVICGRID_AUDIT_KEY（审计链密钥，且不能与 SECRET_KEY 相同）")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def tiles_url(self) -> str:
        """The base map's tile URL template ('' = offline vector base map only)."""
        return self.map_tiles_url or self.tile_url

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def anchor_dir(self) -> Path:
        return self.audit_anchor_dir or self.data_dir / "audit-anchors"


@lru_cache
def get_settings() -> Settings:
    return Settings()
