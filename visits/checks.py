"""Edit check on the visits: a visit dated outside its window (a protocol deviation the
coordinator confirms or corrects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trials.checks import Check, Finding, register
from visits.models import Visit

RECORD_TYPE = "visit"


@dataclass(frozen=True)
class DatedVisit:
    pk: int
    code: str
    actual_date: date
    window_start: date | None
    window_end: date | None


@dataclass(frozen=True)
class Visits:
    visits: tuple[DatedVisit, ...]


def out_of_window(visits: Visits) -> list[Finding]:
    findings = []
    for v in visits.visits:
        if v.window_start is None or v.window_end is None:
            continue  # unscheduled, or a visit the protocol gives no window
        if v.window_start <= v.actual_date <= v.window_end:
            continue
        findings.append(
            Finding(
                record_type=RECORD_TYPE,
                record_pk=v.pk,
                visit_id=v.pk,
                field="actual_date",
                key="window",
                message=_(
                    "Visit %(visit)s is dated %(date)s, outside its window %(start)s to "
                    "%(end)s: please confirm the date or correct it."
                )
                % {
                    "visit": v.code,
                    "date": v.actual_date.isoformat(),
                    "start": v.window_start.isoformat(),
                    "end": v.window_end.isoformat(),
                },
            )
        )
    return findings


def load(participant_ids: Sequence[int]) -> dict[int, Visits]:
    rows = (
        Visit.objects.filter(participant_id__in=participant_ids, actual_date__isnull=False)
        .order_by("participant_id", "position", "sequence")
        .values_list("participant_id", "pk", "code", "actual_date", "window_start", "window_end")
    )
    grouped: dict[int, list[DatedVisit]] = {}
    for pid, pk, code, day, start, end in rows:
        if day is None:  # excluded by the filter; the type checker does not know
            continue
        grouped.setdefault(pid, []).append(DatedVisit(pk, code, day, start, end))
    return {pid: Visits(tuple(found)) for pid, found in grouped.items()}


def register_checks() -> None:
    register(
        Check(
            key="visit_window",
            label=gettext_lazy("Visit out of window"),
            description=gettext_lazy("A visit dated before its window opens or after it closes."),
            load=load,
            rule=out_of_window,
            triggers=frozenset({RECORD_TYPE}),
        )
    )
