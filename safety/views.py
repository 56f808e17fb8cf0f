"""Safety pages: a participant's adverse-event and medication logs with their entry pages,
the investigator's assessment, a visit's safety page and the site's AE listing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crfs.entry import StaleFormError
from participants.models import Participant
from participants.selectors import get_participant_or_404
from safety import selectors, services
from safety.forms import (
    AdverseEventForm,
    AssessmentForm,
    ConcomitantMedicationForm,
    VisitReviewForm,
)
from safety.models import AdverseEvent, ConcomitantMedication, VisitSafetyReview
from trials import permissions
from trials.forms import NOT_RUN, form_status, run_service
from trials.http import AuthenticatedHttpRequest
from trials.signing import ask_second_factor
from visits.models import Visit

PAGE_SIZE = 100


def _may_enter(request: AuthenticatedHttpRequest, participant: Participant) -> bool:
    may = permissions.can(request.user, permissions.ENTER_DATA, participant.site)
    if request.method == "POST" and not may:
        raise Http404
    return may


def _visit_from_query(request: AuthenticatedHttpRequest, participant: Participant) -> Visit | None:
    raw = request.GET.get("visit", "")
    if not raw.isdigit():
        return None
    return Visit.objects.filter(participant=participant, pk=int(raw)).first()


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _label(model, name: str) -> str:
    """A changed answer named as the page names it ("grade (missing reason)" too)."""
    base, _sep, suffix = name.partition(" (")
    try:
        label = str(model._meta.get_field(base).verbose_name)
    except FieldDoesNotExist:
        label = base
    return f"{label} ({suffix}" if suffix else label


def _stale(form, stale: StaleFormError) -> dict[str, Any]:
    """Keep this person's input on the page with what the other save changed; their next
    save is a deliberate overwrite (as the CRF entry page does)."""
    form.add_error(
        None,
        _(
            "Someone else saved this record while you were editing it. Nothing of yours was "
            "saved yet; review the differences below and save again to keep your answers."
        ),
    )
    return {
        "by": stale.record.updated_by if stale.record.pk else None,
        "at": stale.record.updated_at if stale.record.pk else None,
        "changes": [
            (_label(type(stale.record), c.field), c.saved, c.submitted) for c in stale.changes
        ],
    }


def _submit(request: AuthenticatedHttpRequest, form, save) -> tuple[Any, Any, dict | None]:
    """Run a log record's entry form through its service: (the form to show, what was
    saved or NOT_RUN, the conflict with a save made meanwhile). On a stale version the
    form is shown again with this person's input and the other's changes; its next save
    is a deliberate overwrite."""
    try:
        return form, run_service(form, save), None
    except StaleFormError as stale:
        resubmit = request.POST.copy()
        resubmit["version"] = str(stale.record.version)
        form = type(form)(resubmit, participant=form.participant, instance=form.instance_given)
        form.is_valid()
        return form, NOT_RUN, _stale(form, stale)


# --- adverse events ------------------------------------------------------------------------


@login_required
@require_GET
def adverse_event_log(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    site = participant.site
    return render(
        request,
        "safety/adverse_event_log.html",
        {
            "site": site,
            "participant": participant,
            "events": selectors.adverse_events_of(participant),
            "may_enter": permissions.can(request.user, permissions.ENTER_DATA, site),
            "may_sign": permissions.can(request.user, permissions.REVIEW_AND_SIGN, site),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_page(
    request: AuthenticatedHttpRequest, code: str, pk: int, ae_pk: int | None = None
) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    event = None
    if ae_pk is not None:
        event = selectors.adverse_event_of(participant, ae_pk)
        if event is None:
            raise Http404
    may_enter = _may_enter(request, participant)
    form = AdverseEventForm(
        request.POST or None,
        participant=participant,
        instance=event,
        visit=_visit_from_query(request, participant),
    )
    form, saved, conflict = _submit(
        request,
        form,
        lambda data: services.save_adverse_event(
            actor=request.user,
            participant=participant,
            visit=data["visit"],
            event_id=event.pk if event else None,
            answers=form.answers(),
            missing_reasons=data["missing_reasons"],
            expected_version=data["version"],
            complete=data["mark_complete"],
            reason=data["reason_for_change"],
            form_token=data["form_token"],
        ),
    )
    if saved is not NOT_RUN:
        assert isinstance(saved, AdverseEvent)
        if saved.serious:
            messages.warning(
                request,
                _("Serious adverse event %(n)s saved: the investigators are alerted.")
                % {"n": saved.number},
            )
        else:
            messages.success(request, _("Adverse event %(n)s saved.") % {"n": saved.number})
        return redirect("adverse-event-edit", code=code, pk=pk, ae_pk=saved.pk)
    onset_errors = [str(m) for m in form.errors.get("onset_date", [])]
    outcome_errors = [str(m) for m in form.errors.get("outcome", [])]
    return render(
        request,
        "safety/adverse_event.html",
        {
            "site": participant.site,
            "participant": participant,
            "event": event,
            "form": form,
            "conflict": conflict,
            "may_enter": may_enter,
            "may_sign": permissions.can(
                request.user, permissions.REVIEW_AND_SIGN, participant.site
            ),
            "offer_history": str(services.ONSET_BEFORE_CONSENT) in onset_errors,
            "offer_death": str(services.FATAL_WITHOUT_DEATH) in outcome_errors,
            "may_enrol": permissions.can(request.user, permissions.ENROL, participant.site),
        },
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_page(
    request: AuthenticatedHttpRequest, code: str, pk: int, ae_pk: int
) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk, permissions.REVIEW_AND_SIGN)
    event = selectors.adverse_event_of(participant, ae_pk)
    if event is None:
        raise Http404
    previous = event.latest_assessment()
    form = AssessmentForm(
        request.POST or None,
        initial={
            "serious": _yes_no(previous.serious if previous else event.serious),
            "related_procedure": previous.related_procedure
            if previous
            else event.related_procedure,
            "related_cells": previous.related_cells if previous else event.related_cells,
        },
    )
    ask_second_factor(form, request.user)
    signed = run_service(
        form,
        lambda data: services.assess_adverse_event(
            actor=request.user,
            event=event,
            serious=data["serious"],
            related_procedure=data["related_procedure"],
            related_cells=data["related_cells"],
            comment=data["comment"],
            password=data["password"],
            token=data.get("token", ""),
        ),
    )
    if signed is not NOT_RUN:
        messages.success(request, _("Assessment signed."))
        return redirect("adverse-event-edit", code=code, pk=pk, ae_pk=ae_pk)
    return render(
        request,
        "safety/assessment.html",
        {"site": participant.site, "participant": participant, "event": event, "form": form},
        status=form_status(form),
    )


# --- concomitant medication ----------------------------------------------------------------


@login_required
@require_GET
def conmed_log(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    return render(
        request,
        "safety/conmed_log.html",
        {
            "site": participant.site,
            "participant": participant,
            "medications": selectors.conmeds_of(participant),
            "may_enter": permissions.can(request.user, permissions.ENTER_DATA, participant.site),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def conmed_page(
    request: AuthenticatedHttpRequest, code: str, pk: int, conmed_pk: int | None = None
) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    med = None
    if conmed_pk is not None:
        med = (
            ConcomitantMedication.objects.filter(participant=participant, pk=conmed_pk)
            .select_related("visit", "updated_by")
            .first()
        )
        if med is None:
            raise Http404
    may_enter = _may_enter(request, participant)
    form = ConcomitantMedicationForm(
        request.POST or None,
        participant=participant,
        instance=med,
        visit=_visit_from_query(request, participant),
    )
    form, saved, conflict = _submit(
        request,
        form,
        lambda data: services.save_conmed(
            actor=request.user,
            participant=participant,
            visit=data["visit"],
            conmed_id=med.pk if med else None,
            answers=form.answers(),
            missing_reasons=data["missing_reasons"],
            expected_version=data["version"],
            complete=data["mark_complete"],
            reason=data["reason_for_change"],
            form_token=data["form_token"],
        ),
    )
    if saved is not NOT_RUN:
        messages.success(request, _("Medication saved."))
        return redirect("conmed-list", code=code, pk=pk)
    return render(
        request,
        "safety/conmed.html",
        {
            "site": participant.site,
            "participant": participant,
            "medication": med,
            "form": form,
            "conflict": conflict,
            "may_enter": may_enter,
        },
        status=form_status(form),
    )


# --- a visit's safety page -----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def visit_safety_page(
    request: AuthenticatedHttpRequest, code: str, pk: int, visit_pk: int
) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    visit = Visit.objects.filter(participant=participant, pk=visit_pk).first()
    if visit is None:
        raise Http404
    visit.participant = participant
    asks = tuple(c for c in visit.expected_forms() if c in ("adverse_events", "conmeds"))
    if not asks:
        raise Http404
    may_enter = _may_enter(request, participant)
    review = VisitSafetyReview.objects.filter(visit=visit).first()
    form = VisitReviewForm(
        request.POST or None,
        asks=asks,
        initial={
            "no_adverse_events": bool(review and review.no_adverse_events),
            "no_conmed_changes": bool(review and review.no_conmed_changes),
            "version": review.version if review else 0,
        },
    )
    try:
        saved = run_service(
            form,
            lambda data: services.save_visit_review(
                actor=request.user,
                visit=visit,
                answers=form.answers(),
                expected_version=data["version"],
                reason=data["reason_for_change"],
            ),
        )
    except StaleFormError:
        form.add_error(
            None,
            _("Someone else saved these answers meanwhile: they are shown now; save again."),
        )
        review = VisitSafetyReview.objects.filter(visit=visit).first()
        saved = NOT_RUN
    if saved is not NOT_RUN:
        messages.success(request, _("Safety answers saved."))
        return redirect("visit-safety", code=code, pk=pk, visit_pk=visit_pk)
    events = selectors.adverse_events_of(participant, visit)
    meds = selectors.conmeds_of(participant, visit)
    return render(
        request,
        "safety/visit_safety.html",
        {
            "site": participant.site,
            "participant": participant,
            "visit": visit,
            "asks": asks,
            "events": events,
            "medications": meds,
            "review": review,
            "status": selectors.visit_safety_status([visit])[visit.pk],
            "form": form,
            "may_enter": may_enter,
        },
        status=form_status(form),
    )


# --- the site's listing --------------------------------------------------------------------


@login_required
@require_GET
def ae_listing_page(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    chosen = [name for name in selectors.LISTING_FILTERS if request.GET.get(name)]
    events = selectors.ae_listing(site, chosen)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "safety/ae_listing.html",
        {
            "site": site,
            "page": page,
            "counts": selectors.listing_counts(events),
            "chosen": chosen,
            "filters": [
                ("serious", _("Serious")),
                ("grade3", _("Grade 3 or higher")),
                ("related", _("Related to the procedure or the cells (possible or more)")),
                ("ongoing", _("Ongoing")),
                ("unacknowledged", _("Serious, not yet acknowledged by an investigator")),
            ],
        },
    )
