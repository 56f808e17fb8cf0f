"""Edit check on the vital signs: a weight more than 10 % away from the baseline weight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crfs.vitals.models import Vitals
from trials.checks import Check, Finding, register

RECORD_TYPE = "vitals"
CHANGE_PERCENT = Decimal(10)


@dataclass(frozen=True)
class Weighing:
    record_pk: int
    visit_id: int
    visit: str
    weight_kg: Decimal | None
    baseline_weight_kg: Decimal | None  # stored with the record (re-derived with the baseline)


@dataclass(frozen=True)
class Weights:
    weighings: tuple[Weighing, ...]


def weight_changes(weights: Weights) -> list[Finding]:
    findings = []
    for w in weights.weighings:
        if w.weight_kg is None or not w.baseline_weight_kg:
            continue
        change = (w.weight_kg - w.baseline_weight_kg) / w.baseline_weight_kg * 100
        if abs(change) <= CHANGE_PERCENT:
            continue
        findings.append(
            Finding(
                record_type=RECORD_TYPE,
                record_pk=w.record_pk,
                visit_id=w.visit_id,
                field="weight_kg",
                key="weight_kg",
                message=_(
                    "Weight %(weight)s kg at %(visit)s is %(change)+.1f %% from the baseline "
                    "weight %(baseline)s kg: please check it against the source."
                )
                % {
                    "weight": w.weight_kg,
                    "visit": w.visit,
                    "change": change,
                    "baseline": w.baseline_weight_kg,
                },
            )
        )
    return findings


def load(participant_ids: Sequence[int]) -> dict[int, Weights]:
    rows = (
        Vitals.objects.filter(visit__participant_id__in=participant_ids)
        .order_by("visit__participant_id", "visit__position", "pk")
        .values_list(
            "visit__participant_id",
            "pk",
            "visit_id",
            "visit__code",
            "weight_kg",
            "baseline_weight_kg",
        )
    )
    grouped: dict[int, list[Weighing]] = {}
    for pid, pk, visit_id, code, weight, baseline in rows:
        grouped.setdefault(pid, []).append(Weighing(pk, visit_id, code, weight, baseline))
    return {pid: Weights(tuple(found)) for pid, found in grouped.items()}


def register_checks() -> None:
    register(
        Check(
            key="weight_change",
            label=gettext_lazy("Weight change from baseline"),
            description=gettext_lazy("A weight more than 10 % above or below the baseline weight."),
            load=load,
            rule=weight_changes,
            triggers=frozenset({RECORD_TYPE}),
        )
    )
