"""Periodic jobs that act on cases: the SLA sweeper."""

from civicgrid.domains import Domain, Job

DOMAIN = Domain(
    name="jobs",
    label="定时任务",
    commands=("civicgrid.jobs.cli",),
    jobs=(
        Job(
            "sla-sweep",
            "处置时限扫描（黄灯预警、红灯预警）",
            "civicgrid.jobs.sweeper:run_job",
            "sweeper_interval_s",
        ),
    ),
)
