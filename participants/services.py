"""Writes for participants: registration, enrolment and status changes.

Each service runs in one transaction, checks the actor's capability at the
participant's site, validates dates against the site-local calendar, records a
StatusChange, and calls the lifecycle hooks (participants.lifecycle) last.
"""

from __future__ import annotations

from datetime import date

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from participants import lifecycle
from participants.choices import ParticipantStatus as S
from participants.models import (
    AlsHistory,
    Demographics,
    Participant,
    ParticipantIdentity,
    SiteSequence,
    StatusChange,
)
from participants.models.sequence import SequenceKind
from participants.study_ids import format_screening_number, format_study_id
from trials import permissions
from trials.models import Site, Trial


def _require(actor, capability: str, site: Site) -> None:
    if not permissions.can(actor, capability, site):
        raise PermissionDenied


def _not_in_future(site: Site, day: date, field: str) -> None:
    if day > site.local_today():
        raise ValidationError({field: _("This date is in the future at the site.")})


def _locked(participant: Participant) -> Participant:
    """Lock the participant's row only (`of`), not the site joined in: sites are not queued."""
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("site")
        .get(pk=participant.pk)
    )


def _transition(participant: Participant, new: str, day: date, actor, reason: str = "") -> None:
    lifecycle.check_transition(participant.status, new)
    if day < participant.status_date:
        raise ValidationError(
            {
                "effective_date": _(
                    "The change cannot take effect before the current status began (%(date)s)."
                )
                % {"date": participant.status_date.isoformat()}
            }
        )
    StatusChange.objects.create(
        participant=participant,
        from_status=participant.status,
        to_status=new,
        effective_date=day,
        reason=reason,
        changed_by=actor,
    )
    participant.status = new
    participant.status_date = day


def _registration_errors(screened_on: date, demographics: dict, als_history: dict) -> dict:
    errors: dict[str, str] = {}
    born = demographics.get("date_of_birth")
    onset = als_history.get("onset_date")
    diagnosis = als_history.get("diagnosis_date")
    if born and born >= screened_on:
        errors["date_of_birth"] = _("The date of birth must precede the screening date.")
    if born and (screened_on.year - born.year) > 110:
        errors["date_of_birth"] = _("This date of birth gives an age over 110 years.")
    if onset and onset > screened_on:
        errors["onset_date"] = _("Symptom onset cannot be after the screening date.")
    if onset and born and onset < born:
        errors["onset_date"] = _("Symptom onset cannot precede the date of birth.")
    if diagnosis and diagnosis > screened_on:
        errors["diagnosis_date"] = _("The diagnosis cannot be after the screening date.")
    return errors


def _save_clean(instance) -> None:
    instance.full_clean()
    instance.save()


@transaction.atomic
def register_participant(
    *,
    actor,
    site: Site,
    trial: Trial,
    screened_on: date,
    identity: dict,
    demographics: dict,
    als_history: dict,
) -> Participant:
    """Register a person being screened: screening number, identity, demographics, history."""
    _require(actor, permissions.ENROL, site)
    _not_in_future(site, screened_on, "screened_on")
    errors = _registration_errors(screened_on, demographics, als_history)
    if errors:
        raise ValidationError(errors)
    with pghistory.context(actor_id=actor.pk, reason="register participant"):
        number = SiteSequence.objects.next_value(site, SequenceKind.SCREENING)
        participant = Participant(
            site=site,
            trial=trial,
            screening_number=format_screening_number(site.code, number),
            status=S.SCREENING,
            status_date=screened_on,
            screened_on=screened_on,
            created_by=actor,
        )
        _save_clean(participant)
        StatusChange.objects.create(
            participant=participant,
            to_status=S.SCREENING,
            effective_date=screened_on,
            changed_by=actor,
        )
        _save_clean(ParticipantIdentity(participant=participant, **identity))
        _save_clean(Demographics(participant=participant, **demographics))
        _save_clean(AlsHistory(participant=participant, **als_history))
        lifecycle.run(lifecycle.ON_REGISTERED, participant)
    return participant


@transaction.atomic
def enrol_participant(*, actor, participant: Participant, enrolled_on: date) -> Participant:
    """Enrol a screened participant: allocate the study ID (never reused) and open baseline."""
    _require(actor, permissions.ENROL, participant.site)
    participant = _locked(participant)
    lifecycle.check_transition(participant.status, S.ENROLLED)
    _not_in_future(participant.site, enrolled_on, "effective_date")
    with pghistory.context(actor_id=actor.pk, reason="enrol participant"):
        number = SiteSequence.objects.next_value(participant.site, SequenceKind.STUDY_ID)
        participant.study_id = format_study_id(participant.site.code, number)
        _transition(participant, S.ENROLLED, enrolled_on, actor)
        participant.enrolled_on = enrolled_on
        participant.save()
        lifecycle.run(lifecycle.ON_ENROLLED, participant)
    return participant


@transaction.atomic
def change_status(
    *, actor, participant: Participant, to_status: str, effective_date: date, reason: str
) -> Participant:
    """Screen failure, completion, withdrawal, loss to follow-up or death, with date and reason."""
    _require(actor, permissions.ENROL, participant.site)
    participant = _locked(participant)
    if to_status in lifecycle.BY_SERVICE_ONLY:
        raise ValidationError(
            {"status": _("Use the enrolment action or the transplantation form for this change.")}
        )
    lifecycle.check_transition(participant.status, to_status)
    reason = reason.strip()
    if to_status in lifecycle.REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("Give the reason for this change.")})
    _not_in_future(participant.site, effective_date, "effective_date")
    with pghistory.context(actor_id=actor.pk, reason=reason or f"status {to_status}"):
        _transition(participant, to_status, effective_date, actor, reason)
        if to_status in lifecycle.TERMINAL:
            participant.exited_on = effective_date
        participant.save()
        lifecycle.run(lifecycle.ON_EXITED, participant)
    return participant


def record_transplanted(*, actor, participant: Participant, performed_on: date) -> None:
    """enrolled → transplanted; called by visits.services inside its own transaction."""
    if performed_on < (participant.enrolled_on or participant.screened_on):
        raise ValidationError(
            {"performed_date": _("The transplantation cannot precede enrolment.")}
        )
    _transition(participant, S.TRANSPLANTED, performed_on, actor)
    participant.save(update_fields=["status", "status_date"])


def move_transplanted_date(*, participant: Participant, performed_on: date) -> None:
    """A corrected transplantation date moves the date of the 'transplanted' status too."""
    if performed_on < (participant.enrolled_on or participant.screened_on):
        raise ValidationError(
            {"performed_date": _("The transplantation cannot precede enrolment.")}
        )
    participant.status_changes.filter(to_status=S.TRANSPLANTED).update(effective_date=performed_on)
    if participant.status == S.TRANSPLANTED:
        participant.status_date = performed_on
        participant.save(update_fields=["status_date"])
