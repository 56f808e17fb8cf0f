"""Edit check on the FVC: % predicted falling by more than 30 points from one visit to the
next is faster than ALS progresses, more often a wrong blow or a wrong height."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crfs.fvc.models import Fvc
from trials.checks import Check, Finding, register

RECORD_TYPE = "fvc"
FALL_POINTS = 30.0


@dataclass(frozen=True)
class Measurement:
    record_pk: int
    visit_id: int
    visit: str
    day: date | None  # the loader reads dated visits only
    percent_predicted: float | None


@dataclass(frozen=True)
class Series:
    measurements: tuple[Measurement, ...]  # in visit date order


def percent_predicted_falls(series: Series) -> list[Finding]:
    findings = []
    for before, after in pairwise(
        m for m in series.measurements if m.percent_predicted is not None
    ):
        assert before.percent_predicted is not None and after.percent_predicted is not None
        fall = before.percent_predicted - after.percent_predicted
        if fall <= FALL_POINTS:
            continue
        findings.append(
            Finding(
                record_type=RECORD_TYPE,
                record_pk=after.record_pk,
                visit_id=after.visit_id,
                field="percent_predicted",
                key="percent_predicted",
                message=_(
                    "FVC %% predicted fell from %(old).0f at %(before)s to %(new).0f at "
                    "%(after)s (-%(fall).0f points): please check the blows and the height."
                )
                % {
                    "old": before.percent_predicted,
                    "new": after.percent_predicted,
                    "before": before.visit,
                    "after": after.visit,
                    "fall": fall,
                },
            )
        )
    return findings


def load(participant_ids: Sequence[int]) -> dict[int, Series]:
    rows = (
        Fvc.objects.filter(
            visit__participant_id__in=participant_ids, visit__actual_date__isnull=False
        )
        .order_by("visit__participant_id", "visit__actual_date", "visit__position", "pk")
        .values_list(
            "visit__participant_id",
            "pk",
            "visit_id",
            "visit__code",
            "visit__actual_date",
            "percent_predicted",
        )
    )
    grouped: dict[int, list[Measurement]] = {}
    for pid, pk, visit_id, code, day, percent in rows:
        grouped.setdefault(pid, []).append(Measurement(pk, visit_id, code, day, percent))
    return {pid: Series(tuple(found)) for pid, found in grouped.items()}


def register_checks() -> None:
    register(
        Check(
            key="fvc_fall",
            label=gettext_lazy("FVC fall"),
            description=gettext_lazy("FVC % predicted more than 30 points below the visit before."),
            load=load,
            rule=percent_predicted_falls,
            # % predicted is re-derived in place when a visit date, the demographics or the
            # equation change; those re-derivations do not save through save_form, so the
            # nightly run catches them.
            triggers=frozenset({RECORD_TYPE, "visit"}),
        )
    )
