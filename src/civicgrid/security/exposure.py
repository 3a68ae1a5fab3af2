"""Refusing to expose an insecure default (issue 11, defect 14): a development install with the well-known
default secret (which also derives the PII key and, without CIVICGRID_AUDIT_KEY, the audit key) must not
listen on an address other machines can reach. Pure: the CLI decides what to do with the answer."""

from __future__ import annotations

import ipaddress

from civicgrid.settings import DEFAULT_SECRET


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name (or "" = every interface): it may resolve anywhere


def insecure_bind_reason(host: str, secret_key: str) -> str | None:
    """Why serving on ``host`` with ``secret_key`` is unsafe, or None when it is fine."""
    if secret_key != DEFAULT_SECRET or is_loopback(host):
        return None
    return (
        f"拒绝在 {host or '所有网卡'} 上提供服务：当前使用公开的默认密钥（未设置 CIVICGRID_SECRET_KEY），"
        "任何人都能伪造登录令牌、解密报告人的个人信息。请设置 CIVICGRID_SECRET_KEY、CIVICGRID_PII_KEYS 和 "
        "CIVICGRID_AUDIT_KEY（正式部署还要设 CIVICGRID_ENV=production），或只监听 127.0.0.1；"
        "仅供内网演示时可加 --insecure-demo。"
    )
