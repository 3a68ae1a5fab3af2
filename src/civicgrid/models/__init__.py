"""All ORM tables, one module per aggregate. Import from here so the metadata is complete."""

from civicgrid.models.audit import ChainHead, SecurityEvent
from civicgrid.models.base import Base, utcnow
from civicgrid.models.case import (
    Attachment,
    Case,
    CaseEvent,
    CodeAttempt,
    Counter,
    Notification,
    Supervision,
)
from civicgrid.models.catalog import Category, RoutingRule
from civicgrid.models.geo import Area, GridGeneration, Landmark, Road
from civicgrid.models.monitoring import Reading, Station
from civicgrid.models.ops import IdempotencyKey
from civicgrid.models.org import ApiClient, Department, RevokedToken, User, UserGrid, UserRole
from civicgrid.models.outbox import OutboxMessage
from civicgrid.models.station_alarms import StationEpisode, StationRule  # noqa: F401
from civicgrid.models.supervision import (  # noqa: F401
    ColourChange,
    Directive,
    ProgressReport,
    SupervisionTask,
    TaskEvent,
)

__all__ = [
    "ApiClient",
    "Area",
    "Attachment",
    "Base",
    "Case",
    "CaseEvent",
    "Category",
    "ChainHead",
    "CodeAttempt",
    "Counter",
    "Department",
    "GridGeneration",
    "IdempotencyKey",
    "Landmark",
    "Notification",
    "OutboxMessage",
    "Reading",
    "RevokedToken",
    "Road",
    "RoutingRule",
    "SecurityEvent",
    "Station",
    "Supervision",
    "User",
    "UserGrid",
    "UserRole",
    "utcnow",
]
