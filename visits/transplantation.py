"""Writes for the transplantation: recording it schedules the follow-ups and their reminders;
correcting its date reschedules every visit not yet done (and its pending reminders), with
the reason in the audit trail."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from participants import services as participant_services
from participants.choices import ParticipantStatus
from participants.models import Participant
from trials import permissions
from trials.history import audit_context
from trials.jalali import display_date
from trials.protocols.definitions import CreatedOn, VisitKind
from visits import hooks
from visits.models import Transplantation, Visit
from visits.services import create_visits, replan_open_visits, require, save_visits

FIELDS = (
    "route",
    "injection_level",
    "cell_dose",
    "viability_percent",
    "volume_ml",
    "cell_lot",
    "needle_type",
    "needle_gauge",
    "operator",
    "immediate_complications",
)


def _performed_on(participant: Participant, performed_at: datetime):
    if performed_at.tzinfo is None:
        raise ValueError("performed_at must be timezone-aware")
    performed_on = participant.site.local_date(performed_at)
    if performed_on > participant.site.local_today():
        raise ValidationError({"performed_date": _("The transplantation cannot be in the future.")})
    return performed_on


def _check_against_done_visits(participant: Participant, performed_on, visits: list[Visit]):
    procedures = _procedure_codes(participant)
    for visit in visits:
        if visit.actual_date is None or visit.code in procedures:
            continue
        kind = visit.definition.kind if visit.definition else None
        if kind == VisitKind.BASELINE and visit.actual_date > performed_on:
            raise ValidationError(
                {
                    "performed_date": _(
                        "The baseline visit (%(date)s) cannot be after the transplantation."
                    )
                    % {"date": display_date(visit.actual_date)}
                }
            )
        if kind == VisitKind.FOLLOW_UP and visit.actual_date < performed_on:
            raise ValidationError(
                {
                    "performed_date": _(
                        "Visit %(code)s (%(date)s) would precede the transplantation."
                    )
                    % {"code": visit.code, "date": display_date(visit.actual_date)}
                }
            )


def _save_clean(transplantation: Transplantation, *, exclude: tuple[str, ...]) -> None:
    # Every check constraint of Transplantation repeats a field validator (its
    # checks_repeating_validators): asking the database again cannot fail.
    transplantation.full_clean(exclude=exclude, validate_constraints=False)
    # New: inserted straight away (its uniqueness is established), no UPDATE tried first.
    transplantation.save(force_insert=transplantation._state.adding)


def _date_tx_visit(participant: Participant, visits: list[Visit]) -> None:
    """The TX visit is the procedure itself: done on the transplantation date, always."""
    today = participant.site.local_today()
    procedures = _procedure_codes(participant)
    dated = []
    for visit in visits:
        if visit.code in procedures:
            visit.actual_date = participant.transplantation.performed_on
            visit.refresh(today)
            dated.append(visit)
    save_visits(dated, ["actual_date", "status", "days_from_target"])


def _procedure_codes(participant: Participant) -> list[str]:
    return [v.code for v in participant.trial.protocol.visits if v.kind == VisitKind.PROCEDURE]


def _visits(participant: Participant) -> list[Visit]:
    """The participant's visits, read once for the checks, the new visits and the replanning
    (in no order: ordering by participant would join the participant and site tables)."""
    return list(participant.visits.order_by())


@transaction.atomic
def record_transplantation(
    *, actor, participant: Participant, performed_at: datetime, data: dict
) -> Transplantation:
    """Record the procedure: participant → transplanted; TX done; M06 … M24 scheduled."""
    participant = (
        Participant.objects.select_for_update(of=("self",))
        .select_related("site", "trial")
        .get(pk=participant.pk)
    )
    require(actor, permissions.ENTER_DATA, participant)
    # Only the transplantation makes a participant transplanted, so an enrolled one has none:
    # the record is looked for only to explain a refusal.
    if participant.status != ParticipantStatus.ENROLLED:
        if Transplantation.objects.filter(participant=participant).exists():
            raise ValidationError(_("The transplantation is already recorded; correct it instead."))
        raise ValidationError(
            _("Only an enrolled participant can be transplanted (status: %(status)s).")
            % {"status": participant.get_status_display()}
        )
    performed_on = _performed_on(participant, performed_at)
    visits = _visits(participant)
    _check_against_done_visits(participant, performed_on, visits)
    with audit_context(actor_id=actor.pk, reason="record transplantation"):
        transplantation = Transplantation(
            participant=participant,
            performed_at=performed_at,
            performed_on=performed_on,
            recorded_by=actor,
            **{name: data[name] for name in FIELDS},
        )
        # The participant is locked, and enrolled: it has no transplantation yet.
        _save_clean(transplantation, exclude=("participant", "recorded_by"))
        participant.transplantation = transplantation
        participant_services.record_transplanted(
            actor=actor, participant=participant, performed_on=performed_on
        )
        # The new visits come planned and TX dated; the ones read before are replanned.
        create_visits(
            participant,
            CreatedOn.TRANSPLANTATION,
            anchor=performed_on,
            existing={visit.code for visit in visits if visit.sequence == 0},
        )
        _date_tx_visit(participant, visits)
        replan_open_visits(participant, visits)
        hooks.schedule_changed(participant)
    return transplantation


@transaction.atomic
def correct_transplantation(
    *, actor, transplantation: Transplantation, performed_at: datetime, data: dict, reason: str
) -> Transplantation:
    """Correct the record; a new date reschedules what is not yet done. Done visits keep dates."""
    transplantation = (
        Transplantation.objects.select_for_update(of=("self", "participant"))
        .select_related("participant__site", "participant__trial")
        .get(pk=transplantation.pk)
    )
    participant = transplantation.participant
    require(actor, permissions.ENTER_DATA, participant)
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the correction.")})
    performed_on = _performed_on(participant, performed_at)
    moved = performed_on != transplantation.performed_on
    if moved:
        visits = _visits(participant)
        _check_against_done_visits(participant, performed_on, visits)
        if participant.exited_on is not None and performed_on > participant.exited_on:
            raise ValidationError(
                {"performed_date": _("The transplantation cannot be after the end of study.")}
            )
    with audit_context(actor_id=actor.pk, reason=reason.strip()):
        transplantation.performed_at = performed_at
        transplantation.performed_on = performed_on
        for name in FIELDS:
            setattr(transplantation, name, data[name])
        _save_clean(transplantation, exclude=("participant",))  # locked with the record
        if moved:
            participant.transplantation = transplantation
            participant_services.move_transplanted_date(
                participant=participant, performed_on=performed_on
            )
            _date_tx_visit(participant, visits)
            replan_open_visits(participant, visits)
            hooks.schedule_changed(participant)  # pending ones move; sent ones are kept
    return transplantation
