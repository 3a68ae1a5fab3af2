"""Open311 errors: one or several (code, description) pairs sent back at once with one HTTP status."""

from __future__ import annotations

from dataclasses import dataclass, field

# When several errors are reported together, the response status is the first of these that occurs:
# a bad key stops everything (403), then malformed input (400), then a missing resource (404).
_PRECEDENCE = (403, 400, 404)


@dataclass(frozen=True)
class ErrorItem:
    code: int
    description: str


class Open311Error(Exception):
    def __init__(self, items: list[ErrorItem]) -> None:
        super().__init__("; ".join(i.description for i in items))
        self.items = items

    @property
    def status(self) -> int:
        codes = {i.code for i in self.items}
        return next((c for c in _PRECEDENCE if c in codes), 400)


@dataclass
class Problems:
    """Collects errors while reading parameters so that all of them are reported in one response."""

    items: list[ErrorItem] = field(default_factory=list)

    def add(self, code: int, description: str) -> None:
        self.items.append(ErrorItem(code, description))

    def raise_if_any(self) -> None:
        if self.items:
            raise Open311Error(list(self.items))


def fail(code: int, description: str) -> Open311Error:
    return Open311Error([ErrorItem(code, description)])
