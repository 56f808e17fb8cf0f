"""What apps above visits do when visits change (hook lists filled in AppConfig.ready()).

The visits services call these inside their own transaction (see trials.hooks): reminders
re-sync when a participant's schedule changes; forms that read a visit's date (FVC age at
test, ΔFS, EMG study date) are re-derived when that date changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from participants.models import Participant
    from visits.models import Visit

# A visit's dates or status changed: (participant).
ScheduleHook = Callable[["Participant"], Any]
ON_SCHEDULE_CHANGED: list[ScheduleHook] = []


class VisitDateHook(Protocol):
    def __call__(self, visit: Visit, *, actor: Any, cause: str) -> Any: ...


# A recorded visit date was set or corrected.
ON_VISIT_DATE_CHANGED: list[VisitDateHook] = []


def schedule_changed(participant: Participant) -> None:
    for hook in ON_SCHEDULE_CHANGED:
        hook(participant)


def visit_date_changed(visit: Visit, *, actor: Any, cause: str) -> None:
    for hook in ON_VISIT_DATE_CHANGED:
        hook(visit, actor=actor, cause=cause)
