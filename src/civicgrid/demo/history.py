"""A year of demo history, every case driven through the real intake and transition function with past times,
so events, stage timestamps, due times, rework, close types and the audit hash chain are what the engine
really writes (the paths: ``demo/stories.py``).

It is written in bulk: the whole history is one unit of work with autoflush off and the engine's own flushes
deferred (``_batched_flushes``), so its rows reach the database in batched inserts, one flush per
hundred cases, instead of some twenty flushes per case. Nothing the engine reads back is written in the
meantime: routing rules,
categories, users and the chain head are loaded once.

Cases are placed beside the district's named roads with a street address (``demo/places.py``), their text
matches how they came in (a citizen's words, a hotline operator's summary, an inspector's note, a sensor's
alarm), and the most recent ones carry generated photos: the problem as reported (or as verified, for a phone
call) and the result of the disposal (``demo/photos.py``).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases.intake import ReportIn, report
from civicgrid.demo.photos import scene
from civicgrid.demo.places import Places
from civicgrid.demo.stories import Cast, Story, play
from civicgrid.demo.universe import STATION_ONLY
from civicgrid.geo.plan import DistrictPlan
from civicgrid.models import Attachment, Case, Category, Department, User, utcnow
from civicgrid.org.auth import principal_of
from civicgrid.org.roles import ANONYMOUS_CITIZEN, SYSTEM, Principal
from civicgrid.sla.deadlines import get_clock

SOURCES = (("inspector", 0.52), ("hotline", 0.2), ("citizen", 0.18), ("open311", 0.04), ("sensor", 0.06))
SENSOR_WORDS = ("井盖", "积水", "路灯", "水")  # what the district's sensors can see
PHOTO_CASES = 200  # the most recent cases carry photos (a demo database stays small)
BATCH = 100  # cases per flush
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程"


def _corpus() -> dict[tuple[str, str], list[str]]:
    """Example texts by (category, style): ``citizen``, ``hotline`` or ``inspector``."""
    texts: dict[tuple[str, str], list[str]] = {}
    folder = resources.files("civicgrid.data") / "corpus"
    if not folder.is_dir():
        return texts
    for f in folder.iterdir():
        if f.name.endswith(".csv"):
            with f.open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    style = row.get("style") or "inspector"
                    texts.setdefault((row["category_code"], style), []).append(row["text"])
    return texts


def _received_time(rng: random.Random, now: datetime) -> datetime:
    day = now - timedelta(days=rng.triangular(0, 365, 0))  # more recent days are busier
    local_hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 11, 8, 9, 12, 13, 12, 10, 7, 5, 4, 3, 2, 1]
    )[0]
    base = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        hours=local_hour - 8, minutes=rng.uniform(0, 59)
    )
    return min(base, now - timedelta(minutes=5))


class _Texts:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.corpus = _corpus()

    def describe(self, cat: Category, source: str, address: str) -> str:
        rng = self.rng
        if source == "sensor":
            reading = {
                "井盖": f"井盖倾斜 {rng.randint(12, 40)}°，位移告警",
                "积水": f"积水深度 {rng.randint(12, 35)} cm，超过 10 cm 告警线",
                "路灯": "路灯回路电流为零，疑似不亮",
            }
            what = next((v for k, v in reading.items() if k in cat.name), "监测数值超过告警阈值")
            return f"【物联感知告警】{address}：{cat.name}，{what}"
        own = self.corpus.get((cat.code, "citizen" if source == "open311" else source))
        if own:
            return rng.choice(own)
        if source == "hotline" and (said := self.corpus.get((cat.code, "citizen"))):
            return f"市民来电反映：{rng.choice(said)}"  # the operator writes down what the caller said
        if source == "hotline":
            return f"市民来电反映：{address}{cat.name}，请尽快处理"
        if source == "inspector":
            return f"巡查发现：{address}{cat.name}"
        return f"{address}{cat.name}，请尽快处理"


def generate_history(
    session: Session,
    plan: DistrictPlan,
    n: int,
    *,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    photos: int = PHOTO_CASES,
) -> int:
    """Write ``n`` cases (and the duplicates merged into them) of the year before ``now``; returns how
    many."""
    rng = random.Random(seed)
    now = now or utcnow()
    cast = Cast(
        {u.username: principal_of(u) for u in session.scalars(select(User))},
        {d.id: d.code for d in session.scalars(select(Department))},
    )
    cats = list(
        session.scalars(select(Category).where(Category.code.not_in(STATION_ONLY)).order_by(Category.code))
    )
    busy = {"E0102", "E0505", "E0506", "E0201", "E0504", "C0118", "E0104"}
    weights = [3.0 if c.code in busy else 1.0 for c in cats]
    texts = _Texts(rng)
    places = Places(plan)
    grids = list(plan.grids)
    hot = rng.sample(grids, 40)  # recurring trouble spots
    clock = get_clock()
    routes: dict[tuple[str, str], str] = {}
    times = sorted(_received_time(rng, now) for _ in range(n))
    photo_from = times[-photos] if 0 < photos <= n else (times[0] if photos and times else now)
    created = 0
    with session.no_autoflush, _batched_flushes(session) as flush_now:
        for i, t0 in enumerate(times):
            cat = rng.choices(cats, weights)[0]
            grid = rng.choice(hot) if rng.random() < 0.25 else rng.choice(grids)
            source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
            if source == "sensor" and not any(w in cat.name for w in SENSOR_WORDS):
                source = "inspector"
            c = grid.geometry.centroid
            place = places.near(c.x + rng.uniform(-3e-4, 3e-4), c.y + rng.uniform(-3e-4, 3e-4), rng)
            reporter = _reporter(cast, source, grid.code[:9], rng)
            photo = _Photographer(session, cat, place.address, seed + i) if t0 >= photo_from else None
            before = photo.take("report", t0, reporter) if photo and source != "hotline" else []
            res = report(
                session,
                ReportIn(
                    description=texts.describe(cat, source, place.address),
                    lng=place.lng,
                    lat=place.lat,
                    address=place.address,
                    category_code=cat.code,
                    source=source,
                    reporter_name=_name(rng) if source in ("citizen", "hotline") else None,
                    reporter_phone=(
                        f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
                        if source in ("citizen", "hotline")
                        else None
                    ),
                    attachment_ids=before,
                ),
                reporter,
                now=t0,
                rapid=False,
            )
            case = res.case
            key = (cat.code, case.street_code)
            if key not in routes:
                routes[key] = _routed(session, case, cat)
            story = Story(session, case, t0, now, rng, photo.take if photo else _no_photo, flush_now)
            story.dup_text = texts.describe(cat, "citizen", place.address)  # if a neighbour reports it too
            created += 1 + play(story, cast, res.query_code, clock, cat, routes[key])
            if photo is not None:
                flush_now()
            if (i + 1) % BATCH == 0:
                flush_now()
                if progress:
                    progress(i + 1, n)
    # The SLA sweeper catches up on what is open now: 黄灯 and 红灯 warnings, as in production.
    from civicgrid.jobs.sweeper import sweep

    sweep(session, now=now)
    if progress:
        progress(n, n)
    return created


@contextmanager
def _batched_flushes(session: Session) -> Iterator[Callable[[], None]]:
    """Write the engine's rows in batches: new cases get their ids up front (the engine's events need
    them), and the engine's own flushes after each step are deferred — except while a photo is new (the
    engine looks uploads up by id). Yields the real flush, for a batch's end and for lookups by id. On
    PostgreSQL the id sequences are moved past the ids given here."""
    from sqlalchemy import event, func

    real = session.flush
    next_id = [int(session.scalar(select(func.max(Case.id))) or 0) + 1]
    # What the INSERT would fill in (counters at 0, flags false): the engine reads them before any flush.
    defaults = {
        c.key: c.default.arg
        for c in Case.__table__.columns
        if c.default is not None and c.default.is_scalar and c.key != "id"
    }

    def give_id(target: Case, _args: object, _kwargs: object) -> None:
        target.id = next_id[0]
        next_id[0] += 1
        for key, value in defaults.items():
            setattr(target, key, value)

    new_photo = [False]

    def photo_made(*_args: object) -> None:
        new_photo[0] = True

    def flush(objects: object = None) -> None:
        # A case with photos is written step by step: its photos are updated with the case's id, and
        # nothing orders that update after the case's insert but a flush in between.
        if new_photo[0]:
            real()

    def flush_now() -> None:
        real()
        new_photo[0] = False

    event.listen(Case, "init", give_id)
    event.listen(Attachment, "init", photo_made)
    session.flush = flush  # type: ignore[method-assign]
    try:
        yield flush_now
    finally:
        del session.flush
        event.remove(Case, "init", give_id)
        event.remove(Attachment, "init", photo_made)
    real()
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        session.execute(
            text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        )


def _no_photo(step: str, when: datetime, actor: Principal) -> list[int]:
    return []


class _Photographer:
    """Takes the case's photos: the problem (report, or verify for a phone call) and the disposal's result."""

    def __init__(self, session: Session, cat: Category, address: str, seed: int) -> None:
        self.session, self.cat, self.address, self.seed = session, cat, address, seed
        self.taken: set[str] = set()

    def take(self, step: str, when: datetime, actor: Principal) -> list[int]:
        from civicgrid.cases.attachments import upload

        after = step == "feedback"
        if step == "verify" and "report" in self.taken:
            return []
        data = scene(self.cat.name, after=after, when=when, address=self.address, seed=self.seed)
        att = upload(self.session, data, uploaded_by=actor.user_id, filename=f"{step}.jpg")
        att.created_at = when
        self.taken.add(step)
        return [att.id]


def _reporter(cast: Cast, source: str, street: str, rng: random.Random) -> Principal:
    if source == "inspector":
        return cast.inspector(street)
    if source == "hotline":
        return cast.get(rng.choice(["operator", "operator2"]))
    if source == "sensor":
        return SYSTEM
    if source == "citizen" and rng.random() < 0.3:
        return cast.get("citizen")
    return ANONYMOUS_CITIZEN


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(["先生", "女士"])


def _routed(session: Session, case: Case, cat: Category) -> str:
    from civicgrid.catalog.routing import route

    dept = route(
        session,
        cat,
        grid_code=case.grid_code,
        community_code=case.community_code,
        street_code=case.street_code,
    )
    return dept.code if dept else ""
