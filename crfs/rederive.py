"""Stored derived values follow the inputs that live outside their form.

`save_form` computes a record's derived values when the record is saved. Some of them
also read things saved elsewhere: the visit date (FVC age at test, ALSFRS-R ΔFS at
screening and baseline, the EMG study date), the participant's demographics and ALS
history, the trial's spirometry equation, and the baseline visit's weight (weight change
at later visits). When one of those changes, the services that change it call
`rederive` so the stored values never silently describe the old inputs.

A re-derivation changes derived columns only: the answers, the status (a signature
covers the answers), the version (an editor with the form open is not refused: their
save recomputes from the same inputs) and `updated_by` stay. Each changed record is
saved under an audit context naming the cause, so the trail shows why the value moved.
Locked records are left alone and reported: a locked form changes only after unlocking.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import connection

from crfs import registry
from crfs.base import FormRecord

if TYPE_CHECKING:
    from trials.models import Trial
    from visits.models import Visit


@dataclass
class Rederived:
    changed: list[FormRecord] = field(default_factory=list)
    locked: list[FormRecord] = field(default_factory=list)  # would change; left alone


def context_models() -> list[type[FormRecord]]:
    """The form models whose derived values read beyond their own answers."""
    return [
        spec.model for spec in registry.entry_forms().values() if spec.model.derived_from_context
    ]


def rederive(records: Iterable[FormRecord], *, actor, cause: str) -> Rederived:
    """Recompute each record's derived values and save those that changed (derived
    columns only). A record whose answers no longer derive (e.g. now implausible) keeps
    its stored values: the next save through the form reports the problem."""
    result = Rederived()
    for record in records:
        names = record.derived_field_names()
        before = {name: getattr(record, name) for name in names}
        try:
            record.compute_derived()
        except (ValueError, ValidationError):
            continue
        changed = [name for name in names if getattr(record, name) != before[name]]
        if not changed:
            continue
        if record.is_locked:
            for name, value in before.items():
                setattr(record, name, value)
            result.locked.append(record)
            continue
        with pghistory.context(actor_id=actor.pk, reason=cause, form=record.form_code):
            record.save(update_fields=[*changed, "updated_at"])
        result.changed.append(record)
    return result


def rederive_visit(visit: Visit, *, actor: Any, cause: str) -> Rederived:
    """Re-derive the visit's records that read beyond their answers (after its date moved).

    One statement finds which of those forms the visit has, so dating a visit with no
    forms yet (the usual case) costs one query."""
    models = context_models()
    with connection.cursor() as cursor:
        cursor.execute(_presence_sql(tuple(models)), [visit.pk] * len(models))
        present = {row[0] for row in cursor.fetchall()}
    records: list[FormRecord] = []
    for index, model in enumerate(models):
        if index in present:
            record = model.objects.get(visit=visit)
            record.visit = visit  # with its participant, already loaded by the caller
            records.append(record)
    return rederive(records, actor=actor, cause=cause)


@functools.cache
def _presence_sql(models: tuple[type[FormRecord], ...]) -> str:
    """SELECT of the indexes of `models` with a record at the visit (one parameter each):
    written once per process, as this runs at every visit dating."""
    qn = connection.ops.quote_name
    return " UNION ALL ".join(
        # Only quoted table and column names of our models; the visit id is a parameter.
        f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {qn(model._meta.db_table)} "  # noqa: S608
        f"WHERE {qn(model._meta.get_field('visit').column)} = %s)"
        for index, model in enumerate(models)
    )


def rederive_trial_spirometry(trial: Trial, *, actor: Any) -> Rederived:
    """Re-derive every FVC of the trial (after its reference equation changed)."""
    from crfs.fvc.models import Fvc

    records = (
        Fvc.objects.filter(visit__participant__trial=trial)
        .select_related("visit__participant__demographics")
        .order_by("pk")
    )

    def with_this_trial():
        for record in records.iterator(chunk_size=500):
            record.visit.participant.trial = trial  # the changed one, not a fresh read per row
            yield record

    cause = f"spirometry equation of {trial.nct_id} changed to {trial.spirometry_equation}"
    return rederive(with_this_trial(), actor=actor, cause=cause)
