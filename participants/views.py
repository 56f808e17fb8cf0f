"""Pages that change a participant's record: registration, enrolment, status changes.

The participant list and page show the visit schedule, so they live in visits.views
(dependencies point one way: trials ← participants ← visits).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from participants import selectors, services
from participants.forms import (
    DEMOGRAPHICS_FIELDS,
    IDENTITY_FIELDS,
    ConsentForm,
    ContactAttemptForm,
    EnrolForm,
    RegistrationForm,
    StatusChangeForm,
    refusal_with_link,
)
from participants.models import Participant
from trials import permissions
from trials.forms import NOT_RUN, form_status, run_service


@login_required
@require_http_methods(["GET", "POST"])
def register_page(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.ENROL)
    form = RegistrationForm(
        request.POST or None,
        initial={"screened_on": site.local_today()},
        site=site,
        actor=request.user,
    )

    def register(data: dict[str, Any]) -> Participant:
        try:
            return services.register_participant(
                actor=request.user,
                site=site,
                trial=data["trial"],
                screened_on=data["screened_on"],
                identity=form.section(IDENTITY_FIELDS),
                demographics=form.section(DEMOGRAPHICS_FIELDS),
                als_history=form.als_history_data(),
            )
        except services.RegistrationRefused as refused:
            raise refusal_with_link(refused) from None

    participant = run_service(form, register)
    if participant is not NOT_RUN:
        messages.success(
            request,
            _("Registered as %(number)s.") % {"number": participant.screening_number},
        )
        return redirect("participant-detail", code=site.code, pk=participant.pk)
    return render(
        request,
        "participants/register.html",
        {"site": site, "form": form},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrol_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENROL)
    form = EnrolForm(
        request.POST or None, initial={"effective_date": participant.site.local_today()}
    )
    enrolled = run_service(
        form,
        lambda data: services.enrol_participant(
            actor=request.user, participant=participant, enrolled_on=data["effective_date"]
        ),
    )
    if enrolled is not NOT_RUN:
        messages.success(request, _("Enrolled with study ID %(id)s.") % {"id": enrolled.study_id})
        return redirect("participant-detail", code=code, pk=enrolled.pk)
    return render(
        request,
        "participants/enrol.html",
        {"site": participant.site, "participant": participant, "form": form},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def status_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENROL)
    form = StatusChangeForm(
        request.POST or None,
        participant=participant,
        initial={"effective_date": participant.site.local_today()},
    )
    changed = run_service(
        form,
        lambda data: services.change_status(
            actor=request.user,
            participant=participant,
            to_status=data["status"],
            effective_date=data["effective_date"],
            reason=data["reason"],
            details=form.details(),
        ),
    )
    if changed is not NOT_RUN:
        messages.success(request, _("Status changed."))
        return redirect("participant-detail", code=code, pk=participant.pk)
    return render(
        request,
        "participants/status.html",
        {"site": participant.site, "participant": participant, "form": form},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENROL)
    today = participant.site.local_today()
    current = services.current_consent_version(participant.trial, today)
    form = ConsentForm(
        request.POST or None,
        participant=participant,
        initial={"signed_on": today, "version": current, "taken_by": request.user},
    )
    recorded = run_service(
        form,
        lambda data: services.record_consent(
            actor=request.user,
            participant=participant,
            version=data["version"],
            signed_on=data["signed_on"],
            taken_by=data["taken_by"],
        ),
    )
    if recorded is not NOT_RUN:
        messages.success(request, _("Consent recorded."))
        return redirect("participant-detail", code=code, pk=participant.pk)
    return render(
        request,
        "participants/consent.html",
        {
            "site": participant.site,
            "participant": participant,
            "form": form,
            "consents": selectors.consents_of(participant),
            "current_version": current,
        },
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_attempt_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENTER_DATA)
    form = ContactAttemptForm(
        request.POST or None, initial={"attempted_on": participant.site.local_today()}
    )
    recorded = run_service(
        form,
        lambda data: services.record_contact_attempt(
            actor=request.user, participant=participant, **data
        ),
    )
    if recorded is not NOT_RUN:
        messages.success(request, _("Contact attempt recorded."))
        return redirect("participant-detail", code=code, pk=participant.pk)
    if form.is_bound:
        form.renew_token()
    return render(
        request,
        "participants/contact_attempt.html",
        {
            "site": participant.site,
            "participant": participant,
            "form": form,
            "attempts": participant.contact_attempts.all(),
        },
        status=form_status(form),
    )
