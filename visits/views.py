"""The participant list and page (with the visit schedule), transplantation and visit pages."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from participants.choices import ParticipantStatus
from participants.models import ConsentVersion
from participants.selectors import get_participant_or_404
from trials import permissions
from trials.forms import add_service_errors, run_service
from visits import screening, selectors, services, transplantation
from visits.crfs.eligibility import CRITERIA_BY_CODE, screening_checklist
from visits.crfs.entry import has_consent
from visits.forms import (
    EligibilityOverrideForm,
    MissedVisitForm,
    ScreenFailureForm,
    TransplantationForm,
    UnscheduledVisitForm,
    VisitDateForm,
)
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
    consent = request.GET.get("consent", "")
    today = site.local_today()
    participants = selectors.participant_list(
        site,
        today=today,
        query=request.GET.get("q", ""),
        status=status if status in ParticipantStatus.values else "",
        due=due if due in selectors.DUE_FILTERS else "",
        consent=consent if consent in selectors.CONSENT_FILTERS else "",
        search_names=may_see_names,
    )
    page = Paginator(participants, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.mark_screening(page.object_list)
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
            "consent_filters": selectors.CONSENT_FILTERS.items(),
            "filters": {
                "q": request.GET.get("q", ""),
                "status": status,
                "due": due,
                "consent": consent,
            },
        },
    )


@login_required
@require_GET
def participant_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.participant_record(get_participant_or_404(request.user, code, pk))
    site = participant.site
    today = site.local_today()
    checklist = screening_checklist(participant)
    current_version = (
        ConsentVersion.objects.filter(pk=participant.current_consent_version).first()
        if participant.needs_reconsent
        else None
    )
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
            "end_of_study": getattr(participant, "end_of_study", None),
            "checklist": checklist,
            "override": checklist.current_override() if checklist else None,
            "may_sign": permissions.can(request.user, permissions.REVIEW_AND_SIGN, site),
            "reconsent_version": current_version,
            "screening_visit": next(
                (v for v in participant.visits.all() if v.code in selectors.SCREENING_CODES),
                None,
            ),
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
    consented = has_consent(participant.pk)
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
            "consented": consented,
        },
        # Any POST that did not redirect failed: an unknown action or a form with errors.
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def unscheduled_visit_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk, permissions.ENTER_DATA)
    form = UnscheduledVisitForm(request.POST or None)
    added = run_service(
        form,
        lambda data: services.add_unscheduled_visit(
            actor=request.user,
            participant=participant,
            actual_date=data["actual_date"],
            reason=data["reason"],
        ),
    )
    if added:
        messages.success(request, _("Unscheduled visit added."))
        return redirect("participant-detail", code=code, pk=pk)
    return render(
        request,
        "visits/unscheduled.html",
        {"site": participant.site, "participant": participant, "form": form},
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def eligibility_override_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk, permissions.REVIEW_AND_SIGN)
    checklist = screening_checklist(participant)
    if checklist is None or participant.status != ParticipantStatus.SCREENING:
        raise Http404
    form = EligibilityOverrideForm(request.POST or None)
    signed = run_service(
        form,
        lambda data: screening.override_eligibility(
            actor=request.user,
            participant=participant,
            reason=data["reason"],
            password=data["password"],
        ),
    )
    if signed:
        messages.success(request, _("Eligibility override signed."))
        return redirect("participant-detail", code=code, pk=pk)
    return render(
        request,
        "visits/eligibility_override.html",
        {
            "site": participant.site,
            "participant": participant,
            "form": form,
            "checklist": checklist,
        },
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def screen_failure_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk, permissions.ENROL)
    checklist = screening_checklist(participant)
    if checklist is None or participant.status != ParticipantStatus.SCREENING:
        raise Http404
    form = ScreenFailureForm(
        request.POST or None, initial={"effective_date": participant.site.local_today()}
    )
    recorded = run_service(
        form,
        lambda data: screening.record_screen_failure(
            actor=request.user, participant=participant, effective_date=data["effective_date"]
        ),
    )
    if recorded:
        messages.success(request, _("Screen failure recorded."))
        return redirect("participant-detail", code=code, pk=pk)
    return render(
        request,
        "visits/screen_failure.html",
        {
            "site": participant.site,
            "participant": participant,
            "form": form,
            "checklist": checklist,
        },
        status=_status(form),
    )


@login_required
@require_GET
def screening_log_page(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    log = selectors.screening_log(site, site.local_today())
    return render(request, "visits/screening_log.html", {"site": site, "log": log})


# Stable variable names (the export's conventions), not translated labels.
CSV_COLUMNS = (
    "screening_number",
    "study_id",
    "screened_on",
    "consent_signed_on",
    "eligibility",
    "failed_criteria",
    "eligibility_overridden",
    "status",
    "status_date",
    "status_reason",
    "enrolled_on",
    "transplanted",
    "exited_on",
)


@login_required
@require_GET
def screening_log_csv(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    log = selectors.screening_log(site, site.local_today())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="screening-log-{site.code}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for p in log.rows:
        writer.writerow(
            [
                p.screening_number,
                p.study_id or "",
                p.screened_on.isoformat(),
                p.consent_signed_on.isoformat() if p.consent_signed_on else "",
                p.eligibility_decision or "",
                ";".join(c for c in (p.eligibility_failed or []) if c in CRITERIA_BY_CODE),
                "yes" if p.eligibility_overridden else "no",
                p.status,
                p.status_date.isoformat(),
                p.status_reason or "",
                p.enrolled_on.isoformat() if p.enrolled_on else "",
                "yes" if p.transplanted else "no",
                p.exited_on.isoformat() if p.exited_on else "",
            ]
        )
    return response
