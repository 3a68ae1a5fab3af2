"""Score weights, volume bands (分值) and grade cut-offs: data shipped in
``civicgrid/data/evaluation_weights.json``,
validated on load, overridable by an administrator (a settings path or the API's PUT).

Where the configuration comes from, first match wins:

1. an explicit path given to :func:`load_weights`;
2. ``CIVICGRID_EVALUATION_WEIGHTS`` (a JSON file path);
3. ``<CIVICGRID_DATA_DIR>/evaluation_weights.json`` (written by :func:`save_weights`, i.e. the API's PUT);
4. the shipped file.
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civicgrid.errors import InvalidInput
from civicgrid.evaluation.catalog import COUNTS, SCORABLE, UNIT_LABELS, UNITS

SHIPPED_FILE = "evaluation_weights.json"
ENV_PATH = "CIVICGRID_EVALUATION_WEIGHTS"
_LABEL_TO_KEY = {label: key for key, label in SCORABLE.items()}
_COUNT_LABEL_TO_KEY = {label: key for key, label in COUNTS.items()}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Grade(_Strict):
    grade: str = Field(min_length=1, max_length=2)
    min: float


class BandStep(_Strict):
    from_: int = Field(alias="from")
    score: float


class Band(_Strict):
    label: str = ""
    steps: list[BandStep]

    def score(self, value: float) -> float:
        """The score of the last step whose lower bound is at or below ``value``."""
        result = self.steps[0].score
        for step in self.steps:
            if value >= step.from_:
                result = step.score
        return result


class Term(_Strict):
    weight: float
    indicator: str | None = None
    invert: bool = False
    band: str | None = None
    count: str | None = None


class UnitWeights(_Strict):
    label: str = ""
    terms: list[Term]


class StageLimits(_Strict):
    send_verify: float = 10
    send_check: float = 10
    close: float = 30


class WeightsConfig(_Strict):
    version: int = 1
    note: str = ""
    grades: list[Grade]
    stage_limits_minutes: StageLimits = StageLimits()
    bands: dict[str, Band]
    units: dict[str, UnitWeights]

    def grade_of(self, score: float | None) -> str | None:
        if score is None:
            return None
        for g in self.grades:
            if score >= g.min - 1e-9:
                return g.grade
        return self.grades[-1].grade

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


def _problems(cfg: WeightsConfig) -> list[str]:
    out: list[str] = []
    mins = [g.min for g in cfg.grades]
    if not cfg.grades:
        out.append("等级线（grades）不能为空")
    else:
        if any(b >= a for a, b in pairwise(mins)):
            out.append("等级线必须按分数从高到低排列且互不相同，例如 A 90、B 75、C 60、D 40、E 0")
        if mins[-1] != 0:
            out.append(f"最低一档等级（{cfg.grades[-1].grade}）的下限应为 0，实际为 {mins[-1]:g}")
        if len({g.grade for g in cfg.grades}) != len(cfg.grades):
            out.append("等级名称不能重复")
    for name, band in cfg.bands.items():
        label = band.label or name
        if not band.steps:
            out.append(f"分值档「{label}」没有任何档位")
            continue
        starts = [s.from_ for s in band.steps]
        if starts[0] != 0:
            out.append(f"分值档「{label}」的第一档应从 0 开始，实际从 {starts[0]} 开始")
        if any(b <= a for a, b in pairwise(starts)):
            out.append(f"分值档「{label}」的下限必须严格递增")
        for s in band.steps:
            if not 0 <= s.score <= 100:
                out.append(f"分值档「{label}」中 {s.from_} 起的分值应在 0–100 之间，实际为 {s.score:g}")
    limits = cfg.stage_limits_minutes
    for field, value in (
        ("send_verify", limits.send_verify),
        ("send_check", limits.send_check),
        ("close", limits.close),
    ):
        if not (math.isfinite(value) and value > 0):
            out.append(f"环节时限 stage_limits_minutes.{field} 应为正数（分钟），实际为 {value:g}")
    missing = [UNIT_LABELS[u] for u in UNITS if u not in cfg.units]
    if missing:
        out.append(f"缺少以下评价对象的权重：{'、'.join(missing)}")
    for unit, uw in cfg.units.items():
        ulabel = UNIT_LABELS.get(unit)
        if ulabel is None:
            out.append(f"未知的评价对象：{unit}（可选 {'、'.join(UNITS)}）")
            continue
        if not uw.terms:
            out.append(f"「{ulabel}」至少需要一个评分项")
            continue
        for i, term in enumerate(uw.terms, start=1):
            where = f"「{ulabel}」第 {i} 项"
            if not (math.isfinite(term.weight) and term.weight > 0):
                out.append(f"{where}的权重应为正数，实际为 {term.weight:g}")
            if (term.indicator is None) == (term.band is None):
                out.append(f"{where}必须且只能指定 indicator（比率指标）或 band（分值档）之一")
            elif term.indicator is not None and term.indicator not in SCORABLE:
                out.append(f"{where}的指标「{term.indicator}」不存在，可选：{'、'.join(SCORABLE.values())}")
            elif term.band is not None:
                if term.band not in cfg.bands:
                    out.append(f"{where}引用的分值档「{term.band}」未定义")
                if term.count not in COUNTS:
                    out.append(f"{where}的计数「{term.count}」不存在，可选：{'、'.join(COUNTS.values())}")
        total = sum(t.weight for t in uw.terms)
        if abs(total - 100) > 1e-6:
            out.append(f"「{ulabel}」的权重之和应为 100，实际为 {total:g}")
    return out


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Accept Chinese labels for indicators and counts (``"按期处置率"``) as well as keys."""
    units = raw.get("units")
    if isinstance(units, dict):
        for uw in units.values():
            for term in uw.get("terms", []) if isinstance(uw, dict) else []:
                if isinstance(term, dict):
                    if term.get("indicator") in _LABEL_TO_KEY:
                        term["indicator"] = _LABEL_TO_KEY[term["indicator"]]
                    if term.get("count") in _COUNT_LABEL_TO_KEY:
                        term["count"] = _COUNT_LABEL_TO_KEY[term["count"]]
    return raw


def validate_weights(raw: Any) -> WeightsConfig:
    """Validate a weights document; any problem raises :class:`InvalidInput` with every message in Chinese."""
    if not isinstance(raw, dict):
        raise InvalidInput("权重配置应为 JSON 对象")
    try:
        cfg = WeightsConfig.model_validate(_normalise(json.loads(json.dumps(raw))))
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e.get("loc", ()))
            kind = e.get("type", "")
            msg = {
                "missing": "缺少该项",
                "extra_forbidden": "不认识的字段",
                "float_parsing": "应为数字",
                "int_parsing": "应为整数",
                "bool_parsing": "应为 true 或 false",
                "string_type": "应为文本",
                "list_type": "应为列表",
                "dict_type": "应为对象",
            }.get(kind, str(e.get("msg", "")))
            parts.append(f"{loc}：{msg}")
        raise InvalidInput("权重配置格式有误：" + "；".join(parts), problems=parts) from None
    problems = _problems(cfg)
    if problems:
        raise InvalidInput("权重配置有误：" + "；".join(problems), problems=problems)
    return cfg


def _read(path: Path) -> WeightsConfig:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"找不到权重配置文件：{path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"权重配置文件 {path} 不是有效的 JSON：{exc}") from None
    return validate_weights(raw)


@lru_cache
def shipped_weights() -> WeightsConfig:
    text = resources.files("civicgrid.data").joinpath(SHIPPED_FILE).read_text(encoding="utf-8")
    return validate_weights(json.loads(text))


def override_path() -> Path:
    """Where an administrator's weights live: the settings path, else the data directory."""
    env = os.environ.get(ENV_PATH)
    if env:
        return Path(env)
    from civicgrid.settings import get_settings

    return get_settings().data_dir / SHIPPED_FILE


_cache: dict[tuple[str, float], WeightsConfig] = {}


def load_weights(path: Path | None = None) -> WeightsConfig:
    """The weights in force (cached per file and modification time)."""
    target = path or override_path()
    if path is None and not target.exists():
        return shipped_weights()
    key = (str(target), target.stat().st_mtime if target.exists() else 0.0)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _read(target)
    return _cache[key]


def save_weights(raw: Any, path: Path | None = None) -> WeightsConfig:
    """Validate and store an administrator's weights; return what is now in force."""
    cfg = validate_weights(raw)
    target = path or override_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(cfg.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(target)
    _cache.clear()
    return cfg
