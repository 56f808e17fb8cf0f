"""Edit checks on the ALSFRS-R: a rise between consecutive visits that ALS makes implausible
(an item by 2 points or more, the total by 6 or more), most often a transcription error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from trials.checks import Check, Finding, register

RECORD_TYPE = "alsfrs_r"
ITEM_RISE = 2
TOTAL_RISE = 6


@dataclass(frozen=True)
class Assessment:
    record_pk: int
    visit_id: int
    visit: str  # the visit's code, for the message
    day: date
    items: Mapping[str, int | None]  # field name -> score
    total: int | None


@dataclass(frozen=True)
class Series:
    """One participant's dated ALSFRS-R records, in visit date order."""

    assessments: tuple[Assessment, ...]


def item_rises(series: Series) -> list[Finding]:
    """An item 2 points or more above the same item at the visit before. 5a and 5b are
    different items: a participant who got a gastrostomy is not compared across them."""
    findings = []
    for before, after in pairwise(series.assessments):
        for code, name in FIELD_BY_CODE.items():
            old, new = before.items.get(name), after.items.get(name)
            if old is None or new is None or new - old < ITEM_RISE:
                continue
            findings.append(
                Finding(
                    record_type=RECORD_TYPE,
                    record_pk=after.record_pk,
                    visit_id=after.visit_id,
                    field=name,
                    key=name,
                    message=_(
                        "Item %(item)s rose from %(old)s at %(before)s to %(new)s at %(after)s "
                        "(+%(rise)s): please check it against the source."
                    )
                    % {
                        "item": code,
                        "old": old,
                        "new": new,
                        "before": before.visit,
                        "after": after.visit,
                        "rise": new - old,
                    },
                )
            )
    return findings


def total_rises(series: Series) -> list[Finding]:
    """A total 6 points or more above the total at the visit before."""
    findings = []
    for before, after in pairwise(series.assessments):
        if before.total is None or after.total is None or after.total - before.total < TOTAL_RISE:
            continue
        findings.append(
            Finding(
                record_type=RECORD_TYPE,
                record_pk=after.record_pk,
                visit_id=after.visit_id,
                field="total",
                key="total",
                message=_(
                    "The ALSFRS-R total rose from %(old)s at %(before)s to %(new)s at %(after)s "
                    "(+%(rise)s): please check the items against the source."
                )
                % {
                    "old": before.total,
                    "new": after.total,
                    "before": before.visit,
                    "after": after.visit,
                    "rise": after.total - before.total,
                },
            )
        )
    return findings


def load(participant_ids: Sequence[int]) -> dict[int, Series]:
    """Every dated ALSFRS-R of these participants, in one query."""
    rows = (
        AlsfrsR.objects.filter(
            visit__participant_id__in=participant_ids, visit__actual_date__isnull=False
        )
        .order_by("visit__participant_id", "visit__actual_date", "visit__position", "pk")
        .values(
            "pk",
            "visit_id",
            "visit__code",
            "visit__actual_date",
            "visit__participant_id",
            "total",
            *FIELD_BY_CODE.values(),
        )
    )
    grouped: dict[int, list[Assessment]] = {}
    for row in rows:
        grouped.setdefault(row["visit__participant_id"], []).append(
            Assessment(
                record_pk=row["pk"],
                visit_id=row["visit_id"],
                visit=row["visit__code"],
                day=row["visit__actual_date"],
                items={name: row[name] for name in FIELD_BY_CODE.values()},
                total=row["total"],
            )
        )
    return {pid: Series(tuple(found)) for pid, found in grouped.items()}


def register_checks() -> None:
    # A visit's date orders the series, so dating a visit may change the pairs compared.
    triggers = frozenset({RECORD_TYPE, "visit"})
    register(
        Check(
            key="alsfrs_r_item_rise",
            label=gettext_lazy("ALSFRS-R item rise"),
            description=gettext_lazy(
                "An ALSFRS-R item 2 points or more above the same item at the visit before."
            ),
            load=load,
            rule=item_rises,
            triggers=triggers,
        )
    )
    register(
        Check(
            key="alsfrs_r_total_rise",
            label=gettext_lazy("ALSFRS-R total rise"),
            description=gettext_lazy(
                "An ALSFRS-R total 6 points or more above the total at the visit before."
            ),
            load=load,
            rule=total_rises,
            triggers=triggers,
        )
    )
