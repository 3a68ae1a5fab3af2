"""Posting notifications to configured webhooks (an intranet message bus, a WeCom/DingTalk bridge…)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from civicgrid.settings import get_settings

log = logging.getLogger("civicgrid.webhooks")


def post_supervisions(items: list[dict[str, Any]]) -> int:
    urls = [u.strip() for u in get_settings().webhook_urls.split(",") if u.strip()]
    sent = 0
    for url in urls:
        try:
            r = httpx.post(url, json={"type": "supervision", "items": items}, timeout=5.0)
            r.raise_for_status()
            sent += 1
        except httpx.HTTPError as exc:
            log.warning("webhook %s failed: %s", url, exc)
    return sent
