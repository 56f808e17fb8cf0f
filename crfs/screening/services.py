"""Writes that end screening: an investigator's eligibility override, and screen failure.

Enrolment itself is participants.services.enrol_participant; it asks
crfs.eligibility.services.check_enrolment (a lifecycle enrolment check) first.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crfs.base import FormStatus
from crfs.eligibility.models import Eligibility, EligibilityOverride
from crfs.eligibility.scoring import Decision
from crfs.eligibility.selectors import screening_checklist
from participants import services as participant_services
from participants.choices import ParticipantStatus
from participants.models import Participant
from trials import permissions
from trials.history import audit_context
from trials.signing import TOKEN_REFUSED, identity_errors


def _locked_checklist(participant: Participant) -> Eligibility:
    record = screening_checklist(participant)
    if record is None or record.status == FormStatus.IN_PROGRESS:
        raise ValidationError(_("Complete the eligibility checklist of the screening visit first."))
    return (
        Eligibility.objects.select_for_update(of=("self",))
        .select_related("visit", "override")  # the override is read next, under the lock
        .get(pk=record.pk)
    )


@transaction.atomic
def override_eligibility(
    *, actor, participant: Participant, reason: str, password: str, token: str = ""
) -> EligibilityOverride:
    """An investigator accepts a participant the checklist does not, with a reason and their
    signature (their password, entered again). The override lists the criteria it covers."""
    if not permissions.can(actor, permissions.REVIEW_AND_SIGN, participant.site):
        raise PermissionDenied
    participant = Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)
    if participant.status != ParticipantStatus.SCREENING:
        raise ValidationError(_("Only a participant in screening can have eligibility overridden."))
    record = _locked_checklist(participant)
    if record.decision == Decision.ELIGIBLE:
        raise ValidationError(_("The participant is eligible: there is nothing to override."))
    errors = {}
    reason = reason.strip()
    if not reason:
        errors["reason"] = _("Give the reason for the override.")
    failed = identity_errors(actor, password, token)
    if "password" in failed:
        errors["password"] = _("The password is not correct: the override was not signed.")
    elif failed:
        errors["token"] = str(TOKEN_REFUSED)
    if errors:
        raise ValidationError(errors)
    with audit_context(actor_id=actor.pk, reason=f"eligibility override: {reason}"):
        override, _created = EligibilityOverride.objects.update_or_create(
            eligibility=record,
            defaults={
                "criteria": list(record.result().not_passing),
                "reason": reason,
                "investigator": actor,
                "signed_at": timezone.now(),
                "eligibility_version": record.version,
            },
        )
    return override


@transaction.atomic
def record_screen_failure(*, actor, participant: Participant, effective_date: date) -> Participant:
    """Screening → screen failure, with the failed criteria of the checklist as the reason."""
    if not permissions.can(actor, permissions.ENROL, participant.site):
        raise PermissionDenied
    # The participant first, then the checklist: the order override_eligibility takes them
    # in, so the two never wait on each other (a deadlock PostgreSQL would break by error).
    Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)
    record = _locked_checklist(participant)
    if record.decision != Decision.SCREEN_FAILURE:
        raise ValidationError(
            _("The checklist shows no failed criterion (decision: %(decision)s).")
            % {"decision": record.decision_label}
        )
    if record.current_override() is not None:
        raise ValidationError(
            _("An investigator has overridden the eligibility of this participant.")
        )
    reason = _("Screen failure: %(criteria)s") % {"criteria": "; ".join(record.failed_labels())}
    return participant_services.change_status(
        actor=actor,
        participant=participant,
        to_status=ParticipantStatus.SCREEN_FAILED,
        effective_date=effective_date,
        reason=reason,
    )
