"""Security: personal data at rest, the audit chains, their signed checkpoints and their verification."""

from civicgrid.domains import Domain, Job

DOMAIN = Domain(
    name="security",
    label="安全与审计",
    commands=("civicgrid.security.cli",),
    # checkpoint_if_due keeps CIVICGRID_AUDIT_CHECKPOINT_INTERVAL_MIN between checkpoints.
    jobs=(Job("audit-checkpoint", "审计链签名检查点", "civicgrid.security.anchors:run_job", every_s=60),),
)
