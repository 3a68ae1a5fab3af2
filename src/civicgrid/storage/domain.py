"""Attachments: photos checked, stripped and stored; uploads never attached are swept."""

from civicgrid.domains import Domain, Job

DOMAIN = Domain(
    name="storage",
    label="附件存储",
    commands=("civicgrid.storage.cli",),
    jobs=(Job("uploads-sweep", "清理从未使用的上传照片", "civicgrid.storage.files:run_job", every_s=3600),),
)
