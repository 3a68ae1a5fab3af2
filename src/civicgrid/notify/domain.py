"""Notifications: inbox notices, webhooks and the outbox that delivers them after commit."""

from civicgrid.domains import Domain, Job

DOMAIN = Domain(
    name="notify",
    label="通知与外发",
    api=("civicgrid.notify.api:router",),
    subscribers=(
        ("case", "civicgrid.notify.notices:on_case_event"),
        ("case", "civicgrid.notify.webhooks:on_case_event"),
    ),
    deliveries=(("webhook", "civicgrid.notify.webhooks:deliver"),),
    jobs=(
        Job(
            "outbox",
            "投递外发消息（webhook 等，失败自动重试）",
            "civicgrid.notify.outbox:run_job",
            "outbox_interval_s",
        ),
    ),
)
