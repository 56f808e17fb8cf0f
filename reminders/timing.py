"""Pure reminder arithmetic: when each reminder of a planned visit falls due. No database."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from trials.protocols.definitions import PlannedDate, ReminderDef


@dataclass(frozen=True)
class Due:
    definition: ReminderDef
    at: datetime


def due_day(definition: ReminderDef, *, target: date, window_start: date, window_end: date) -> date:
    base = {
        PlannedDate.WINDOW_START: window_start,
        PlannedDate.TARGET: target,
        PlannedDate.WINDOW_END: window_end,
    }[definition.relative_to]
    return base + timedelta(days=definition.offset_days)


def local_moment(day: date, hour: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """`hour`:00 on `day` in the site's zone (a nonexistent DST hour resolves forward)."""
    return datetime.combine(day, time(hour), tzinfo=zone)


def due_times(
    definitions: tuple[ReminderDef, ...],
    *,
    target: date,
    window_start: date,
    window_end: date,
    hour: int,
    zone: zoneinfo.ZoneInfo,
    now: datetime,
) -> list[Due]:
    """The reminders of one visit still worth sending, in due order.

    Of the reminders already due at `now`, only the latest is kept: a visit planned (or
    moved) late announces its current state once, not every step it has already passed.
    """
    dues = sorted(
        (
            Due(
                d,
                local_moment(
                    due_day(d, target=target, window_start=window_start, window_end=window_end),
                    hour,
                    zone,
                ),
            )
            for d in definitions
        ),
        key=lambda due: due.at,
    )
    past = [due for due in dues if due.at <= now]
    return past[-1:] + [due for due in dues if due.at > now]
