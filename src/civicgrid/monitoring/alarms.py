"""Rules → cases (SPEC §10): a station's closed windows fed to its episodes, an exceedance opening one case.

After an hourly packet's readings are stored (``service.store_packet``), :func:`after_store` judges that hour
against every rule in force for the station's kind (``rules.verdict``) and feeds each episode
(``rules.step``):
- ``open``: one case through the normal intake — source ``sensor``, at the station, the rule's category and
  urgency, a Chinese description naming the station, its MN, the values and the rule, and a chart of the last
  day's windows attached — then rapid response registers and dispatches it like any trusted report;
- ``add``: a note on the open case with the new values; ``recovered``: a note that the values are back to
  normal for as many windows as it took to open.
When the case is closed or voided (:func:`on_case_event`, a case-event subscriber) the episode ends and the
next exceedance must run its windows again. ``station-silence`` (:func:`silence_job`) opens an equipment case
for an active station silent for 3 × its interval, once, and notes its recovery when it speaks again.
Episodes are fed each window once, in order: a resent or late packet changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases import attachments
from civicgrid.cases.events import append_event
from civicgrid.cases.intake import ReportIn, report
from civicgrid.cases.rapid import respond
from civicgrid.models import Case, CaseEvent, Reading, Station, StationEpisode, StationRule, utcnow
from civicgrid.monitoring import chart, rules
from civicgrid.monitoring.hj212 import Packet
from civicgrid.monitoring.readings import LOCAL, WINDOWS
from civicgrid.monitoring.stations import KINDS
from civicgrid.org.roles import Principal

log = logging.getLogger(__name__)

NOTE_ACTION = "sensor_note"  # a case event written by the monitoring rules (no change of state)
WINDOW_SPAN = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
WINDOW_WORDS = {"hour": "小时", "day": "日", "realtime": "周期"}
CHART_WINDOWS = 24  # the chart shows the last day of hourly windows
ENDING_STATES = frozenset({"closed", "voided"})


def rule_of(row: StationRule) -> rules.Rule:
    return rules.Rule(
        row.code,
        row.station_kind,
        row.measure,
        row.window,  # type: ignore[arg-type]
        row.threshold,
        row.consecutive,
        row.category_code,
        row.urgent,
        row.label,
    )


def rules_in_force(session: Session, kind: str, window: str) -> list[rules.Rule]:
    rows = session.scalars(
        select(StationRule)
        .where(StationRule.enabled.is_(True), StationRule.window == window)
        .order_by(StationRule.code)
    )
    return [r for r in map(rule_of, rows) if rules.applies(r, kind)]


def facts(station: Station) -> rules.StationFacts:
    limits = {str(k): float(v) for k, v in (station.permit_limits or {}).items()}
    return rules.StationFacts(station.kind, station.target_class, station.lake, limits)


def device(station: Station) -> Principal:
    """The station as the actor of its reports and notes (automation: the ``system`` role)."""
    return Principal(
        user_id=None,
        username=f"station:{station.mn}"[:64],
        display_name=f"{station.name}（{station.mn}）"[:100],
        roles=frozenset({"system"}),
    )


def _local(at: datetime) -> datetime:
    return at.astimezone(LOCAL)


# --- After a packet is stored -------------------------------------------------------------------------------


def after_store(session: Session, station: Station, packet: Packet) -> None:
    """Judge the window a stored data packet closed. Runs in a savepoint: whatever goes wrong here is logged
    and rolled back alone, and the readings are kept (a station's data is never lost to a rule)."""
    window = WINDOWS.get(packet.cn or "")
    if window != "hour" or packet.data_time is None:
        return
    at = packet.data_time.replace(tzinfo=LOCAL).astimezone(ZoneInfo("UTC"))
    try:
        with session.begin_nested():
            evaluate(session, station, "hour", at)
    except Exception:
        log.exception("monitoring rules failed for station %s at %s", station.mn, at.isoformat())


def _values(
    session: Session, station_id: int, window: str, since: datetime, until: datetime
) -> dict[datetime, list[rules.WindowValue]]:
    rows = session.execute(
        select(Reading.at, Reading.code, Reading.value, Reading.flag).where(
            Reading.station_id == station_id,
            Reading.window == window,
            Reading.at >= since,
            Reading.at <= until,
        )
    )
    out: dict[datetime, list[rules.WindowValue]] = {}
    for at, code, value, flag in rows:
        out.setdefault(at, []).append(rules.WindowValue(code, value, flag or "N"))
    return out


def evaluate(
    session: Session, station: Station, window: str, at: datetime, *, now: datetime | None = None
) -> list[str]:
    """Feed the closed window starting at ``at`` to the station's episodes; returns the actions taken."""
    in_force = rules_in_force(session, station.kind, window)
    if not in_force:
        return []
    values = _values(session, station.id, window, at, at).get(at, [])
    day = _local(at).date()
    done = []
    for rule in in_force:
        v = rules.verdict(rule, facts(station), values, day)
        action = feed(session, station, rule, v, at, now=now or utcnow())
        if action:
            done.append(f"{rule.code}:{action}")
    return done


# --- Episodes -----------------------------------------------------------------------------------------------


def current(session: Session, station_id: int, rule_code: str) -> StationEpisode | None:
    return session.scalar(
        select(StationEpisode).where(
            StationEpisode.station_id == station_id,
            StationEpisode.rule_code == rule_code,
            StationEpisode.ended_at.is_(None),
        )
    )


def _episode(row: StationEpisode | None) -> rules.Episode:
    if row is None:
        return rules.Episode()
    return rules.Episode(row.open, row.recovered, row.over_run, row.normal_run)


def feed(
    session: Session,
    station: Station,
    rule: rules.Rule,
    v: rules.Verdict,
    at: datetime,
    *,
    now: datetime,
    row: StationEpisode | None = None,
    known: bool = False,
) -> str | None:
    """One window's verdict into the station's episode on ``rule``; acts on the step. Returns the action."""
    if not known:
        row = current(session, station.id, rule.code)
    if row is not None and row.last_at is not None and at <= row.last_at:
        return None  # this window (or a later one) was judged already
    ep = _episode(row)
    span = WINDOW_SPAN.get(rule.window)
    if row is not None and row.last_at is not None and span is not None and at - row.last_at > span:
        ep = replace(ep, over_run=0, normal_run=0)  # a missing window breaks a run of consecutive ones
    step = rules.step(ep, v.exceeded, rule.consecutive)
    if row is None:
        if not step.episode.open and step.episode.over_run == 0:
            return None  # nothing to remember: a station within its limits keeps no row
        row = StationEpisode(station_id=station.id, rule_code=rule.code, over_run=0, normal_run=0)
        row.open = row.recovered = False
        session.add(row)
    was_recovered = row.recovered
    row.open, row.recovered = step.episode.open, step.episode.recovered
    row.over_run, row.normal_run = step.episode.over_run, step.episode.normal_run
    row.last_at = at
    if step.action == "open":
        case = open_case(session, station, rule, v, at, now=now)
        row.case_id, row.opened_at = case.id, now
    elif step.action == "add" and row.case_id is not None:
        if rule.window != "realtime" or was_recovered:  # silence: only a new silence after a recovery
            again = "再次" if was_recovered else "持续"
            what = "异常" if rule.measure in ("silence", "fault") else "超标"
            _note(session, row.case_id, station, rule, f"{again}{what}：{v.detail}", v, at, now)
    elif step.action == "recovered" and row.case_id is not None:
        words = (
            f"连续 {rule.consecutive} 个{WINDOW_WORDS.get(rule.window, '周期')}"
            if rule.window != "realtime"
            else ""
        )
        _note(
            session,
            row.case_id,
            station,
            rule,
            f"已恢复：{words}数据正常（{v.detail}），请处置部门反馈",
            v,
            at,
            now,
        )
    session.flush()
    return step.action


def end(session: Session, row: StationEpisode, now: datetime) -> None:
    ended = rules.closed(_episode(row))
    row.open, row.recovered = ended.open, ended.recovered
    row.ended_at = now


def on_case_event(session: Session, case: Case, event: CaseEvent) -> None:
    """Case-event subscriber: the case of an episode was closed (or voided): the episode ends."""
    if event.to_state not in ENDING_STATES or event.from_state == event.to_state:
        return
    rows = session.scalars(
        select(StationEpisode).where(StationEpisode.case_id == case.id, StationEpisode.ended_at.is_(None))
    )
    for row in rows:
        end(session, row, event.created_at)


# --- The case and its notes ---------------------------------------------------------------------------------


def _when(rule: rules.Rule, at: datetime) -> str:
    local = _local(at)
    if rule.window == "hour":
        return f"{local:%Y-%m-%d %H:00}–{(local + timedelta(hours=1)):%H:00}"
    if rule.window == "day":
        return f"{local:%Y-%m-%d}"
    return f"{local:%Y-%m-%d %H:%M}"


def describe(station: Station, rule: rules.Rule, v: rules.Verdict, at: datetime) -> str:
    kind = KINDS.get(station.kind, ("", station.kind))[1]
    return (
        f"【在线监测】{station.name}（MN {station.mn}，{kind}站）{_when(rule, at)}：{v.detail}。"
        f"触发规则「{rule.label}」（{rule.code}）。"
    )


def open_case(
    session: Session, station: Station, rule: rules.Rule, v: rules.Verdict, at: datetime, *, now: datetime
) -> Case:
    """The episode's case, through the normal intake; returns the case that carries the work (its master
    when rapid response merged it into a nearby open case of the same category)."""
    who = device(station)
    result = report(
        session,
        ReportIn(
            description=describe(station, rule, v, at),
            lng=station.lng,
            lat=station.lat,
            category_code=rule.category_code,
            source="sensor",
            address=station.name,
        ),
        who,
        now=now,
        rapid=False,
    )
    case = result.case
    case.urgent = case.urgent or rule.urgent
    png = chart_of(session, station, rule, at)
    if png is not None:
        attachments.add(session, case, "report", png, filename=f"{station.mn}-{rule.code}.png")
    respond(session, case, now=now)
    if case.master_case_id is not None and case.state == "merged":
        master = session.get(Case, case.master_case_id)
        if master is not None:
            return master
    return case


def _note(
    session: Session,
    case_id: int,
    station: Station,
    rule: rules.Rule,
    text: str,
    v: rules.Verdict,
    at: datetime,
    now: datetime,
) -> None:
    case = session.get(Case, case_id)
    if case is None:
        return
    append_event(
        session,
        case,
        action=NOTE_ACTION,
        actor=device(station),
        role="system",
        from_state=case.state,
        to_state=case.state,
        now=now,
        note=f"{station.name}（MN {station.mn}）{_when(rule, at)} {text}",
        data={
            "station": station.mn,
            "rule": rule.code,
            "at": at.isoformat(),
            "value": v.value,
            "limit": v.limit,
            "exceeded": v.exceeded,
        },
    )


def chart_of(session: Session, station: Station, rule: rules.Rule, at: datetime) -> bytes | None:
    """The last day of the rule's windows up to ``at`` as a bar chart (None for rules without values)."""
    span = WINDOW_SPAN.get(rule.window)
    if span is None or rule.measure == "fault":
        return None
    since = at - span * (CHART_WINDOWS - 1)
    by_at = _values(session, station.id, rule.window, since, at)
    st = facts(station)
    bars, limit = [], None
    for i in range(CHART_WINDOWS):
        t = since + span * i
        v = rules.verdict(rule, st, by_at.get(t, []), _local(t).date())
        bars.append(
            chart.Bar(f"{_local(t):%H:%M}" if rule.window == "hour" else f"{_local(t):%m-%d}", v.value)
        )
        limit = v.limit if v.limit is not None else limit
    title = f"{station.name}（{station.mn}）{rule.label}"
    return chart.render(title, f"{station.mn} {rule.code} {rule.measure}", bars, limit)


# --- Silence ------------------------------------------------------------------------------------------------


@dataclass
class SilenceSweep:
    checked: int = 0
    actions: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        acts = self.actions
        return f"检查 {self.checked} 个站点：新开设备异常案卷 {acts['open']} 件，恢复 {acts['recovered']} 个"


def check_silence(session: Session, *, now: datetime | None = None) -> SilenceSweep:
    """Feed every active station's silence to its episode (a station that never spoke is not commissioned
    yet and is left alone)."""
    now = now or utcnow()
    sweep = SilenceSweep()
    in_force = [
        rule_of(r)
        for r in session.scalars(
            select(StationRule).where(StationRule.enabled.is_(True), StationRule.measure == "silence")
        )
    ]
    if not in_force:
        return sweep
    stations = session.scalars(
        select(Station)
        .where(Station.active.is_(True), Station.last_seen_at.is_not(None))
        .order_by(Station.id)
    ).all()
    for rule in in_force:
        rows = {
            r.station_id: r
            for r in session.scalars(
                select(StationEpisode).where(
                    StationEpisode.rule_code == rule.code, StationEpisode.ended_at.is_(None)
                )
            )
        }
        for station in stations:
            if not rules.applies(rule, station.kind) or station.last_seen_at is None:
                continue
            sweep.checked += 1
            v = rules.silence(station.last_seen_at, now, station.interval_s, rule.threshold or 3.0)
            action = feed(session, station, rule, v, now, now=now, row=rows.get(station.id), known=True)
            if action:
                sweep.actions[action] += 1
    return sweep


def silence_job() -> str:
    """The ``station-silence`` job (``Domain.jobs``)."""
    from civicgrid.db import unit_of_work

    with unit_of_work() as session:
        return check_silence(session).summary()


# --- The case API's view of a sensor case -------------------------------------------------------------------


def case_station(session: Session, case: Case) -> dict[str, Any]:
    """``Domain.extra["case_detail"]``: the station of a sensor case, for ``GET /api/v1/cases/{id}``."""
    if case.source != "sensor":
        return {}
    row = session.execute(
        select(Station.mn, Station.name)
        .join(StationEpisode, StationEpisode.station_id == Station.id)
        .where(StationEpisode.case_id == case.id)
        .order_by(StationEpisode.id)
        .limit(1)
    ).first()
    return {"station": {"mn": row.mn, "name": row.name}} if row else {}
