"""The working clock and deadlines (the sweeper that acts on them is a job of ``civicgrid.jobs``)."""

from civicgrid.domains import Domain

DOMAIN = Domain(name="sla", label="工作日历与时限", commands=("civicgrid.sla.cli",))
