"""Surface water quality class by GB 3838-2002 Table 1, single-factor method (SPEC §10). Pure module.

Each indicator gets the best class whose limit it meets (a value on a boundary belongs to the better class);
the section's class is the worst of its indicators; beyond class V is 劣V. Total phosphorus has river and
lake/reservoir limits. A pH outside 6–9 meets no class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CLASSES = ("I", "II", "III", "IV", "V", "劣V")
LABELS = {"I": "优", "II": "优", "III": "良好", "IV": "轻度污染", "V": "中度污染", "劣V": "重度污染"}
#: Display colours by 水质状况, as named in 《地表水环境质量评价办法（试行）》(环办〔2011〕22号):
#: 优 (I–II) 蓝色, 良好 (III) 绿色, 轻度污染 (IV) 黄色, 中度污染 (V) 橙色, 重度污染 (劣V) 红色.
#: The document names the colours only; these RGB values are CivicGrid's.
COLORS = {
    "I": "#1E6FD9",
    "II": "#1E6FD9",
    "III": "#1FA33A",
    "IV": "#FFD400",
    "V": "#FF8A00",
    "劣V": "#E02020",
}

# (limits for classes I..V, higher_is_better)
_LIMITS: dict[str, tuple[tuple[float, ...], bool]] = {
    "DO": ((7.5, 6, 5, 3, 2), True),
    "CODMn": ((2, 4, 6, 10, 15), False),
    "COD": ((15, 15, 20, 30, 40), False),
    "BOD5": ((3, 3, 4, 6, 10), False),
    "NH3-N": ((0.15, 0.5, 1.0, 1.5, 2.0), False),
    "TP": ((0.02, 0.1, 0.2, 0.3, 0.4), False),
}
_TP_LAKE = (0.01, 0.025, 0.05, 0.1, 0.2)
NAMES = (*_LIMITS, "pH")


@dataclass(frozen=True)
class WaterResult:
    water_class: str | None
    label: str | None
    per_indicator: Mapping[str, str]
    worst: tuple[str, ...]  # the indicators that set the class (定类指标)

    def as_json(self) -> dict[str, object]:
        return {
            "class": self.water_class,
            "label": self.label,
            "per_indicator": dict(self.per_indicator),
            "worst": list(self.worst),
        }


def indicator_class(name: str, value: float, *, lake: bool = False) -> str:
    if name == "pH":
        return "I" if 6 <= value <= 9 else "劣V"
    limits, higher_better = _LIMITS[name]
    if name == "TP" and lake:
        limits = _TP_LAKE
    for cls, limit in zip(CLASSES, limits, strict=False):
        if (value >= limit) if higher_better else (value <= limit):
            return cls
    return "劣V"


def classify(values: Mapping[str, float], *, lake: bool = False) -> WaterResult:
    """The section's class; unknown names raise ``KeyError``."""
    unknown = [n for n in values if n not in NAMES]
    if unknown:
        raise KeyError(unknown[0])
    per = {n: indicator_class(n, v, lake=lake) for n, v in values.items()}
    if not per:
        return WaterResult(None, None, {}, ())
    worst = max(per.values(), key=CLASSES.index)
    setters = tuple(n for n, c in per.items() if c == worst and n != "pH") or tuple(per)
    return WaterResult(worst, LABELS[worst], per, setters if worst != "I" else ())


def worse_than(actual: str, target: str) -> bool:
    """True when class ``actual`` is worse than the target class (e.g. IV worse than III)."""
    return CLASSES.index(actual) > CLASSES.index(target)
