"""A bounded load generator (asyncio + httpx, loopback only) for the staff mix of bench_load.py.

Every action goes through the real JSON API with the role that takes it in the district: report (anonymous
citizen) → register (值班长) → dispatch (派遣员; the routing rules choose the department) → sign → feedback
(that department's handler) → send_check (受理员) → check (the street's 网格员) → close (值班长). A case
moves to the next queue only after its action succeeded, so each action is legal when taken. Alongside:
reads (tracking, case lists and details, locate, Open311 services), PII reveals (受理员) and logins
(password checks). A kind whose queue is empty gives way to a read. The run stops after ``duration_s`` or
``max_requests``, whichever comes first.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "civicgrid2026"
WEIGHTS: dict[str, int] = {
    "read": 45,
    "report": 20,
    "register": 6,
    "dispatch": 6,
    "sign": 6,
    "feedback": 6,
    "send_check": 5,
    "check": 5,
    "close": 5,
    "reveal": 4,
    "login": 2,
}
KINDS = tuple(WEIGHTS)
LOGIN_USERS = ("operator", "operator2", "shiftlead", "dispatcher", "leader")


@dataclass(frozen=True)
class Config:
    base: str
    points: list[tuple[float, float]]
    codes: list[str]
    connections: int = 16
    duration_s: float = 60
    max_requests: int = 1_000_000
    prepare: int = 120
    seed: int = 20261130


@dataclass
class Result:
    samples: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    prepared: int = 0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.samples.values())

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def rows(self) -> list[dict[str, Any]]:
        out = []
        everything: list[tuple[float, int]] = []
        for kind in KINDS:
            if self.samples[kind]:
                out.append(_row(kind, self.samples[kind]))
                everything += self.samples[kind]
        if everything:
            out.append(_row("**all**", everything))
        return out


def _row(kind: str, samples: list[tuple[float, int]]) -> dict[str, Any]:
    lat = sorted(ms for ms, _ in samples)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]

    return {
        "kind": kind,
        "n": len(samples),
        "non2xx": sum(1 for _, st in samples if not 200 <= st < 300),
        "5xx": sum(1 for _, st in samples if st >= 500),
        "p50": pct(50),
        "p99": pct(99),
        "max": lat[-1],
    }


@dataclass
class Pipeline:
    """Cases waiting for their next action: (case id, department code or street code)."""

    received: deque[int] = field(default_factory=deque)
    registered: deque[int] = field(default_factory=deque)
    dispatched: deque[tuple[int, str]] = field(default_factory=deque)
    processing: deque[tuple[int, str]] = field(default_factory=deque)
    fed_back: deque[tuple[int, str]] = field(default_factory=deque)
    checking: deque[tuple[int, str]] = field(default_factory=deque)
    checked: deque[int] = field(default_factory=deque)
    all_ids: list[int] = field(default_factory=list)
    tracked: list[tuple[str, str]] = field(default_factory=list)


class Generator:
    def __init__(self, cfg: Config, client: httpx.AsyncClient) -> None:
        self.cfg = cfg
        self.client = client
        self.rng = random.Random(cfg.seed)
        self.p = Pipeline()
        self.tokens: dict[str, str] = {}
        self.result = Result()
        self.n_reports = 0

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            r = await self.client.post(
                "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            )
            r.raise_for_status()
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    async def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(username)}"}

    # --- one request of each kind: returns the HTTP status ---

    async def report(self) -> int:
        i = self.n_reports
        self.n_reports += 1
        lng, lat = self.cfg.points[i % len(self.cfg.points)]
        body = {
            "description": f"负载测试上报（含员工操作），第{i}件，请尽快处理",
            "lng": lng,
            "lat": lat,
            "category_code": self.cfg.codes[(i * 7) % len(self.cfg.codes)],
            "reporter_name": "测试市民",
            "reporter_phone": f"139{i % 100_000_000:08d}",
        }
        r = await self.client.post("/api/v1/reports", json=body)
        if r.status_code == 201:
            out = r.json()
            self.p.all_ids.append(out["id"])
            self.p.tracked.append((out["number"], out["query_code"]))
            if out["outcome"] == "queued":
                self.p.received.append(out["id"])
        return r.status_code

    async def act(self, user: str, case_id: int, action: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/cases/{case_id}/actions/{action}", json=body, headers=await self.auth(user)
        )

    async def register(self) -> int:
        case_id = self.p.received.popleft()
        r = await self.act("shiftlead", case_id, "register", {})
        if r.status_code == 200:
            self.p.registered.append(case_id)
        return self._check(r, "register")

    async def dispatch(self) -> int:
        case_id = self.p.registered.popleft()
        r = await self.act("dispatcher", case_id, "dispatch", {})
        if r.status_code == 200 and r.json().get("department_code"):
            self.p.dispatched.append((case_id, r.json()["department_code"]))
        return self._check(r, "dispatch")

    async def sign(self) -> int:
        case_id, dept = self.p.dispatched.popleft()
        r = await self.act(f"handler_{dept.lower()}", case_id, "sign", {})
        if r.status_code == 200:
            self.p.processing.append((case_id, dept))
        return self._check(r, "sign")

    async def feedback(self) -> int:
        case_id, dept = self.p.processing.popleft()
        r = await self.act(f"handler_{dept.lower()}", case_id, "feedback", {"note": "已到现场处置完毕"})
        if r.status_code == 200:
            self.p.fed_back.append((case_id, r.json()["street_code"]))
        return self._check(r, "feedback")

    async def send_check(self) -> int:
        case_id, street = self.p.fed_back.popleft()
        r = await self.act("operator", case_id, "send_check", {})
        if r.status_code == 200:
            self.p.checking.append((case_id, street))
        return self._check(r, "send_check")

    async def check(self) -> int:
        case_id, street = self.p.checking.popleft()
        r = await self.act(f"inspector{street[-3:]}", case_id, "check", {"passed": True})
        if r.status_code == 200:
            self.p.checked.append(case_id)
        return self._check(r, "check")

    async def close(self) -> int:
        case_id = self.p.checked.popleft()
        return self._check(await self.act("shiftlead", case_id, "close", {}), "close")

    async def reveal(self) -> int:
        case_id = self.rng.choice(self.p.all_ids)
        r = await self.client.post(f"/api/v1/cases/{case_id}/reveal", headers=await self.auth("operator"))
        return self._check(r, "reveal")

    async def login(self) -> int:
        user = self.rng.choice(LOGIN_USERS)
        r = await self.client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
        return self._check(r, "login")

    async def read(self) -> int:
        roll = self.rng.random()
        if roll < 0.3 and self.p.tracked:
            number, code = self.rng.choice(self.p.tracked)
            r = await self.client.get(f"/api/v1/track/{number}", params={"code": code})
        elif roll < 0.5:
            r = await self.client.get(
                "/api/v1/cases", params={"page_size": 20}, headers=await self.auth("operator")
            )
        elif roll < 0.65 and self.p.all_ids:
            case_id = self.rng.choice(self.p.all_ids)
            r = await self.client.get(f"/api/v1/cases/{case_id}", headers=await self.auth("operator"))
        elif roll < 0.9:
            lng, lat = self.rng.choice(self.cfg.points)
            r = await self.client.get("/api/v1/locate", params={"lng": lng, "lat": lat})
        else:
            r = await self.client.get("/open311/v2/services.json")
        return self._check(r, "read")

    def _check(self, r: httpx.Response, kind: str) -> int:
        if not 200 <= r.status_code < 300 and len(self.result.errors) < 50:
            self.result.errors.append(f"{kind} {r.request.url.path} → {r.status_code} {r.text[:160]}")
        return r.status_code

    # --- scheduling ---

    def ready(self, kind: str) -> bool:
        p = self.p
        need = {
            "register": p.received,
            "dispatch": p.registered,
            "sign": p.dispatched,
            "feedback": p.processing,
            "send_check": p.fed_back,
            "check": p.checking,
            "close": p.checked,
            "reveal": p.all_ids,
        }.get(kind)
        return need is None or bool(need)

    def pick(self) -> str:
        kind = self.rng.choices(KINDS, weights=[WEIGHTS[k] for k in KINDS])[0]
        return kind if self.ready(kind) else "read"

    async def warm(self, kind: str) -> None:
        queue = {"sign": self.p.dispatched, "feedback": self.p.processing}.get(kind)
        if queue:
            await self.token(f"handler_{queue[0][1].lower()}")
        if kind == "check" and self.p.checking:
            await self.token(f"inspector{self.p.checking[0][1][-3:]}")

    async def prepare(self) -> None:
        """Dispatched cases ready for the handlers before the clock starts (tokens are fetched once)."""
        for user in ("operator", "shiftlead", "dispatcher"):
            await self.token(user)
        sem = asyncio.Semaphore(self.cfg.connections)

        async def one() -> None:
            async with sem:
                await self.report()
                while self.p.received:
                    await self.register()
                while self.p.registered:
                    await self.dispatch()

        await asyncio.gather(*(one() for _ in range(self.cfg.prepare)))
        for _, dept in list(self.p.dispatched):
            await self.token(f"handler_{dept.lower()}")
        self.result.prepared = len(self.p.dispatched)
        self.result.errors.clear()

    async def worker(self, deadline: float, budget: list[int]) -> None:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            kind = self.pick()
            await self.warm(kind)  # a first login of a handler is not part of the action's time
            if not self.ready(kind):  # another connection took the case meanwhile
                kind = "read"
            start = time.perf_counter()
            try:
                status = await getattr(self, kind)()
            except httpx.HTTPError as exc:
                status = 599  # the connection failed or timed out: counted as a server failure
                if len(self.result.errors) < 50:
                    self.result.errors.append(f"{kind} {type(exc).__name__}")
            self.result.samples[kind].append(((time.perf_counter() - start) * 1000, status))


async def run(cfg: Config) -> Result:
    limits = httpx.Limits(max_connections=cfg.connections, max_keepalive_connections=cfg.connections)
    async with httpx.AsyncClient(base_url=cfg.base, limits=limits, timeout=30) as client:
        gen = Generator(cfg, client)
        await gen.prepare()
        budget = [cfg.max_requests]
        start = time.monotonic()
        deadline = start + cfg.duration_s
        await asyncio.gather(*(gen.worker(deadline, budget) for _ in range(cfg.connections)))
        gen.result.elapsed_s = time.monotonic() - start
        return gen.result
