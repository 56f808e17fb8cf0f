"""Saving a case report form: one service for every instrument.

One transaction: lock the record row, refuse a stale version (optimistic
concurrency: the other person's save stays, this person's input goes back to
them with what changed), refuse changes to a locked form, ask for a reason for
any change after completion, check completeness, compute and store the derived
scores, and record the reason in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crfs.base import REASON_REQUIRED, FormRecord, FormStatus
from participants.models import Consent
from trials import checks
from trials.history import audit_context

# Saved at registration (identity, demographics, ALS history), not through this service;
# every form saved here is a study procedure and needs the signed consent first.
CONSENT_NOT_NEEDED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Change:
    field: str
    saved: Any
    submitted: Any


class StaleFormError(Exception):
    """Someone saved the form after this person opened it."""

    def __init__(self, record: FormRecord, changes: list[Change]):
        self.record = record
        self.changes = changes
        super().__init__(f"{record.form_code} was saved by someone else (version {record.version})")


def _differences(
    record: FormRecord,
    answers: dict[str, Any],
    missing: dict[str, str],
    children: dict[str, dict[str, Any]] | None = None,
) -> list[Change]:
    changes = [
        Change(name, getattr(record, name), value)
        for name, value in answers.items()
        if getattr(record, name) != value
    ]
    old_missing = record.missing_reasons or {}
    for name in sorted(set(old_missing) | set(missing)):
        if old_missing.get(name) != missing.get(name):
            changes.append(
                Change(f"{name} (missing reason)", old_missing.get(name), missing.get(name))
            )
    if children is not None:
        old_rows = record.saved_children() if record.pk else {}
        for key in sorted(set(old_rows) | set(children)):
            if old_rows.get(key) != children.get(key):
                changes.append(
                    Change(key, _describe(old_rows.get(key)), _describe(children.get(key)))
                )
    return changes


def _describe(row: dict[str, Any] | None) -> str | None:
    return None if row is None else ", ".join(f"{k} {v}" for k, v in row.items())


def save_form(
    *,
    record_class: type[FormRecord],
    visit,
    user,
    answers: dict[str, Any],
    missing_reasons: dict[str, str] | None = None,
    expected_version: int,
    complete: bool,
    reason: str = "",
    children: dict[str, dict[str, Any]] | None = None,
    wording: dict[str, str] | None = None,
) -> FormRecord:
    """Create or update `record_class`'s record for `visit`. Raises StaleFormError or ValidationError.

    `children` (forms with child rows only, e.g. EMG muscle findings): the complete set
    of rows keyed by a stable label; compared like the answers, saved by the record's
    `save_children` in the same transaction. None leaves stored rows alone.

    `wording` (instruments only: crfs.wording.forms.wording_used): the wording the answers
    were given in (the validated translation's source and version, or the published
    original), recorded with the saved version in its audit event.
    """
    missing = {k: v for k, v in (missing_reasons or {}).items() if v}
    unknown = set(answers) - set(record_class.answer_fields())
    if unknown:
        raise ValueError(f"not answers of {record_class.form_code}: {sorted(unknown)}")
    reason = reason.strip()
    # Asked on every save (one EXISTS): a consent rolled back, even to a savepoint, must
    # never let a form through, and only the database knows what survived.
    if record_class.form_code not in CONSENT_NOT_NEEDED and not has_consent(visit.participant_id):
        raise ValidationError(
            _(
                "Informed consent is not recorded for this participant: no study form can be "
                "saved before the signed consent is entered."
            )
        )
    # Data of a visit that has not happened would be dated by nothing: the visit comes first.
    if visit.actual_date is None:
        raise ValidationError(
            _("This visit has no date yet: record the visit date before saving its forms.")
        )
    try:
        with transaction.atomic():
            return _save(
                record_class=record_class,
                visit=visit,
                user=user,
                answers=answers,
                missing=missing,
                expected_version=expected_version,
                complete=complete,
                reason=reason,
                children=children,
                wording=wording,
            )
    except StaleFormError:
        raise
    except Exception as error:
        if expected_version != 0:
            raise
        # A first save does not look for the record beforehand: one saved by someone else
        # meanwhile makes the INSERT fail on the unique visit (or this input fail on its own).
        # Either way the other person's save is the answer, as if it had been found first.
        record = record_class.objects.filter(visit=visit).first()
        if record is None:
            raise
        record.visit = visit
        raise StaleFormError(record, _differences(record, answers, missing, children)) from error


def _save(
    *,
    record_class: type[FormRecord],
    visit,
    user,
    answers: dict[str, Any],
    missing: dict[str, str],
    expected_version: int,
    complete: bool,
    reason: str,
    children: dict[str, dict[str, Any]] | None,
    wording: dict[str, str] | None = None,
) -> FormRecord:
    """save_form's work inside its transaction."""
    record: FormRecord | None
    if expected_version == 0:
        # A first save: FOR UPDATE of a row that does not exist locks nothing, so the
        # record's unique visit is what refuses a second first save (see save_form).
        record = record_class(visit=visit, version=0, updated_by=user)
    else:
        record = record_class.objects.select_for_update().filter(visit=visit).first()
        if record is None:
            raise StaleFormError(record_class(visit=visit, version=0), [])
        record.visit = visit  # the caller's, with its participant loaded: not read again
        if record.version != expected_version:
            raise StaleFormError(record, _differences(record, answers, missing, children))
    if record.is_locked:
        raise ValidationError(_("This form is locked; it cannot be changed."))

    changes = _differences(record, answers, missing, children)
    new_status = FormStatus.COMPLETE if complete else FormStatus.IN_PROGRESS
    status_changes = new_status != record.status and not (
        complete and record.status in REASON_REQUIRED
    )
    if record.pk and not changes and not status_changes:
        return record  # nothing to save: no new version, no audit noise
    if record.pk and record.status in REASON_REQUIRED and not reason:
        raise ValidationError(
            {"reason_for_change": _("This form is complete: give a reason for the change.")}
        )

    for name, value in answers.items():
        setattr(record, name, value)
    record.missing_reasons = missing
    record.pending_children = children
    if complete:
        errors = {
            name: _("Answer this, or give a reason it is missing.") for name in record.unanswered()
        }
        errors.update(record.completion_errors())
        if errors:
            raise ValidationError(errors)
    try:
        record.compute_derived()
    except ValueError as error:
        raise ValidationError(str(error)) from error

    if complete:
        # An edit after verification or signature clears them: the record is complete again.
        if record.status not in REASON_REQUIRED or changes:
            record.status = FormStatus.COMPLETE
        record.completed_at = record.completed_at or timezone.now()
    else:
        record.status = FormStatus.IN_PROGRESS
        record.completed_at = None
    record.version += 1
    record.updated_by = user
    recorded = {"wording": wording} if wording else {}
    with audit_context(reason=reason or None, actor_id=user.pk, form=record.form_code, **recorded):
        record.save()
        if children is not None:
            record.save_children(children)
    record.pending_children = None
    _refresh_dependents(record, user=user, reason=reason)
    checks.record_saved(
        record,
        participant_id=visit.participant_id,
        actor=user,
        reason=reason,
        fields=[change.field for change in changes],
    )
    return record


def has_consent(participant_id: int) -> bool:
    return Consent.objects.filter(participant_id=participant_id).exists()


def _refresh_dependents(record: FormRecord, *, user, reason: str) -> None:
    """Forms derived from this one are re-derived now, in the same transaction (no signals)."""
    from crfs import rederive
    from crfs.eligibility import services as eligibility

    cause = f"{record.form_code} saved" + (f" ({reason})" if reason else "")
    if record.form_code in eligibility.SOURCE_FORMS:
        eligibility.refresh_from_sources(record.visit, user=user, cause=cause)
    dependents = record.dependent_records()
    if dependents:
        visit = record.visit
        rederive.rederive(dependents, actor=user, cause=f"{cause} at {visit.code}")
