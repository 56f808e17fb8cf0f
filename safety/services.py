"""Writes of the safety records: adverse events, concomitant medication, each visit's safety
review, and the investigator's assessment of an event.

Adverse events and medications are many per visit, so `crfs.entry.save_form` (which finds its
record by the visit) cannot save them; `_save_log_record` applies the same rules to a row
found by its id: consent first, a dated visit, the row locked, a stale version refused with
the differences (`StaleFormError`), a locked row refused, a reason for any change after
completion, completeness, one audit context. The rules of the record itself come on top, all
reported at once as field errors. The per-visit review is one per visit: `save_form` saves it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crfs.base import REASON_REQUIRED, FormStatus
from crfs.entry import Change, StaleFormError, has_consent, save_form
from participants.choices import ParticipantStatus
from participants.models import Consent, Participant
from participants.partial_dates import PartialDate
from reminders import alerts
from safety import coding
from safety.choices import CRITERIA_FIELDS, Grade, Medication, Outcome
from safety.models import (
    AdverseEvent,
    AdverseEventAssessment,
    ConcomitantMedication,
    VisitSafetyReview,
)
from trials import checks, permissions
from trials.history import audit_context
from trials.signing import TOKEN_REFUSED, identity_errors
from visits.models import Visit

R = TypeVar("R", AdverseEvent, ConcomitantMedication)

# A new SAE not acknowledged by an investigator within this time escalates (issue 13).
SAE_ESCALATE_AFTER = timedelta(hours=24)

# Messages the pages recognise to offer a link next to them (see safety.views).
ONSET_BEFORE_CONSENT = gettext_lazy(
    "The event began before the informed consent: it is medical history, not an adverse "
    "event. Record it in the participant's medical history (ALS history) instead."
)
FATAL_WITHOUT_DEATH = gettext_lazy(
    "A fatal outcome needs the death recorded in the end-of-study form first."
)


def _differences(record, answers: dict[str, Any], missing: dict[str, str]) -> list[Change]:
    changes = [
        Change(name, getattr(record, name), value)
        for name, value in answers.items()
        if getattr(record, name) != value
    ]
    old = record.missing_reasons or {}
    changes += [
        Change(f"{name} (missing reason)", old.get(name), missing.get(name))
        for name in sorted(set(old) | set(missing))
        if old.get(name) != missing.get(name)
    ]
    return changes


def _partial(value, precision) -> PartialDate | None:
    return None if value is None else PartialDate.of(value, precision)


def _check_visit(participant: Participant, visit: Visit, form_code: str) -> None:
    if visit.participant_id != participant.pk or form_code not in visit.expected_forms():
        raise ValidationError(
            {"visit": _("Choose a visit of this participant that has this form.")}
        )
    if visit.actual_date is None:
        raise ValidationError(
            {
                "visit": _(
                    "This visit has no date yet: record the visit date before saving its forms."
                )
            }
        )


def _dates_errors(
    *,
    start: PartialDate | None,
    end: PartialDate | None,
    ongoing: bool,
    visit: Visit,
    today,
    start_field: str,
    end_field: str,
    end_before_start: str,
) -> dict[str, list[str]]:
    """The date rules logs share: in order, not in the future, not after the visit they
    were reported at, no end when ongoing."""
    errors: dict[str, list[str]] = {}
    if start is not None and start.first_day > today:
        errors.setdefault(start_field, []).append(_("This date is in the future."))
    elif start is not None and visit.actual_date and start.first_day > visit.actual_date:
        errors.setdefault(start_field, []).append(
            _("It cannot begin after the visit it is recorded at (%(visit)s, %(date)s).")
            % {"visit": visit.display_code, "date": visit.actual_date.isoformat()}
        )
    if end is not None:
        if end.first_day > today:
            errors.setdefault(end_field, []).append(_("This date is in the future."))
        if start is not None and end.last_day < start.first_day:
            errors.setdefault(end_field, []).append(end_before_start)
        if ongoing:
            errors.setdefault(end_field, []).append(
                _("An ongoing record has no end date: untick 'ongoing' or clear the date.")
            )
    return errors


def _save_log_record(
    *,
    record_class: type[R],
    record_id: int | None,
    participant: Participant,
    visit: Visit,
    actor,
    answers: dict[str, Any],
    missing_reasons: dict[str, str] | None,
    expected_version: int,
    complete: bool,
    reason: str,
    rules: Callable[[R], dict[str, list[str]]],
    new_record: Callable[[], R],
    form_token: UUID | None = None,
    before_save: Callable[[R], None] | None = None,
) -> tuple[R, bool]:
    """save_form's rules for a row of a participant's log (the module docstring). Answers
    (record, saved); saved is False when nothing changed. Runs in the caller's transaction,
    with the participant and visit rows locked by the caller."""
    missing = {k: v for k, v in (missing_reasons or {}).items() if v}
    unknown = set(answers) - set(record_class.answer_fields())
    if unknown:
        raise ValueError(f"not answers of {record_class.form_code}: {sorted(unknown)}")
    reason = reason.strip()
    if record_id is None and form_token is not None:
        # The participant row is locked: a second submission of the same form waits for the
        # first to commit, then finds what it saved.
        first = record_class.objects.filter(form_token=form_token, participant=participant).first()
        if first is not None:
            return first, False
    if record_id is None:
        record = new_record()
        record.version = 0
        record.form_token = form_token
    else:
        found = (
            record_class.objects.select_for_update(of=("self",))
            .filter(pk=record_id, participant=participant)
            .first()
        )
        if found is None:
            raise ValidationError(_("This record no longer exists."))
        record = found
        if record.version != expected_version:
            raise StaleFormError(record, _differences(record, answers, missing))
    if record.is_locked:
        raise ValidationError(_("This record is locked; it cannot be changed."))
    changes = _differences(record, answers, missing)
    if record.visit_id != visit.pk:
        changes.append(Change("visit", record.visit_id, visit.pk))
    new_status = FormStatus.COMPLETE if complete else FormStatus.IN_PROGRESS
    status_changes = new_status != record.status and not (
        complete and record.status in REASON_REQUIRED
    )
    if record.pk and not changes and not status_changes:
        return record, False
    errors: dict[str, list[str]] = {}
    if record.pk and record.status in REASON_REQUIRED and not reason:
        errors["reason_for_change"] = [_("This record is complete: give a reason for the change.")]
    for name, value in answers.items():
        setattr(record, name, value)
    record.visit = visit
    record.missing_reasons = missing
    for name, messages in rules(record).items():
        errors.setdefault(name, []).extend(messages)
    if complete:
        for name in record.unanswered():
            errors.setdefault(name, []).append(_("Answer this, or give a reason it is missing."))
        for name, message in record.completion_errors().items():
            errors.setdefault(name, []).append(message)
    try:
        record.full_clean(
            exclude=["visit", "participant", "updated_by", "created_by", "form_token"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as invalid:
        for name, messages in invalid.message_dict.items():
            errors.setdefault(name, []).extend(m for m in messages if m not in errors.get(name, []))
    if errors:
        raise ValidationError(errors)
    if complete:
        if record.status not in REASON_REQUIRED or changes:
            record.status = FormStatus.COMPLETE
        record.completed_at = record.completed_at or timezone.now()
    else:
        record.status = FormStatus.IN_PROGRESS
        record.completed_at = None
    record.version += 1
    record.updated_by = actor
    if before_save is not None:
        before_save(record)
    with audit_context(reason=reason or None, actor_id=actor.pk, form=record.form_code):
        record.save()
    checks.record_saved(
        record,
        participant_id=participant.pk,
        actor=actor,
        reason=reason,
        fields=[change.field for change in changes],
    )
    return record, True


def _lock(participant: Participant, visit: Visit) -> Visit:
    """Participant, then visit: the order every safety write takes them in."""
    Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)
    locked = Visit.objects.select_for_update(of=("self",)).get(pk=visit.pk)
    locked.participant = participant
    return locked


def _require_entry(actor, participant: Participant) -> None:
    if not permissions.can(actor, permissions.ENTER_DATA, participant.site):
        raise PermissionDenied
    # Asked on every save, as save_form asks it: no study record before the signed consent.
    if not has_consent(participant.pk):
        raise ValidationError(
            _(
                "Informed consent is not recorded for this participant: no study form can be "
                "saved before the signed consent is entered."
            )
        )


# --- adverse events ------------------------------------------------------------------


def _ae_rules(participant: Participant, today) -> Callable[[AdverseEvent], dict[str, list[str]]]:
    def rules(ae: AdverseEvent) -> dict[str, list[str]]:
        onset = _partial(ae.onset_date, ae.onset_precision)
        end = _partial(ae.end_date, ae.end_precision)
        errors = _dates_errors(
            start=onset,
            end=end,
            ongoing=ae.ongoing,
            visit=ae.visit,
            today=today,
            start_field="onset_date",
            end_field="end_date",
            end_before_start=_("The event cannot end before its onset."),
        )

        def add(field: str, message) -> None:
            errors.setdefault(field, []).append(str(message))

        if onset is not None:
            consented = (
                Consent.objects.filter(participant=participant)
                .order_by("signed_on")
                .values_list("signed_on", flat=True)
                .first()
            )
            if consented is not None and onset.last_day < consented:
                add("onset_date", ONSET_BEFORE_CONSENT)
        if ae.term_code and ae.term_code not in coding.BY_CODE:
            add("term_code", _("Choose a term from the list."))
        ticked = ae.criteria()
        if ae.serious and not ticked:
            add("serious", _("A serious event meets at least one seriousness criterion: tick it."))
        if ticked and ae.serious is not True:
            add(ticked[0], _("A seriousness criterion is ticked: answer 'serious' with yes."))
        if ae.grade == Grade.DEATH and ae.outcome != Outcome.FATAL:
            add("outcome", _("A grade 5 event is fatal: its outcome is 'fatal'."))
        if ae.outcome == Outcome.FATAL:
            end = getattr(participant, "end_of_study", None)
            if end is None or end.outcome != ParticipantStatus.DIED:
                add("outcome", FATAL_WITHOUT_DEATH)
        review = VisitSafetyReview.objects.filter(visit=ae.visit, no_adverse_events=True).first()
        if review is not None:
            add(
                "visit",
                _(
                    "This visit's safety review says there were no adverse events since the "
                    "last visit: change that answer first."
                ),
            )
        return errors

    return rules


def _alert_payload(ae: AdverseEvent, actor) -> dict[str, str]:
    participant = ae.participant
    return {
        "study_id": participant.label,
        "site": participant.site.code,
        "ae_number": str(ae.number),
        "term": ae.term_label,
        "grade": str(ae.grade or ""),
        "serious": "yes" if ae.serious else "no",
        "criteria": "; ".join(ae.criteria_labels()),
        "onset": ae.onset_display,
        "outcome": str(ae.get_outcome_display() or "") if ae.outcome else "",
        "related_procedure": ae.related_procedure or "",
        "related_cells": ae.related_cells or "",
        "visit": ae.visit.display_code,
        "version": str(ae.version),
        "reporter": actor.get_username(),
        "path": reverse("adverse-event-edit", args=[participant.site.code, participant.pk, ae.pk]),
    }


def sae_topic(ae: AdverseEvent) -> str:
    return f"sae:{ae.pk}"


def save_adverse_event(
    *,
    actor,
    participant: Participant,
    visit: Visit,
    event_id: int | None,
    answers: dict[str, Any],
    missing_reasons: dict[str, str] | None = None,
    expected_version: int,
    complete: bool,
    reason: str = "",
    form_token: UUID | None = None,
) -> AdverseEvent:
    """Create (event_id None) or update one adverse event of `participant`, reported at
    `visit`. Raises PermissionDenied, StaleFormError or ValidationError (every problem at
    once). A serious event raises its SAE alert in the same transaction."""
    _require_entry(actor, participant)
    _check_visit(participant, visit, "adverse_events")
    today = participant.site.local_today()
    with transaction.atomic():
        visit = _lock(participant, visit)

        def new_event() -> AdverseEvent:
            last = AdverseEvent.objects.filter(participant=participant).aggregate(n=Max("number"))
            return AdverseEvent(
                participant=participant,
                visit=visit,
                number=(last["n"] or 0) + 1,
                created_by=actor,
                updated_by=actor,
            )

        reported_before = False

        def mark_new_sae(ae: AdverseEvent) -> None:
            """Read under the row lock whether the event was reported as an SAE before, and
            stamp a first serious save with the save itself (one row version in the audit)."""
            nonlocal reported_before
            reported_before = ae.sae_alerted_at is not None
            if ae.serious and not reported_before:
                ae.sae_alerted_at = timezone.now()

        ae, saved = _save_log_record(
            record_class=AdverseEvent,
            record_id=event_id,
            participant=participant,
            visit=visit,
            actor=actor,
            answers=answers,
            missing_reasons=missing_reasons,
            expected_version=expected_version,
            complete=complete,
            reason=reason,
            rules=_ae_rules(participant, today),
            new_record=new_event,
            form_token=form_token,
            before_save=mark_new_sae,
        )
        ae.participant = participant
        if saved:
            _raise_sae_alert(ae, actor, reported_before=reported_before)
    return ae


def _raise_sae_alert(ae: AdverseEvent, actor, *, reported_before: bool) -> None:
    """A first serious save is a new SAE (escalated if not acknowledged in time); every later
    save of an event once reported is a follow-up update, also when it is no longer serious."""
    if not reported_before and ae.sae_alerted_at is not None:
        alerts.raise_alert(
            topic=sae_topic(ae),
            kind="sae",
            visit=ae.visit,
            payload=_alert_payload(ae, actor),
            escalate_after=SAE_ESCALATE_AFTER,
        )
    elif reported_before:
        alerts.raise_alert(
            topic=f"{sae_topic(ae)}:update:{ae.version}",
            kind="sae_update",
            visit=ae.visit,
            payload=_alert_payload(ae, actor),
        )


@transaction.atomic
def assess_adverse_event(
    *,
    actor,
    event: AdverseEvent,
    serious: bool,
    related_procedure: str,
    related_cells: str,
    comment: str,
    password: str,
    token: str = "",
) -> AdverseEventAssessment:
    """An investigator confirms (or corrects) seriousness and relatedness, signed with their
    password as the eligibility override is; an SAE is thereby acknowledged (its escalation
    is cancelled). The coordinator's entry is left as entered."""
    participant = event.participant
    if not permissions.can(actor, permissions.REVIEW_AND_SIGN, participant.site):
        raise PermissionDenied
    locked = AdverseEvent.objects.select_for_update(of=("self",)).get(pk=event.pk)
    failed = identity_errors(actor, password, token)
    if "password" in failed:
        raise ValidationError(
            {"password": _("The password is not correct: the assessment was not signed.")}
        )
    if failed:
        raise ValidationError({"token": TOKEN_REFUSED})
    with audit_context(actor_id=actor.pk, reason="investigator assessment"):
        assessment = AdverseEventAssessment.objects.create(
            adverse_event=locked,
            event_version=locked.version,
            serious=serious,
            related_procedure=related_procedure,
            related_cells=related_cells,
            comment=comment.strip(),
            investigator=actor,
            signed_at=timezone.now(),
        )
    if locked.sae_alerted_at is not None:
        alerts.resolve_alert(topic=sae_topic(locked))
    return assessment


# --- concomitant medication -------------------------------------------------------------


def _conmed_rules(today) -> Callable[[ConcomitantMedication], dict[str, list[str]]]:
    def rules(med: ConcomitantMedication) -> dict[str, list[str]]:
        errors = _dates_errors(
            start=_partial(med.start_date, med.start_precision),
            end=_partial(med.stop_date, med.stop_precision),
            ongoing=med.ongoing,
            visit=med.visit,
            today=today,
            start_field="start_date",
            end_field="stop_date",
            end_before_start=_("The medication cannot stop before it started."),
        )
        if med.dose is not None and med.dose <= 0:
            errors.setdefault("dose", []).append(_("A dose is more than zero."))
        if med.other_name and med.medication != Medication.OTHER:
            errors.setdefault("other_name", []).append(
                _("A name is given only for a medication not in the list: choose 'Other'.")
            )
        review = VisitSafetyReview.objects.filter(visit=med.visit, no_conmed_changes=True).first()
        if review is not None:
            errors.setdefault("visit", []).append(
                _(
                    "This visit's safety review says concomitant medication did not change "
                    "since the last visit: change that answer first."
                )
            )
        return errors

    return rules


def save_conmed(
    *,
    actor,
    participant: Participant,
    visit: Visit,
    conmed_id: int | None,
    answers: dict[str, Any],
    missing_reasons: dict[str, str] | None = None,
    expected_version: int,
    complete: bool,
    reason: str = "",
    form_token: UUID | None = None,
) -> ConcomitantMedication:
    """Create or update one medication of `participant`, recorded at `visit`."""
    _require_entry(actor, participant)
    _check_visit(participant, visit, "conmeds")
    today = participant.site.local_today()
    with transaction.atomic():
        visit = _lock(participant, visit)
        med, _saved = _save_log_record(
            record_class=ConcomitantMedication,
            record_id=conmed_id,
            participant=participant,
            visit=visit,
            actor=actor,
            answers=answers,
            missing_reasons=missing_reasons,
            expected_version=expected_version,
            complete=complete,
            reason=reason,
            rules=_conmed_rules(today),
            new_record=lambda: ConcomitantMedication(
                participant=participant, visit=visit, updated_by=actor
            ),
            form_token=form_token,
        )
    return med


# --- the visit's safety review -------------------------------------------------------------


def save_visit_review(
    *,
    actor,
    visit: Visit,
    answers: dict[str, bool | None],
    expected_version: int,
    reason: str = "",
) -> VisitSafetyReview:
    """The visit's explicit "nothing since the last visit" answers, saved by save_form (one
    record per visit); refused where the visit has records that contradict them."""
    participant = visit.participant
    if not permissions.can(actor, permissions.ENTER_DATA, participant.site):
        raise PermissionDenied
    expected = visit.expected_forms()
    with transaction.atomic():
        Visit.objects.select_for_update(of=("self",)).get(pk=visit.pk)
        errors = {}
        if answers.get("no_adverse_events"):
            if "adverse_events" not in expected:
                errors["no_adverse_events"] = _("This visit does not ask about adverse events.")
            elif AdverseEvent.objects.filter(visit=visit).exists():
                errors["no_adverse_events"] = _(
                    "Adverse events are reported at this visit: it cannot also say there were none."
                )
        if answers.get("no_conmed_changes"):
            if "conmeds" not in expected:
                errors["no_conmed_changes"] = _("This visit does not ask about medication.")
            elif ConcomitantMedication.objects.filter(visit=visit).exists():
                errors["no_conmed_changes"] = _(
                    "Medication is recorded at this visit: it cannot also say nothing changed."
                )
        if errors:
            raise ValidationError(errors)
        record = save_form(
            record_class=VisitSafetyReview,
            visit=visit,
            user=actor,
            answers=answers,
            expected_version=expected_version,
            complete=True,
            reason=reason,
        )
    assert isinstance(record, VisitSafetyReview)
    return record


__all__ = [
    "CRITERIA_FIELDS",
    "FATAL_WITHOUT_DEATH",
    "ONSET_BEFORE_CONSENT",
    "StaleFormError",
    "assess_adverse_event",
    "save_adverse_event",
    "save_conmed",
    "save_visit_review",
]
