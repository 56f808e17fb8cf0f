"""Start-up check: refuse a protocol definition that cannot be scheduled consistently.

Registered in TrialsConfig.ready(); `problems()` is also called directly by tests
with deliberately broken definitions.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from django.core import checks

from trials.protocols import PROTOCOLS
from trials.protocols.definitions import UNSCHEDULED_CODE, Protocol, VisitDef, VisitKind
from trials.protocols.forms import FORM_CATALOGUE

# Bounds on the day distance of k calendar months (clamped to the month end):
# k months hold between 28k and 31k days, and clamping moves a date by at most 3 days.
_CLAMP_DAYS = 3


def _min_days(months: int) -> int:
    return 28 * months - _CLAMP_DAYS if months else 0


def _windows_may_overlap(earlier: VisitDef, later: VisitDef) -> bool:
    """Conservative: True if, for some anchor date, `earlier`'s window reaches `later`'s."""
    assert earlier.window is not None and later.window is not None
    gap = _min_days(later.offset_months - earlier.offset_months)
    # A visit may end on the day of a procedure: it is examined before the procedure that day.
    shared = 1 if later.kind == VisitKind.PROCEDURE else 0
    return earlier.window.end_days >= gap + later.window.start_days + shared


def problems(protocol: Protocol) -> list[str]:
    """Every inconsistency in a definition, as messages (empty when it is sound)."""
    found: list[str] = []
    codes = [v.code for v in protocol.visits]
    for code, count in Counter(codes).items():
        if count > 1:
            found.append(f"visit code {code!r} is defined {count} times")
    if UNSCHEDULED_CODE in codes:
        found.append(f"visit code {UNSCHEDULED_CODE!r} is reserved for unscheduled visits")
    for visit in protocol.visits:
        for form in visit.forms:
            if form not in FORM_CATALOGUE:
                found.append(f"visit {visit.code}: unknown form code {form!r}")
        if len(set(visit.forms)) != len(visit.forms):
            found.append(f"visit {visit.code}: a form is listed twice")
        if visit.window is not None and visit.window.start_days > visit.window.end_days:
            found.append(f"visit {visit.code}: window starts after it ends")
        if visit.anchor is not None and visit.window is None:
            found.append(f"visit {visit.code}: a scheduled visit needs a window")
        if visit.reminders and (visit.anchor is None or visit.window is None):
            found.append(f"visit {visit.code}: only a scheduled visit can have reminders")
        kinds = [r.kind for r in visit.reminders]
        if len(set(kinds)) != len(kinds):
            found.append(f"visit {visit.code}: a reminder kind is listed twice")
    for form in protocol.unscheduled_forms:
        if form not in FORM_CATALOGUE:
            found.append(f"unscheduled visits: unknown form code {form!r}")
    found.extend(_overlap_problems(protocol))
    return found


def _target_order(visit: VisitDef) -> tuple[int, int]:
    assert visit.window is not None  # only visits with a window are compared
    return (visit.offset_months, visit.window.start_days)


def _overlap_problems(protocol: Protocol) -> list[str]:
    """Scheduled visits sharing an anchor, in target order, must have disjoint windows."""
    found = []
    by_anchor: dict[str, list[VisitDef]] = {}
    for visit in protocol.visits:
        if visit.is_scheduled and visit.window is not None:
            by_anchor.setdefault(str(visit.anchor), []).append(visit)
    for visits in by_anchor.values():
        ordered = sorted(visits, key=_target_order)
        for earlier, later in pairwise(ordered):
            if _windows_may_overlap(earlier, later):
                found.append(f"windows of {earlier.code} and {later.code} overlap")
    return found


def check_protocols(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for nct_id, protocol in PROTOCOLS.items():
        if nct_id != protocol.nct_id:
            errors.append(
                checks.Error(
                    f"protocol registered as {nct_id} declares {protocol.nct_id}",
                    id="trials.E001",
                )
            )
        for message in problems(protocol):
            errors.append(
                checks.Error(
                    f"protocol {protocol.nct_id}: {message}",
                    hint="Fix the definition in trials/protocols/.",
                    id="trials.E002",
                )
            )
    return errors
