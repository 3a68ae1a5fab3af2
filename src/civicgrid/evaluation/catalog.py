"""The vocabulary of evaluation: counts, ratios, averages, stages and units, with their Chinese labels.

Pure data. Which timestamp puts a case in a period is written next to each count (and in docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

# Counts: key -> label. Each is a per-case flag summed over a unit (see indicators.py for the SQL).
COUNTS: dict[str, str] = {
    "insp_reports": "监督员上报数",  # received_at in period, source = inspector
    "insp_reports_valid": "有效上报数",  # … and registered (立案)
    "missed": "漏报数",  # received_at in period, public source, verified true
    "verified": "核实数",  # verified_at in period
    "verified_on_time": "按期核实数",  # … verified_at <= verify_due_at (sent + 1 h)
    "checked": "核查数",  # checked_at in period
    "checked_on_time": "按期核查数",  # … checked_at <= check_due_at (sent + 1 h)
    "verify_sent": "派核实数",  # verify_sent_at in period
    "verify_sent_on_time": "按时派核实数",  # … within stage_limits.send_verify of receipt
    "check_sent": "派核查数",  # check_sent_at in period
    "check_sent_on_time": "按时派核查数",  # … within stage_limits.send_check of the last feedback
    "accepted": "受理数",  # 派核实数 + 派核查数
    "registered": "立案数",  # registered_at in period
    "registered_on_time": "按时立案数",  # … registered_at <= 立案派遣 due
    "registered_voided": "立案后作废数",  # … and later voided
    "registered_public": "公众举报立案数",  # … from a public source (citizen, hotline, open311)
    "dispatched": "应派遣数",  # first dispatched_at in period
    "dispatched_on_time": "按期派遣数",  # … dispatched_at <= 立案派遣 due
    "dispatched_returned": "回退数",  # … and returned at least once
    "due": "应处置数",  # evaluation moment (earlier of due_at and final disposal) in period; not held
    "disposed": "处置数",  # … finally disposed (last feedback) before the cut
    "disposed_on_time": "按期处置数",  # … disposed no later than due_at (extensions included)
    "overdue": "超期案件数",  # … not disposed on time
    "overdue_open": "超时未处置数",  # … not disposed at all, due time passed
    "should_close": "应结案数",  # 处置数 + 超时未处置数
    "closed": "结案数",  # … closed before the cut
    "closed_on_time": "按期结案数",  # … closed no later than due_at
    "reworked": "返工案件数",  # disposed cases with rework_count > 0
    "closes": "结案操作数",  # closed_at in period, by the closing shift lead
    "closes_on_time": "按时结案数",  # … within stage_limits.close of the passed check
    "rated": "评价数",  # closed_at in period and rated
    "satisfied": "满意评价数",  # … rating 4 or 5
}


@dataclass(frozen=True)
class Ratio:
    key: str
    label: str
    numerator: tuple[str, ...]  # summed counts (a leading "-" subtracts)
    denominator: tuple[str, ...]


RATIOS: tuple[Ratio, ...] = (
    Ratio("disposal_rate", "处置率", ("disposed",), ("due",)),
    Ratio("disposal_on_time_rate", "按期处置率", ("disposed_on_time",), ("due",)),
    Ratio("close_rate", "结案率", ("closed",), ("should_close",)),
    Ratio("close_on_time_rate", "按期结案率", ("closed_on_time",), ("should_close",)),
    Ratio("rework_rate", "返工率", ("reworked",), ("disposed",)),
    Ratio("overdue_rate", "超期率", ("overdue",), ("due",)),
    Ratio("satisfaction_rate", "满意率", ("satisfied",), ("rated",)),
    Ratio("register_on_time_rate", "按时立案率", ("registered_on_time",), ("registered",)),
    Ratio("register_accuracy_rate", "准确立案率", ("registered", "-registered_voided"), ("registered",)),
    Ratio("dispatch_on_time_rate", "按期派遣率", ("dispatched_on_time",), ("dispatched",)),
    Ratio("dispatch_accuracy_rate", "准确派遣率", ("dispatched", "-dispatched_returned"), ("dispatched",)),
    Ratio("effective_report_rate", "有效上报率", ("insp_reports_valid",), ("insp_reports",)),
    Ratio("verify_on_time_rate", "按期核实率", ("verified_on_time",), ("verified",)),
    Ratio("check_on_time_rate", "按期核查率", ("checked_on_time",), ("checked",)),
    Ratio("missed_rate", "漏报率", ("missed",), ("insp_reports_valid", "missed")),
    Ratio("verify_send_on_time_rate", "核实按时派发率", ("verify_sent_on_time",), ("verify_sent",)),
    Ratio("check_send_on_time_rate", "核查按时派发率", ("check_sent_on_time",), ("check_sent",)),
    Ratio("lead_close_on_time_rate", "按时结案率", ("closes_on_time",), ("closes",)),
    Ratio("public_report_rate", "监督举报率", ("registered_public",), ("registered",)),
)
RATIO_BY_KEY: dict[str, Ratio] = {r.key: r for r in RATIOS}

AVERAGES: dict[str, str] = {"avg_disposal_wmin": "平均处置时长（工作分钟）"}

# Stages of the loop: key -> (label, start column, end column). A stage belongs to the period of its end.
STAGES: dict[str, tuple[str, str, str]] = {
    "stage_register": ("受理→立案", "received_at", "registered_at"),
    "stage_dispatch": ("立案→派遣", "registered_at", "dispatched_at"),
    "stage_sign": ("派遣→签收", "dispatched_at", "signed_at"),
    "stage_feedback": ("签收→反馈", "signed_at", "feedback_at"),
    "stage_check": ("反馈→核查", "feedback_at", "checked_at"),
    "stage_close": ("核查→结案", "checked_at", "closed_at"),
}

INDICATOR_LABELS: dict[str, str] = {r.key: r.label for r in RATIOS} | AVERAGES
# Indicators an administrator may name in a weights file, by key or by Chinese label.
SCORABLE: dict[str, str] = {r.key: r.label for r in RATIOS}


@dataclass(frozen=True)
class Attribution:
    """Which column names the unit for which counts (and stages), with an optional row filter."""

    key: str
    counts: tuple[str, ...]
    where: str = "TRUE"
    stages: tuple[str, ...] = ()


AREA_UNITS = ("street", "community", "grid")
PEOPLE_UNITS = ("inspector", "operator", "shift_lead", "dispatcher")
UNITS = ("department", *AREA_UNITS, *PEOPLE_UNITS)
UNIT_LABELS: dict[str, str] = {
    "district": "全区",
    "department": "专业部门",
    "street": "街道",
    "community": "社区",
    "grid": "单元网格",
    "inspector": "监督员",
    "operator": "受理员",
    "shift_lead": "值班长",
    "dispatcher": "派遣员",
}

_ALL_COUNTS = tuple(k for k in COUNTS if k != "accepted")
_ALL_STAGES = tuple(STAGES)

# The missed-report (漏报) attribution of inspectors without a coverage table: the inspector who verified it.
ATTRIBUTIONS: dict[str, tuple[Attribution, ...]] = {
    "district": (Attribution("'全区'", _ALL_COUNTS, stages=_ALL_STAGES),),
    "department": (Attribution("department_code", _ALL_COUNTS, stages=_ALL_STAGES),),
    "street": (Attribution("street_code", _ALL_COUNTS, stages=_ALL_STAGES),),
    "community": (Attribution("community_code", _ALL_COUNTS, stages=_ALL_STAGES),),
    "grid": (Attribution("grid_code", _ALL_COUNTS, stages=_ALL_STAGES),),
    "inspector": (
        Attribution("reporter_user_id", ("insp_reports", "insp_reports_valid"), "source = 'inspector'"),
        Attribution("verify_by", ("verified", "verified_on_time")),
        Attribution("check_by", ("checked", "checked_on_time"), stages=("stage_check",)),
        Attribution("verify_by", ("missed",)),
    ),
    "operator": (
        Attribution("send_verify_by", ("verify_sent", "verify_sent_on_time")),
        Attribution("send_check_by", ("check_sent", "check_sent_on_time")),
    ),
    "shift_lead": (
        Attribution(
            "register_by",
            ("registered", "registered_on_time", "registered_voided"),
            stages=("stage_register",),
        ),
        Attribution("close_by", ("closes", "closes_on_time"), stages=("stage_close",)),
    ),
    "dispatcher": (
        Attribution(
            "dispatch_by",
            ("dispatched", "dispatched_on_time", "dispatched_returned"),
            stages=("stage_dispatch",),
        ),
    ),
}
