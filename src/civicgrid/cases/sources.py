"""Where reports come from: one vocabulary of sources (渠道), with who may claim each, whether its reports
are trusted enough to be dispatched without a person (快速反应), how duplicates are found, and whether it
counts as a public report (公众举报) in the evaluation. Core sources are below; a domain adds its own
(``Domain.sources``: sensors, river patrols, the 12345 hotline's work orders …) without editing this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from civicgrid import domains
from civicgrid.errors import Forbidden, InvalidInput
from civicgrid.org.roles import Principal
from civicgrid.settings import get_settings

Dedupe = Literal["nearby", "none"]  # nearby: same category within the radius and window (cases/dedupe.py)


@dataclass(frozen=True)
class Source:
    code: str
    label: str
    roles: frozenset[str] = frozenset()  # who may claim it; empty: anyone, anonymous citizens included
    trusted: bool = False  # its reports are registered and dispatched automatically
    dedupe: Dedupe = "nearby"
    public: bool = False  # a report by the public (公众举报率)


def _roles(text: str) -> frozenset[str]:
    return frozenset(text.split())


CORE_SOURCES: tuple[Source, ...] = (
    Source("citizen", "市民上报", public=True),
    Source("inspector", "监督员上报", _roles("inspector"), trusted=True),
    Source("hotline", "12345热线", _roles("operator shift_lead"), public=True),
    Source("open311", "Open311接口", _roles("system"), public=True),  # set by the Open311 adapter only
    Source("sensor", "物联感知", _roles("admin system"), trusted=True),
    Source("operator", "受理员录入", _roles("operator shift_lead")),
)


def all_sources() -> dict[str, Source]:
    out = {s.code: s for s in CORE_SOURCES}
    for s in domains.each("sources"):
        out.setdefault(s.code, s)
    return out


def get(code: str) -> Source:
    sources = all_sources()
    if code not in sources:
        raise InvalidInput(f"未知的来源（source）：{code}，应为 {'、'.join(sources)} 之一")
    return sources[code]


def label(code: str) -> str:
    s = all_sources().get(code)
    return s.label if s else code


def check_claim(actor: Principal, code: str) -> Source:
    """May ``actor`` report under this source? (A citizen cannot pose as an inspector or a sensor.)"""
    source = get(code)
    if source.roles and not actor.has_any(source.roles):
        raise Forbidden(f"您不能以「{source.label}」来源上报")
    return source


def trusted(code: str) -> bool:
    """Auto-dispatch without a person: the source's own trust, unless ``CIVICGRID_AUTO_DISPATCH_SOURCES``
    names the trusted sources explicitly."""
    listed = get_settings().auto_dispatch_sources.strip()
    if listed:
        return code in {x.strip() for x in listed.split(",")}
    s = all_sources().get(code)
    return bool(s and s.trusted)


def public_codes() -> tuple[str, ...]:
    return tuple(code for code, s in all_sources().items() if s.public)
