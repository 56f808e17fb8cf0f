"""Writes for visits: the schedule created at each lifecycle event, visit dates, misses.

Every service that changes a visit's dates or status runs `hooks.schedule_changed` (the
reminders re-sync), and a new visit date runs `hooks.visit_date_changed` (forms that read
the date are re-derived), in its transaction.
The lifecycle hooks (`on_registered`, `on_enrolled`, `on_exited`) are connected in
VisitsConfig.ready() and run inside the participants services' transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from participants.models import Participant
from trials import checks, permissions
from trials.history import audit_context
from trials.jalali import display_date
from trials.protocols.definitions import UNSCHEDULED_CODE, CreatedOn, VisitKind
from visits import hooks, schedule
from visits.choices import VisitStatus
from visits.models import Visit


def require(actor, capability: str, participant: Participant) -> None:
    if not permissions.can(actor, capability, participant.site):
        raise PermissionDenied


def anchor_date(participant: Participant) -> date | None:
    """The transplantation date, the anchor of every scheduled visit (None before it)."""
    transplantation = getattr(participant, "transplantation", None)
    return transplantation.performed_on if transplantation else None


def create_visits(
    participant: Participant,
    event: CreatedOn,
    *,
    anchor: date | None,
    existing: Collection[str] = (),
) -> list[Visit]:
    """Create the protocol's visits for a lifecycle event, planned from `anchor` (the
    transplantation date, None before it), in one statement.

    Each event happens once per participant: its status transition cannot repeat, and the
    services make it with the participant's row locked. So the lifecycle hooks have no visit
    of the event to look for; a caller that has read the participant's visits passes the
    codes it found in `existing` and those are skipped. The unique constraint on
    (participant, code, sequence) backs this up.
    """
    protocol = participant.trial.protocol
    definitions = [d for d in protocol.visits_created_on(event) if d.code not in existing]
    if not definitions:
        return []
    today = participant.site.local_today()
    created = []
    for definition in definitions:
        visit = Visit(
            participant=participant,
            code=definition.code,
            sequence=0,
            position=protocol.order_of(definition.code),
        )
        if definition.kind == VisitKind.SCREENING:
            visit.actual_date = participant.screened_on
        elif definition.kind == VisitKind.PROCEDURE and anchor is not None:
            visit.actual_date = anchor  # the procedure visit is the transplantation itself
        visit.replan(schedule.plan(definition, anchor))
        visit.refresh(today)
        created.append(visit)
    return Visit.objects.bulk_create(created)


def on_registered(participant: Participant) -> None:
    create_visits(participant, CreatedOn.REGISTRATION, anchor=None)  # no transplantation yet


def on_enrolled(participant: Participant) -> None:
    create_visits(participant, CreatedOn.ENROLMENT, anchor=None)  # no transplantation yet


def save_visits(visits: list[Visit], fields: Iterable[str]) -> None:
    """Save `fields` of several visits in one statement (updated_at too, which bulk_update
    does not set by itself)."""
    if not visits:
        return
    now = timezone.now()
    for visit in visits:
        visit.updated_at = now
    Visit.objects.bulk_update(visits, [*fields, "updated_at"])


def on_exited(participant: Participant) -> None:
    """After the end of study nothing more is expected and nothing may be dated after it;
    except that a participant withdrawn with follow-up allowed keeps the follow-up visits."""
    exited = participant.exited_on
    if exited is None:
        return
    follow_up = participant.follow_up_continues
    visits = list(participant.visits.order_by())  # a handful; the checks below need them all
    if not follow_up and any(v.actual_date and v.actual_date > exited for v in visits):
        raise ValidationError(
            {"effective_date": _("A visit is recorded after this date; correct it first.")}
        )
    closed = []
    for visit in visits:
        if not visit.is_open:
            continue
        if follow_up and _continues_after_exit(visit):
            continue
        if visit.target_date is None or visit.target_date > exited:
            visit.status = VisitStatus.NOT_EXPECTED
            closed.append(visit)
    save_visits(closed, ["status"])


def _continues_after_exit(visit: Visit) -> bool:
    """Visits a withdrawn participant who allows follow-up still attends."""
    return visit.is_unscheduled or (
        visit.definition is not None and visit.definition.kind == VisitKind.FOLLOW_UP
    )


def replan_open_visits(participant: Participant, visits: Iterable[Visit]) -> list[Visit]:
    """Recompute target and window of every visit not yet done from the current anchor, and
    save the ones that change in one statement (returned).

    `visits` are the participant's visits as the caller has them. Visits never planned
    before (a baseline done before the transplantation was known) are planned too; done
    visits that were already planned keep their dates. A visit whose plan and status come
    out unchanged (one just created with this anchor) is not saved.
    """
    protocol = participant.trial.protocol
    anchor = anchor_date(participant)
    today = participant.site.local_today()
    changed = []
    for visit in visits:
        if visit.sequence != 0 or (visit.actual_date is not None and visit.target_date is not None):
            continue
        before = _planned_state(visit)
        visit.replan(schedule.plan(protocol.visit(visit.code), anchor))
        visit.refresh(today)
        if _planned_state(visit) != before:
            changed.append(visit)
    save_visits(changed, PLANNED_FIELDS)
    return changed


PLANNED_FIELDS = ("target_date", "window_start", "window_end", "status", "days_from_target")


def _planned_state(visit: Visit) -> tuple:
    return tuple(getattr(visit, name) for name in PLANNED_FIELDS)


def visit_date_errors(visit: Visit, actual: date) -> str | None:
    """Why `actual` cannot be this visit's date (None if it can)."""
    participant = visit.participant
    kind = visit.definition.kind if visit.definition else None
    transplanted = anchor_date(participant)
    if actual > participant.site.local_today():
        return _("The visit date cannot be in the future (site date %(today)s).") % {
            "today": display_date(participant.site.local_today())
        }
    if actual < participant.screened_on:
        return _("The visit date cannot precede screening (%(date)s).") % {
            "date": display_date(participant.screened_on)
        }
    if kind == VisitKind.FOLLOW_UP and (transplanted is None or actual < transplanted):
        return _("A follow-up visit cannot precede the transplantation (%(date)s).") % {
            "date": display_date(transplanted) or "—"
        }
    # Dates carry no time: a baseline on the transplantation day is taken before the procedure.
    if kind == VisitKind.BASELINE and transplanted is not None and actual > transplanted:
        return _("The baseline visit cannot be after the transplantation (%(date)s).") % {
            "date": display_date(transplanted)
        }
    if (
        participant.exited_on is not None
        and actual > participant.exited_on
        and not (participant.follow_up_continues and _continues_after_exit(visit))
    ):
        return _("The visit date cannot be after the end of study (%(date)s).") % {
            "date": display_date(participant.exited_on)
        }
    return None


# What dating a visit changes (Visit.refresh recomputes status and days from target;
# updated_at is auto_now, saved only when named).
DATING_FIELDS = ("actual_date", "missed_reason", "status", "days_from_target", "updated_at")


@transaction.atomic
def record_visit_date(*, actor, visit: Visit, actual_date: date, reason: str = "") -> Visit:
    """Record (or correct, with a reason) the date a visit took place."""
    visit = (
        Visit.objects.select_for_update(of=("self",))
        # The date checks read the participant's site, trial (protocol) and transplantation.
        .select_related("participant__site", "participant__trial", "participant__transplantation")
        .get(pk=visit.pk)
    )
    require(actor, permissions.ENTER_DATA, visit.participant)
    if visit.definition and visit.definition.kind in (VisitKind.PROCEDURE, VisitKind.SCREENING):
        raise ValidationError(
            {"actual_date": _("This date is set by the registration or transplantation form.")}
        )
    error = visit_date_errors(visit, actual_date)
    if error:
        raise ValidationError({"actual_date": error})
    if visit.actual_date not in (None, actual_date) and not reason.strip():
        raise ValidationError({"reason": _("Give the reason for changing a recorded date.")})
    previous = visit.actual_date
    with audit_context(actor_id=actor.pk, reason=reason.strip() or "record visit date"):
        visit.actual_date = actual_date
        visit.missed_reason = ""
        visit.status = VisitStatus.UPCOMING  # recomputed from the dates just below
        visit.refresh(visit.participant.site.local_today())
        visit.save(update_fields=DATING_FIELDS)
        hooks.schedule_changed(visit.participant)  # a done visit's pending ones: cancelled
    if previous != actual_date:
        # Forms already entered read the date (age at test, ΔFS, EMG study date).
        cause = f"visit date of {visit.code} recorded as {actual_date.isoformat()}"
        cause += f" ({reason.strip()})" if reason else ""
        hooks.visit_date_changed(visit, actor=actor, cause=cause)
        checks.record_saved(
            visit,
            participant_id=visit.participant_id,
            actor=actor,
            reason=reason.strip(),
            fields=("actual_date",),
        )
    return visit


@transaction.atomic
def mark_visit_missed(*, actor, visit: Visit, reason: str) -> Visit:
    visit = (
        Visit.objects.select_for_update(of=("self",))
        # The date checks read the participant's site, trial (protocol) and transplantation.
        .select_related("participant__site", "participant__trial", "participant__transplantation")
        .get(pk=visit.pk)
    )
    require(actor, permissions.ENTER_DATA, visit.participant)
    if visit.is_done:
        raise ValidationError({"missed_reason": _("This visit has a date: it was not missed.")})
    if not reason.strip():
        raise ValidationError({"missed_reason": _("Give the reason the visit was missed.")})
    with audit_context(actor_id=actor.pk, reason="visit missed"):
        visit.status = VisitStatus.MISSED
        visit.missed_reason = reason.strip()
        visit.save()
        hooks.schedule_changed(visit.participant)
    return visit


@transaction.atomic
def add_unscheduled_visit(
    *, actor, participant: Participant, actual_date: date, reason: str
) -> Visit:
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    require(actor, permissions.ENTER_DATA, participant)
    if participant.has_ended and not participant.follow_up_continues:
        raise ValidationError(
            _("The participant's study ended on %(date)s: no new visits can be added.")
            % {"date": display_date(participant.exited_on) or "—"}
        )
    protocol = participant.trial.protocol
    if not protocol.unscheduled_visits_allowed:
        raise ValidationError(_("This protocol does not allow unscheduled visits."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the unscheduled visit.")})
    last = participant.visits.filter(code=UNSCHEDULED_CODE).aggregate(n=Max("sequence"))["n"]
    visit = Visit(
        participant=participant,
        code=UNSCHEDULED_CODE,
        sequence=(last or 0) + 1,
        position=len(protocol.visits),
        unscheduled_reason=reason.strip(),
    )
    error = visit_date_errors(visit, actual_date)
    if error:
        raise ValidationError({"actual_date": error})
    with audit_context(actor_id=actor.pk, reason="unscheduled visit"):
        visit.actual_date = actual_date
        visit.refresh(participant.site.local_today())
        visit.save()
    return visit


def refresh_statuses() -> int:
    """Re-evaluate time-dependent statuses (upcoming → window open → overdue); for a daily job."""
    changed = 0
    # The audit trail says why a visit turned overdue with nobody touching it.
    with audit_context(reason="visit status refresh (the date moved on)"):
        for visit in Visit.objects.open().select_related("participant__site"):
            new = visit.status_on(visit.participant.site.local_today())
            if new != visit.status:
                visit.status = new
                visit.save(update_fields=["status", "updated_at"])
                changed += 1
    return changed
