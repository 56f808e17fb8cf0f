"""Pure calendar arithmetic of the visit schedule: no database, no request.

Clinical dates are `date`s in the site's time zone. Targets of follow-ups are
calendar months after the anchor (the transplantation date), clamped to the
month end; windows are inclusive day offsets around the target.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from trials.models import Site
from trials.protocols.definitions import VisitDef
from visits.choices import VisitStatus


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, clamped to the end of the resulting month.

    31 Aug 2025 + 6 → 28 Feb 2026; 31 Aug 2023 + 6 → 29 Feb 2024; 29 Feb 2024 + 12 → 28 Feb 2025.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Planned:
    target: date
    window_start: date
    window_end: date


def plan(visit: VisitDef, anchor: date | None) -> Planned | None:
    """Target and window of a scheduled visit from its anchor date (None until it is known)."""
    if anchor is None or visit.anchor is None or visit.window is None:
        return None
    target = add_months(anchor, visit.offset_months)
    return Planned(
        target=target,
        window_start=target + timedelta(days=visit.window.start_days),
        window_end=target + timedelta(days=visit.window.end_days),
    )


def days_from_target(target: date | None, actual: date | None) -> int | None:
    """Signed days of the actual date after (+) or before (-) the target."""
    if target is None or actual is None:
        return None
    return (actual - target).days


def visit_status(
    *,
    window_start: date | None,
    window_end: date | None,
    actual: date | None,
    today: date,
    missed: bool = False,
    expected: bool = True,
) -> VisitStatus:
    """The status of one visit on `today` (the site-local date)."""
    if actual is not None:
        if window_start is None or window_end is None or window_start <= actual <= window_end:
            return VisitStatus.DONE
        return VisitStatus.DONE_OUT_OF_WINDOW
    if missed:
        return VisitStatus.MISSED
    if not expected:
        return VisitStatus.NOT_EXPECTED
    if window_start is None or window_end is None or today < window_start:
        return VisitStatus.UPCOMING
    if today <= window_end:
        return VisitStatus.WINDOW_OPEN
    return VisitStatus.OVERDUE


def local_today(site: Site) -> date:
    """Today's date in the site's time zone (23:30 in Tehran is still that Tehran day).

    The same as `site.local_today()`: timezone.now().astimezone(site.zone).date().
    """
    return site.local_today()
