"""Eligibility writes and checks: the checklist re-derived after a source form was saved,
and the enrolment check that asks it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crfs.base import FormStatus
from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import Decision
from crfs.eligibility.selectors import screening_checklist
from trials.history import audit_context

# Forms whose saving re-derives the checklist of the same (screening) visit.
SOURCE_FORMS = frozenset({"alsfrs_r", "fvc"})


def refresh_from_sources(visit, *, user, cause: str) -> Eligibility | None:
    """Re-derive the checklist of `visit` after a source form was saved (called by
    crfs.entry.save_form inside its transaction). Saves a new version, with
    the cause in the audit trail, only if a source value or the decision changed."""
    if Eligibility.form_code not in visit.expected_forms():
        return None  # no checklist at this visit (a follow-up): nothing to look up
    record = Eligibility.objects.select_for_update().filter(visit=visit).first()
    if record is None:
        return None
    record.visit = visit  # before the lock check, which reads the visit's participant
    if record.is_locked:
        return record
    before = _snapshot(record)
    record.compute_derived()
    if _snapshot(record) == before:
        return record
    if record.status in (FormStatus.VERIFIED, FormStatus.SIGNED):
        record.status = FormStatus.COMPLETE  # a changed decision is no longer what was signed
    record.version += 1
    record.updated_by = user
    with audit_context(
        reason=f"eligibility re-derived: {cause}", actor_id=user.pk, form=record.form_code
    ):
        record.save()
    return record


_DERIVED = (
    "screened_on",
    "family_history",
    "onset_region",
    "onset_date",
    "onset_precision",
    "alsfrs_swallowing",
    "alsfrs_cutting",
    "alsfrs_cutting_item",
    "alsfrs_walking",
    "fvc_percent_predicted",
    "fvc_equation",
    "consent_signed_on",
    "consent_version",
    "outcomes",
    "decision",
    "failed_criteria",
    "unknown_criteria",
)


def _snapshot(record: Eligibility) -> tuple:
    return tuple(getattr(record, name) for name in _DERIVED)


def check_enrolment(participant) -> None:
    """Refuse enrolment unless the screening checklist is complete and eligible, or an
    investigator's override covers it (connected to participants.lifecycle.ENROLMENT_CHECKS)."""
    record = screening_checklist(participant)
    if record is None or record.status == FormStatus.IN_PROGRESS:
        raise ValidationError(
            _(
                "The eligibility checklist of the screening visit is not complete: "
                "complete it before enrolment."
            )
        )
    if record.decision == Decision.ELIGIBLE or record.current_override() is not None:
        return
    raise ValidationError(
        _(
            "The participant is not eligible (%(criteria)s). Only an eligible participant, "
            "or one whose eligibility an investigator has overridden, can be enrolled."
        )
        % {"criteria": "; ".join(record.failed_labels() or record.unknown_labels())}
    )


def check_return_to_screening(participant) -> None:
    """Refuse to undo a screen failure the screening checklist still makes (connected to
    participants.lifecycle.RETURN_TO_SCREENING_CHECKS); the checklist row is locked, so it
    cannot become a screen failure while the participant returns."""
    found = screening_checklist(participant)
    if found is None:
        return  # a screen failure recorded without a checklist: nothing contradicts the return
    record = Eligibility.objects.select_for_update(of=("self",)).get(pk=found.pk)
    if record.decision == Decision.SCREEN_FAILURE:
        raise ValidationError(
            _(
                "The screening checklist still makes this participant a screen failure "
                "(%(criteria)s): correct the data it reads first."
            )
            % {"criteria": "; ".join(record.failed_labels())}
        )
