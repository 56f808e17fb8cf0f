"""Screening pages: the eligibility override, the screen failure and the screening log."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import CRITERIA_BY_CODE
from crfs.eligibility.selectors import screening_checklist
from crfs.screening import selectors as screening_selectors
from crfs.screening import services as screening
from crfs.screening.forms import EligibilityOverrideForm, ScreenFailureForm
from participants.choices import ParticipantStatus
from participants.models import Participant
from participants.selectors import get_participant_or_404
from trials import permissions
from trials.forms import NOT_RUN, form_status, run_service
from trials.signing import ask_second_factor


def _in_screening(
    request: HttpRequest, code: str, pk: int, capability: str
) -> tuple[Participant, Eligibility]:
    """The participant and checklist of a screening decision page: 404 once screening is over
    or before a checklist exists (nothing to override or fail on)."""
    participant = get_participant_or_404(request.user, code, pk, capability)
    checklist = screening_checklist(participant)
    if checklist is None or participant.status != ParticipantStatus.SCREENING:
        raise Http404
    return participant, checklist


def _decision_page(
    request: HttpRequest,
    template: str,
    participant: Participant,
    form: forms.Form,
    checklist: Eligibility,
) -> HttpResponse:
    context = {
        "site": participant.site,
        "participant": participant,
        "form": form,
        "checklist": checklist,
    }
    return render(request, template, context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def eligibility_override_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant, checklist = _in_screening(request, code, pk, permissions.REVIEW_AND_SIGN)
    form = EligibilityOverrideForm(request.POST or None)
    ask_second_factor(form, request.user)
    signed = run_service(
        form,
        lambda data: screening.override_eligibility(
            actor=request.user,
            participant=participant,
            reason=data["reason"],
            password=data["password"],
            token=data.get("token", ""),
        ),
    )
    if signed is not NOT_RUN:
        messages.success(request, _("Eligibility override signed."))
        return redirect("participant-detail", code=code, pk=pk)
    return _decision_page(
        request, "crfs/screening/eligibility_override.html", participant, form, checklist
    )


@login_required
@require_http_methods(["GET", "POST"])
def screen_failure_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant, checklist = _in_screening(request, code, pk, permissions.ENROL)
    form = ScreenFailureForm(
        request.POST or None, initial={"effective_date": participant.site.local_today()}
    )
    recorded = run_service(
        form,
        lambda data: screening.record_screen_failure(
            actor=request.user, participant=participant, effective_date=data["effective_date"]
        ),
    )
    if recorded is not NOT_RUN:
        messages.success(request, _("Screen failure recorded."))
        return redirect("participant-detail", code=code, pk=pk)
    return _decision_page(
        request, "crfs/screening/screen_failure.html", participant, form, checklist
    )


@login_required
@require_GET
def screening_log_page(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    log = screening_selectors.screening_log(site, site.local_today())
    return render(request, "crfs/screening/screening_log.html", {"site": site, "log": log})


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


# OWASP's CSV-injection advice, as the dataset exports apply it (exports.variables):
# text a spreadsheet would run as a formula gets a leading quote; text already starting
# with a quote gets one too, so dropping one leading quote restores every value.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _spreadsheet_safe(value: str) -> str:
    return "'" + value if value[:1] in _FORMULA_STARTS else value


@login_required
@require_GET
def screening_log_csv(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    log = screening_selectors.screening_log(site, site.local_today())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="screening-log-{site.code}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for p in log.rows:
        writer.writerow(
            _spreadsheet_safe(cell)
            for cell in [
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
