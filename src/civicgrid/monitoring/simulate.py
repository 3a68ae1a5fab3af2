"""A station simulator: believable values for each kind of station, HJ 212 packets, a TCP client each.

Three layers, top to bottom:
- **Values** (pure): :class:`Model` gives a station's concentrations at a local time — a daily curve per
  pollutant (traffic peaks for NO2, an afternoon peak for O3, working hours at a building site), a slow
  "weather" drift shared by the station's pollutants, and noise; ``intensity`` (0–1) blends towards values
  that break the default rules of SPEC §10 (hourly AQI > 200, PM10 > 150 µg/m³, a water section worse than
  its target, a source above its permit). The demo's history (``demo/stations.py``) uses the same model.
- **Packets** (pure): :func:`data_packet` frames real-time (2011), minute (2051), hourly (2061) and daily
  (2031) packets with the station's own PW and the standard's CRC (``hj212.build``).
- **Clients** (sockets): :class:`Simulator` keeps one TCP connection per station to a listener, sends a
  real-time packet every ``interval`` seconds and the minute, hourly and daily packets as the simulated clock
  crosses their boundaries, counts the 9014 (acknowledged) and 9011 (refused) answers, reconnects when the
  listener goes away and sends again what was not answered (storing is idempotent).

``load_stations`` and ``run`` (the ``station-simulator`` service) are the only parts that touch the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from civicgrid.monitoring import hj212
from civicgrid.monitoring.stations import KINDS

log = logging.getLogger(__name__)
LOCAL = ZoneInfo("Asia/Shanghai")  # HJ 212 times are the station's local (Beijing) time

# --- Values -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One pollutant's behaviour: ``base`` × (1 + ``amp`` × daily shape) × drift × noise, kept within
    ``floor`` and ``cap``; ``exceed`` is the value it moves to at intensity 1 (None: unchanged). ``shape``:
    ``peak`` (one daily maximum at ``peak`` o'clock), ``rush`` (morning and evening traffic peaks), ``work``
    (high in working hours)."""

    code: str
    base: float
    amp: float
    peak: float = 0.0
    shape: str = "peak"
    noise: float = 0.1
    digits: int = 1
    exceed: float | None = None
    drifts: bool = True  # follows the station's weather drift
    # Normal values stay within [floor, cap]: below every rule's threshold, so exceedances are deliberate.
    cap: float | None = None
    floor: float | None = None


def _shape(curve: Curve, hour: float) -> float:
    if curve.shape == "rush":
        return math.cos(2 * math.pi * (hour - 8) / 12) * (
            0.6 + 0.4 * math.cos(2 * math.pi * (hour - 13) / 24)
        )
    if curve.shape == "work":
        return 1.0 if 7.5 <= hour < 18 else -0.8
    return math.cos(2 * math.pi * (hour - curve.peak) / 24)


AIR = (
    # PM2.5 and PM10 (µg/m³) capped at an IAQI below 150; the haze takes PM2.5 past IAQI 200.
    Curve("a34004", 30, 0.25, peak=23, noise=0.12, digits=0, exceed=215, cap=110),
    Curve("a34002", 55, 0.25, peak=22, noise=0.12, digits=0, exceed=290, cap=240),
    Curve("a21026", 7, 0.2, peak=11, noise=0.15, digits=0),  # SO2
    Curve("a21004", 28, 0.35, shape="rush", noise=0.15, digits=0, exceed=75),  # NO2
    Curve("a21005", 0.7, 0.2, peak=20, noise=0.1, digits=2, exceed=1.6),  # CO, mg/m³
    Curve("a05024", 70, 0.6, peak=15, noise=0.1, digits=0, exceed=55),  # O3 (lower in a haze)
)
DUST = (
    Curve("a34002", 70, 0.3, shape="work", noise=0.15, digits=0, exceed=235, cap=140),  # PM10 (rule: 150)
    Curve("a34004", 32, 0.2, shape="work", noise=0.15, digits=0, exceed=95),  # PM2.5
    Curve("a34001", 120, 0.35, shape="work", noise=0.15, digits=0, exceed=430),  # TSP
)
NOISE = (Curve("Leq", 55, 0.12, shape="rush", noise=0.03, digits=1, exceed=78, drifts=False),)  # dB(A)

# GB 3838 limits of the classes I–V (SPEC §10), the water model's yardstick.
_WATER_LIMITS = {
    "w01009": (7.5, 6, 5, 3, 2),  # DO (a floor)
    "w01019": (2, 4, 6, 10, 15),  # CODMn
    "w01018": (15, 15, 20, 30, 40),  # COD
    "w21003": (0.15, 0.5, 1.0, 1.5, 2.0),  # NH3-N
    "w21011": (0.02, 0.1, 0.2, 0.3, 0.4),  # TP (river)
}
_TP_LAKE = (0.01, 0.025, 0.05, 0.1, 0.2)
_CLASSES = ("I", "II", "III", "IV", "V")
# Default permit limits of a gas-fired boiler's stack (mg/m³) when a source has none of its own.
DEFAULT_PERMIT = {"a21026": 35.0, "a21002": 50.0}


def water_curves(target_class: str | None, lake: bool = False) -> tuple[Curve, ...]:
    """A section that normally meets its target class; at intensity 1 its ammonia is beyond class V."""
    k = _CLASSES.index(target_class) if target_class in _CLASSES else 2
    tp = (_TP_LAKE if lake else _WATER_LIMITS["w21011"])[k]
    do, codmn, cod, nh3 = (_WATER_LIMITS[c][k] for c in ("w01009", "w01019", "w01018", "w21003"))
    return (
        Curve("w01001", 7.4, 0.03, peak=15, noise=0.01, digits=2, drifts=False),  # pH
        Curve("w01009", do * 1.3, 0.12, peak=15, noise=0.04, digits=2, exceed=2.6, floor=do * 1.05),
        Curve("w01019", codmn * 0.65, 0.05, peak=9, noise=0.06, digits=2, cap=codmn * 0.95),
        Curve("w01018", cod * 0.7, 0.05, peak=9, noise=0.06, digits=1, cap=cod * 0.95),
        Curve("w21003", nh3 * 0.55, 0.1, peak=8, noise=0.08, digits=3, exceed=2.4, cap=nh3 * 0.95),
        Curve("w21011", tp * 0.6, 0.05, peak=8, noise=0.08, digits=3, cap=tp * 0.95),
    )


def source_curves(limits: Mapping[str, float]) -> tuple[Curve, ...]:
    """A stack that normally emits about half its permit limits; at intensity 1 its NOx is 1.6 times it."""
    got = {c: float(v) for c, v in limits.items() if c in DEFAULT_PERMIT} or DEFAULT_PERMIT
    return tuple(
        Curve(code, lim * 0.5, 0.15, peak=10, noise=0.08, digits=1, drifts=False, cap=lim * 0.9)
        if code == "a21026"  # SO2 follows the fuel, not the burner: only NOx breaks its limit
        else Curve(
            code,
            lim * 0.5,
            0.15,
            peak=10,
            noise=0.08,
            digits=1,
            exceed=lim * 1.6,
            drifts=False,
            cap=lim * 0.9,
        )
        for code, lim in got.items()
    )


@dataclass(frozen=True)
class SimStation:
    """What the simulator needs to know of a station."""

    mn: str
    kind: str
    password: str
    target_class: str | None = None
    lake: bool = False
    permit_limits: Mapping[str, float] = field(default_factory=dict)

    @property
    def st(self) -> str:
        return KINDS[self.kind][0]

    def curves(self) -> tuple[Curve, ...]:
        if self.kind == "water":
            return water_curves(self.target_class, self.lake)
        if self.kind == "source":
            return source_curves(self.permit_limits)
        return {"air": AIR, "dust": DUST, "noise": NOISE}[self.kind]


class Model:
    """One station's values over time; deterministic for a station and seed when asked in time order."""

    DRIFT_SD = 0.33  # the weather drift's spread (log scale): from about half to about double
    DRIFT_KEEP = 0.96  # its persistence per hour

    def __init__(self, station: SimStation, seed: int | str = 0) -> None:
        self.station = station
        self.curves = station.curves()
        self.rng = random.Random(f"{station.mn}:{seed}")
        self.level = self.rng.gauss(0, self.DRIFT_SD * 0.5)
        self._last: datetime | None = None
        self._scale = 0.3 if station.kind == "water" else 1.0

    def _advance(self, at: datetime) -> None:
        hours = 1.0 if self._last is None else max(0.0, (at - self._last).total_seconds() / 3600)
        self._last = at if self._last is None else max(at, self._last)
        if hours:
            keep = self.DRIFT_KEEP**hours
            self.level = keep * self.level + math.sqrt(1 - keep * keep) * self.DRIFT_SD * self.rng.gauss(0, 1)

    def values(self, at: datetime, intensity: float = 0.0) -> dict[str, float]:
        """The concentrations at local time ``at``; ``intensity`` 0 normal … 1 breaking the rules."""
        self._advance(at)
        hour = at.hour + at.minute / 60
        drift = math.exp(self.level * self._scale)
        out = {}
        for c in self.curves:
            v = c.base * max(0.05, 1 + c.amp * _shape(c, hour))
            v *= (drift if c.drifts else 1.0) * max(0.2, 1 + self.rng.gauss(0, c.noise))
            v = min(v, c.cap) if c.cap is not None else v
            v = max(v, c.floor) if c.floor is not None else v
            if intensity > 0 and c.exceed is not None:
                v = (1 - intensity) * v + intensity * c.exceed * (1 + self.rng.gauss(0, 0.04))
            out[c.code] = round(v, c.digits)
        return out


def period_stats(
    samples: Sequence[Mapping[str, float]], digits: Mapping[str, int]
) -> dict[str, dict[str, float]]:
    """Avg, Min and Max of each code over a period's samples (a day's hours)."""
    out: dict[str, dict[str, float]] = {}
    for code in samples[0]:
        vals = [s[code] for s in samples if code in s]
        d = digits.get(code, 2)
        out[code] = {"Avg": round(sum(vals) / len(vals), d), "Min": min(vals), "Max": max(vals)}
    return out


def spread(
    values: Mapping[str, float], digits: Mapping[str, int], rng: random.Random
) -> dict[str, dict[str, float]]:
    """Avg with a plausible Min and Max around it (one period's summary from one sample)."""
    out = {}
    for code, v in values.items():
        d = digits.get(code, 2)
        lo, hi = rng.uniform(0.06, 0.2), rng.uniform(0.06, 0.25)
        out[code] = {"Avg": v, "Min": round(v * (1 - lo), d), "Max": round(v * (1 + hi), d)}
    return out


# --- Packets ------------------------------------------------------------------------------------------------

PERIOD = {"2051": timedelta(minutes=1), "2061": timedelta(hours=1), "2031": timedelta(days=1)}


def qn(at: datetime, seq: int = 0) -> str:
    """A request number: the local send time to the millisecond (``seq`` keeps numbers apart)."""
    return at.strftime("%Y%m%d%H%M%S") + f"{(at.microsecond // 1000 + seq) % 1000:03d}"


def data_packet(
    station: SimStation,
    cn: str,
    at: datetime,
    values: Mapping[str, float] | Mapping[str, Mapping[str, float]],
    *,
    sent: datetime | None = None,
    seq: int = 0,
) -> bytes:
    """A framed data packet: ``cn`` 2011 takes ``{code: value}`` (``-Rtd``), 2051/2061/2031 take
    ``{code: {"Avg": …, "Min": …, "Max": …}}``; ``at`` is the DataTime (the period's start), local time."""
    fields: dict[str, dict[str, object]] = {}
    for code, v in values.items():
        if isinstance(v, Mapping):
            fields[code] = {**v, "Flag": "N"}
        else:
            fields[code] = {"Rtd": v, "Flag": "N"}
    cp = hj212.cp_text(fields, DataTime=at.strftime("%Y%m%d%H%M%S"))
    header: dict[str, str | int | None] = {
        "QN": qn(sent or at, seq),
        "ST": station.st,
        "CN": cn,
        "PW": station.password,
        "MN": station.mn,
        "Flag": 5,  # 2017, wants an answer (9014)
    }
    return hj212.build(header, cp)


def floor(at: datetime, cn: str) -> datetime:
    """The start of the minute, hour or day that ``at`` falls in."""
    if cn == "2051":
        return at.replace(second=0, microsecond=0)
    if cn == "2061":
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


# --- Clients ------------------------------------------------------------------------------------------------


@dataclass
class SimStats:
    sent: int = 0
    acked: int = 0
    refused: Counter[int] = field(default_factory=Counter)  # by QnRtn
    resent: int = 0
    connections: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    by_cn: Counter[str] = field(default_factory=Counter)
    open: int = 0

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    def line(self) -> str:
        return (
            f"在线 {self.open} 个站点，已发送 {self.sent} 包，确认 {self.acked}，拒收 {self.refused_total}，"
            f"重连 {self.reconnects} 次"
        )


class SimClock:
    """Local (Beijing) time running ``speed`` times faster than the wall clock from the moment it is made."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        self.speed = speed
        self.start = start or datetime.now(LOCAL).replace(tzinfo=None)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)


MAX_PENDING = 500  # unanswered packets kept per station for sending again after a reconnect
DRAIN_S = 3.0  # on stopping, how long to wait for the answers to what was sent


class StationClient:
    """One station's connection: send, read answers, reconnect."""

    def __init__(
        self,
        station: SimStation,
        host: str,
        port: int,
        clock: SimClock,
        stats: SimStats,
        *,
        interval_s: float,
        exceed: bool = False,
        seed: int | str = 0,
    ) -> None:
        self.station = station
        self.host, self.port = host, port
        self.clock = clock
        self.stats = stats
        self.interval_s = interval_s
        self.exceed = exceed
        self.model = Model(station, seed)
        self.digits = {c.code: c.digits for c in self.model.curves}
        self.pending: OrderedDict[str, bytes] = OrderedDict()  # QN → frame awaiting its answer
        self.sent_frames = 0
        self._seq = 0
        start = clock.now()
        self._last = {cn: floor(start, cn) for cn in PERIOD}

    def due_frames(self) -> list[bytes]:
        """The frames to send now: a real-time packet, and a period packet for each boundary crossed."""
        now = self.clock.now()
        intensity = 1.0 if self.exceed else 0.0
        self._seq += 1
        frames = [data_packet(self.station, "2011", now, self.model.values(now, intensity), seq=self._seq)]
        self.stats.by_cn["2011"] += 1
        for cn in ("2051", "2061", "2031"):
            current = floor(now, cn)
            if current > self._last[cn]:
                start = current - PERIOD[cn]  # the period just completed
                mid = start + PERIOD[cn] / 2
                values = spread(self.model.values(mid, intensity), self.digits, self.model.rng)
                self._seq += 1
                frames.append(data_packet(self.station, cn, start, values, sent=now, seq=self._seq))
                self.stats.by_cn[cn] += 1
                self._last[cn] = current
        return frames

    async def _send(self, writer: asyncio.StreamWriter, frame: bytes, *, again: bool = False) -> None:
        seg_qn = hj212.parse_frame(frame).qn or ""
        self.pending[seg_qn] = frame
        while len(self.pending) > MAX_PENDING:
            self.pending.popitem(last=False)
        writer.write(frame)
        await writer.drain()
        if again:
            self.stats.resent += 1
        else:
            self.stats.sent += 1
            self.sent_frames += 1

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return  # the listener closed the connection
            try:
                answer = hj212.parse_frame(line)
            except hj212.PacketError:
                continue
            frame = self.pending.pop(answer.qn or "", None)
            if answer.cn == "9014" and frame is not None:
                self.stats.acked += 1
            elif answer.cn == "9011":
                code = answer.cp.get("QnRtn", "100")
                self.stats.refused[int(code) if code.isdigit() else 100] += 1

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 5)
            except (OSError, TimeoutError):
                self.stats.connect_failures += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            self.stats.connections += 1
            self.stats.open += 1
            reading = asyncio.create_task(self._read(reader))
            try:
                for frame in list(self.pending.values()):  # what the last connection left unanswered
                    await self._send(writer, frame, again=True)
                while not stop.is_set() and not reading.done():
                    for frame in self.due_frames():
                        await self._send(writer, frame)
                    waiters = [asyncio.ensure_future(stop.wait()), reading]
                    await asyncio.wait(waiters, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED)
                    waiters[0].cancel()
                if stop.is_set():  # wait a little for the answers still due
                    until = time.monotonic() + DRAIN_S
                    while self.pending and not reading.done() and time.monotonic() < until:
                        await asyncio.sleep(0.05)
            except (ConnectionError, OSError):
                pass
            finally:
                self.stats.open -= 1
                reading.cancel()
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
            if not stop.is_set():
                self.stats.reconnects += 1


class Simulator:
    """Every station's client on one event loop; ``run`` returns on ``stop`` or after ``duration_s``."""

    def __init__(
        self,
        stations: Sequence[SimStation],
        host: str,
        port: int,
        *,
        interval_s: float = 30.0,
        speed: float = 1.0,
        exceed: frozenset[str] = frozenset(),
        seed: int | str = 0,
    ) -> None:
        self.stats = SimStats()
        self.clock = SimClock(speed)
        self.clients = [
            StationClient(
                s, host, port, self.clock, self.stats, interval_s=interval_s, exceed=s.mn in exceed, seed=seed
            )
            for s in stations
        ]

    async def run(
        self,
        stop: threading.Event | None = None,
        duration_s: float | None = None,
        report: Callable[[SimStats], None] | None = None,
        report_every_s: float = 1.0,
    ) -> SimStats:
        done = asyncio.Event()
        tasks = [asyncio.create_task(c.run(done)) for c in self.clients]
        deadline = None if duration_s is None else time.monotonic() + duration_s
        try:
            while not (stop is not None and stop.is_set()):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                await asyncio.sleep(min(report_every_s, 0.2) if report is None else report_every_s)
                if report is not None:
                    report(self.stats)
        finally:
            done.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.stats


# --- The database side: which stations, and the ``station-simulator`` service ----------------------------


def load_stations(mns: Sequence[str] | None = None) -> list[SimStation]:
    """The active stations (all, or those named), from the database."""
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.models import Station

    with unit_of_work(write=False) as session:
        q = select(Station).where(Station.active.is_(True)).order_by(Station.mn)
        if mns:
            q = q.where(Station.mn.in_(list(mns)))
        return [
            SimStation(s.mn, s.kind, s.password, s.target_class, s.lake, dict(s.permit_limits or {}))
            for s in session.scalars(q)
        ]


def run(stop: threading.Event) -> None:
    """The ``station-simulator`` service: feed every active station's simulated data to this host's HJ 212
    listener — only when ``CIVICGRID_MONITORING_SIMULATE=true`` (the demo); otherwise it idles."""
    from civicgrid.monitoring.settings import get_monitoring_settings

    s = get_monitoring_settings()
    if not s.simulate:
        log.info("station simulator is off (CIVICGRID_MONITORING_SIMULATE)")
        stop.wait()
        return
    host = "127.0.0.1" if s.hj212_host in ("0.0.0.0", "::", "") else s.hj212_host
    while not stop.is_set():
        stations = load_stations()
        if stations:
            break
        stop.wait(30)
    else:
        return
    log.info("station simulator: %d stations → %s:%s", len(stations), host, s.hj212_port)
    sim = Simulator(stations, host, s.hj212_port, interval_s=s.simulate_interval_s)
    asyncio.run(sim.run(stop))
