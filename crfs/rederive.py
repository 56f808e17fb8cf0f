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

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from crfs import registry
from crfs.base import FormRecord
from crfs.eligibility.scoring import DECISION_LABELS
from trials.history import audit_context

if TYPE_CHECKING:
    from crfs.eligibility.models import Eligibility
    from participants.models import Participant
    from trials.models import Trial
    from visits.models import Visit


@dataclass
class Rederived:
    changed: list[FormRecord] = field(default_factory=list)
    locked: list[FormRecord] = field(default_factory=list)  # would change; left alone
    # Per changed record (in `changed`'s order): field → (before, after).
    values: list[dict[str, tuple[Any, Any]]] = field(default_factory=list)


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
        with audit_context(actor_id=actor.pk, reason=cause, form=record.form_code):
            record.save(update_fields=[*changed, "updated_at"])
        result.changed.append(record)
        result.values.append({name: (before[name], getattr(record, name)) for name in changed})
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


@dataclass
class ParticipantRederived:
    """What a correction of a participant's demographics or ALS history re-derived."""

    forms: Rederived
    checklist: Eligibility | None = None  # the screening checklist as it now stands
    checklist_changed: bool = False
    checklist_locked: bool = False
    decision_before: str = ""
    # The checklist's El Escorial category is its own answer (prefilled from the history when
    # the checklist was started): a corrected history does not change it, so say so.
    el_escorial_differs: bool = False

    def messages(self) -> list[str]:
        """One line per changed or locked record and one for the checklist, for the page."""
        lines = [
            _("%(form)s at %(visit)s: %(values)s")
            % {
                "form": record._meta.verbose_name,
                "visit": record.visit.code,
                "values": "; ".join(
                    _("%(name)s %(before)s → %(after)s")
                    % {
                        "name": record.field_label(name),
                        "before": _shown(before),
                        "after": _shown(after),
                    }
                    for name, (before, after) in values.items()
                ),
            }
            for record, values in zip(self.forms.changed, self.forms.values, strict=True)
        ]
        lines += [
            _("%(form)s at %(visit)s is locked: its derived values were left as they were.")
            % {"form": record._meta.verbose_name, "visit": record.visit.code}
            for record in self.forms.locked
        ]
        if not self.forms.changed and not self.forms.locked:
            lines.append(_("No stored derived value of the forms changed."))
        checklist = self.checklist
        if checklist is None:
            lines.append(_("No eligibility checklist has been started."))
        elif self.checklist_locked:
            lines.append(
                _("The eligibility checklist is locked: not re-derived (%(decision)s).")
                % {"decision": checklist.decision_label}
            )
        elif self.checklist_changed and checklist.decision != self.decision_before:
            lines.append(
                _("Eligibility re-derived: now %(decision)s (was %(before)s).")
                % {
                    "decision": checklist.decision_label,
                    "before": DECISION_LABELS[self.decision_before],
                }
            )
        elif self.checklist_changed:
            lines.append(
                _("Eligibility re-derived: still %(decision)s.")
                % {"decision": checklist.decision_label}
            )
        else:
            lines.append(
                _("Eligibility unchanged: %(decision)s.") % {"decision": checklist.decision_label}
            )
        if self.el_escorial_differs and checklist is not None:
            lines.append(
                _(
                    "The checklist's El Escorial category (%(checklist)s) is its own answer and "
                    "differs from the ALS history: correct it on the checklist if it is wrong too."
                )
                % {"checklist": checklist.get_el_escorial_display()}
            )
        return lines


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}"
    return str(value)


def rederive_participant(
    participant: Participant, *, actor: Any, cause: str
) -> ParticipantRederived:
    """Re-derive every form of the participant that reads beyond its answers, and the
    screening checklist (after the demographics or ALS history were corrected). The caller
    holds the participant's row; `participant` carries the corrected rows."""
    from crfs.eligibility import services as eligibility
    from crfs.eligibility.selectors import screening_checklist

    records: list[FormRecord] = []
    for model in context_models():
        for record in (
            model.objects.filter(visit__participant=participant)
            .select_related("visit")
            .order_by("visit__actual_date", "visit__pk")
        ):
            record.visit.participant = participant  # with the corrected rows
            records.append(record)
    result = ParticipantRederived(forms=rederive(records, actor=actor, cause=cause))
    checklist = screening_checklist(participant)
    if checklist is None:
        return result
    visit = checklist.visit
    visit.participant = participant
    refreshed = eligibility.refresh_from_sources(visit, user=actor, cause=cause) or checklist
    result.checklist = refreshed
    result.checklist_locked = refreshed.is_locked
    result.checklist_changed = refreshed.version != checklist.version
    result.decision_before = checklist.decision
    history = getattr(participant, "als_history", None)
    result.el_escorial_differs = bool(
        history is not None
        and refreshed.el_escorial
        and refreshed.el_escorial != history.el_escorial
    )
    return result


def on_clinical_corrected(participant: Participant, *, actor: Any, cause: str) -> list[str]:
    """participants.lifecycle.ON_CLINICAL_CORRECTED: re-derive, and say what was re-derived."""
    return rederive_participant(participant, actor=actor, cause=cause).messages()
