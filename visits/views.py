"""The participant list and page (with the visit schedule), transplantation and visit pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from participants.choices import ParticipantStatus
from participants.selectors import get_participant_or_404
from trials import permissions
from trials.forms import add_service_errors
from visits import selectors, services, transplantation
from visits.forms import MissedVisitForm, TransplantationForm, UnscheduledVisitForm, VisitDateForm
from visits.models import Transplantation, Visit

PAGE_SIZE = 50


def _status(*forms) -> int:
    return 400 if any(f is not None and f.is_bound and f.errors for f in forms) else 200


@login_required
@require_GET
def participant_list(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    may_see_names = permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site)
    status = request.GET.get("status", "")
    due = request.GET.get("due", "")
    today = site.local_today()
    participants = selectors.participant_list(
        site,
        today=today,
        query=request.GET.get("q", ""),
        status=status if status in ParticipantStatus.values else "",
        due=due if due in selectors.DUE_FILTERS else "",
        search_names=may_see_names,
    )
    page = Paginator(participants, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "participants/list.html",
        {
            "site": site,
            "page": page,
            "today": today,
            "may_see_names": may_see_names,
            "may_enrol": permissions.can(request.user, permissions.ENROL, site),
            "statuses": ParticipantStatus.choices,
            "due_filters": selectors.DUE_FILTERS.items(),
            "filters": {"q": request.GET.get("q", ""), "status": status, "due": due},
        },
    )


@login_required
@require_GET
def participant_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.participant_record(get_participant_or_404(request.user, code, pk))
    site = participant.site
    today = site.local_today()
    return render(
        request,
        "participants/detail.html",
        {
            "site": site,
            "participant": participant,
            "today": today,
            "timeline": selectors.timeline(participant, today),
            "may_see_identity": permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site),
            "may_enrol": permissions.can(request.user, permissions.ENROL, site),
            "may_enter": permissions.can(request.user, permissions.ENTER_DATA, site),
            "transplantation": getattr(participant, "transplantation", None),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def transplantation_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk, permissions.ENTER_DATA)
    existing = Transplantation.objects.filter(participant=participant).first()
    if existing is None and participant.status != ParticipantStatus.ENROLLED:
        raise Http404
    form = TransplantationForm(
        request.POST or None,
        instance=existing,
        site=participant.site,
        correcting=existing is not None,
    )
    if form.is_bound and form.is_valid():
        try:
            if existing is None:
                transplantation.record_transplantation(
                    actor=request.user,
                    participant=participant,
                    performed_at=form.performed_at(),
                    data=form.data_fields(),
                )
            else:
                transplantation.correct_transplantation(
                    actor=request.user,
                    transplantation=existing,
                    performed_at=form.performed_at(),
                    data=form.data_fields(),
                    reason=form.cleaned_data["reason"],
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Transplantation saved; visits scheduled."))
            return redirect("participant-detail", code=code, pk=pk)
    return render(
        request,
        "visits/transplantation.html",
        {"site": participant.site, "participant": participant, "form": form, "existing": existing},
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_page(request: HttpRequest, code: str, pk: int, visit_pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    visit = Visit.objects.filter(participant=participant, pk=visit_pk).first()
    if visit is None:
        raise Http404
    visit.participant = participant
    may_enter = permissions.can(request.user, permissions.ENTER_DATA, participant.site)
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST" and not may_enter:
        raise Http404
    date_form = VisitDateForm(
        request.POST if action == "date" else None, initial={"actual_date": visit.actual_date}
    )
    missed_form = MissedVisitForm(request.POST if action == "missed" else None)
    bound = date_form if action == "date" else missed_form if action == "missed" else None
    if bound is not None and bound.is_valid():
        try:
            if bound is date_form:
                services.record_visit_date(
                    actor=request.user,
                    visit=visit,
                    actual_date=date_form.cleaned_data["actual_date"],
                    reason=date_form.cleaned_data["reason"],
                )
            else:
                services.mark_visit_missed(
                    actor=request.user,
                    visit=visit,
                    reason=missed_form.cleaned_data["missed_reason"],
                )
        except ValidationError as error:
            add_service_errors(bound, error)
        else:
            messages.success(request, _("Visit saved."))
            return redirect("participant-detail", code=code, pk=pk)
    today = participant.site.local_today()
    return render(
        request,
        "visits/visit.html",
        {
            "site": participant.site,
            "participant": participant,
            "visit": visit,
            "status": visit.status_on(today),
            "forms_expected": selectors.timeline_forms(visit),
            "visit_forms": selectors.forms_of_visit(visit),
            "date_form": date_form,
            "missed_form": missed_form,
            "may_enter": may_enter,
        },
        # Any POST that did not redirect failed: an unknown action or a form with errors.
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def unscheduled_visit_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk, permissions.ENTER_DATA)
    form = UnscheduledVisitForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            services.add_unscheduled_visit(
                actor=request.user,
                participant=participant,
                actual_date=form.cleaned_data["actual_date"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Unscheduled visit added."))
            return redirect("participant-detail", code=code, pk=pk)
    return render(
        request,
        "visits/unscheduled.html",
        {"site": participant.site, "participant": participant, "form": form},
        status=_status(form),
    )
