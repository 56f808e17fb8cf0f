"""The vocabulary of a protocol definition: frozen dataclasses, no database, no dates.

A protocol is data: which visits exist, what each is anchored to, its target offset
and window, and which forms are expected there. `visits.schedule` turns a definition
plus an anchor date into calendar dates; `trials.protocols.checks` rejects
inconsistent definitions at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.functional import Promise

UNSCHEDULED_CODE = "UNS"


class VisitKind(StrEnum):
    SCREENING = "screening"
    BASELINE = "baseline"
    PROCEDURE = "procedure"
    FOLLOW_UP = "follow_up"


class Anchor(StrEnum):
    """What a visit's target date is counted from (None: no target, e.g. screening)."""

    TRANSPLANTATION = "transplantation"


class CreatedOn(StrEnum):
    """The lifecycle event at which the visit row is created."""

    REGISTRATION = "registration"
    ENROLMENT = "enrolment"
    TRANSPLANTATION = "transplantation"


@dataclass(frozen=True)
class FormDef:
    code: str
    label: str | Promise
    version: str = ""


@dataclass(frozen=True)
class Window:
    """Inclusive day offsets relative to the target date: (-28, 28) is target ± 28 days."""

    start_days: int
    end_days: int


class ReminderKind(StrEnum):
    """What a reminder announces about a visit (stored as the Reminder.kind code)."""

    BEFORE_WINDOW = "before_window"
    WINDOW_OPENS = "window_opens"
    TARGET_DATE = "target_date"
    OVERDUE = "overdue"


class PlannedDate(StrEnum):
    """The planned date of a visit a reminder is counted from."""

    WINDOW_START = "window_start"
    TARGET = "target"
    WINDOW_END = "window_end"


@dataclass(frozen=True)
class ReminderDef:
    """A reminder due `offset_days` after (+) or before (-) a planned date of the visit.

    It is due at the configured local hour (ECRF_REMINDER_LOCAL_HOUR) in the site's
    time zone; `escalate` sends it to the site's investigators as well as its coordinators.
    """

    kind: ReminderKind
    relative_to: PlannedDate
    offset_days: int = 0
    escalate: bool = False


@dataclass(frozen=True)
class VisitDef:
    code: str
    label: str | Promise
    kind: VisitKind
    created_on: CreatedOn
    forms: tuple[str, ...]
    anchor: Anchor | None = None
    offset_months: int = 0
    window: Window | None = None
    reminders: tuple[ReminderDef, ...] = ()

    @property
    def is_scheduled(self) -> bool:
        """True if the visit has a target date computed from its anchor."""
        return self.anchor is not None


@dataclass(frozen=True)
class Protocol:
    nct_id: str
    title: str
    phase: str
    sponsor: str
    version: str
    visits: tuple[VisitDef, ...]
    unscheduled_visits_allowed: bool = True
    unscheduled_forms: tuple[str, ...] = field(default_factory=tuple)

    def visit(self, code: str) -> VisitDef:
        for visit in self.visits:
            if visit.code == code:
                return visit
        raise KeyError(code)

    def visits_created_on(self, event: CreatedOn) -> tuple[VisitDef, ...]:
        return tuple(v for v in self.visits if v.created_on == event)

    def order_of(self, code: str) -> int:
        """Position in the schedule; unscheduled visits sort after the scheduled ones."""
        for index, visit in enumerate(self.visits):
            if visit.code == code:
                return index
        return len(self.visits)
