"""The job runner: the periodic jobs that the domains declare (``Domain.jobs``), run by a thread inside every
server process (as the SLA sweeper always was) or by ``civicgrid jobs run``.

Each job decides for itself whether another process is already doing its work (the sweeper takes a lock, the
outbox claims rows), so every process may run every job. A job that raises is logged and tried again at its
next beat: one bad beat never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from civicgrid import domains
from civicgrid.domains import Job
from civicgrid.models import utcnow
from civicgrid.settings import get_settings

log = logging.getLogger("civicgrid.jobs")


def interval_of(job: Job) -> float:
    """Seconds between runs (0 = off): a number, or the ``Settings`` attribute the job names."""
    every = job.every_s
    return float(getattr(get_settings(), every)) if isinstance(every, str) else float(every)


def registered(names: Iterable[str] = ()) -> list[Job]:
    """The declared jobs, or the ones named (an unknown name is a ``KeyError`` with the known ones)."""
    jobs = {job.name: job for job in domains.each("jobs")}
    wanted = list(names)
    unknown = [n for n in wanted if n not in jobs]
    if unknown:
        raise KeyError(f"没有这个定时任务：{'、'.join(unknown)}（可用：{'、'.join(jobs)}）")
    return [jobs[n] for n in wanted] if wanted else list(jobs.values())


def run_job(job: Job) -> str:
    """Run a job once in this thread and return its summary."""
    return str(domains.resolve(job.run)())


@dataclass
class JobStatus:
    runs: int = 0
    failures: int = 0
    last_run: datetime | None = None
    last_summary: str = ""
    last_error: str = ""


class JobRunner(threading.Thread):
    """Runs each job every ``interval_of(job)`` seconds (the first run one interval after start)."""

    def __init__(self, jobs: Iterable[Job] | None = None, tick_s: float = 0.5) -> None:
        super().__init__(name="civicgrid-jobs", daemon=True)
        self.jobs = [j for j in (registered() if jobs is None else jobs) if interval_of(j) > 0]
        self.tick_s = tick_s
        self.stopped = threading.Event()
        self.status = {j.name: JobStatus() for j in self.jobs}

    def run_once(self, job: Job) -> None:
        st = self.status[job.name]
        try:
            st.last_summary, st.last_error = run_job(job), ""
        except Exception as exc:  # logged and retried at the next beat
            st.failures += 1
            st.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed", job.name)
        st.runs += 1
        st.last_run = utcnow()

    def run(self) -> None:
        due = {j.name: time.monotonic() + interval_of(j) for j in self.jobs}
        while not self.stopped.wait(self.tick_s):
            for job in self.jobs:
                if time.monotonic() >= due[job.name] and not self.stopped.is_set():
                    self.run_once(job)
                    due[job.name] = time.monotonic() + interval_of(job)

    def stop(self, timeout_s: float = 10.0) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout_s)
