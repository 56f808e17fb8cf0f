"""Pages that change a participant's record: registration, enrolment, status changes.

The participant list and page show the visit schedule, so they live in visits.views
(dependencies point one way: trials ← participants ← visits).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
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
)
from trials import permissions
from trials.forms import add_service_errors


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_required
@require_http_methods(["GET", "POST"])
def register_page(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.ENROL)
    form = RegistrationForm(request.POST or None, initial={"screened_on": site.local_today()})
    if form.is_bound and form.is_valid():
        try:
            participant = services.register_participant(
                actor=request.user,
                site=site,
                trial=form.cleaned_data["trial"],
                screened_on=form.cleaned_data["screened_on"],
                identity=form.section(IDENTITY_FIELDS),
                demographics=form.section(DEMOGRAPHICS_FIELDS),
                als_history=form.als_history_data(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Registered as %(number)s.") % {"number": participant.screening_number},
            )
            return redirect("participant-detail", code=site.code, pk=participant.pk)
    return render(
        request, "participants/register.html", {"site": site, "form": form}, status=_status(form)
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrol_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENROL)
    form = EnrolForm(
        request.POST or None, initial={"effective_date": participant.site.local_today()}
    )
    if form.is_bound and form.is_valid():
        try:
            participant = services.enrol_participant(
                actor=request.user,
                participant=participant,
                enrolled_on=form.cleaned_data["effective_date"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Enrolled with study ID %(id)s.") % {"id": participant.study_id}
            )
            return redirect("participant-detail", code=code, pk=participant.pk)
    return render(
        request,
        "participants/enrol.html",
        {"site": participant.site, "participant": participant, "form": form},
        status=_status(form),
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
    if form.is_bound and form.is_valid():
        try:
            services.change_status(
                actor=request.user,
                participant=participant,
                to_status=form.cleaned_data["status"],
                effective_date=form.cleaned_data["effective_date"],
                reason=form.cleaned_data["reason"],
                details=form.details(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Status changed."))
            return redirect("participant-detail", code=code, pk=participant.pk)
    return render(
        request,
        "participants/status.html",
        {"site": participant.site, "participant": participant, "form": form},
        status=_status(form),
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
    if form.is_bound and form.is_valid():
        try:
            services.record_consent(
                actor=request.user,
                participant=participant,
                version=form.cleaned_data["version"],
                signed_on=form.cleaned_data["signed_on"],
                taken_by=form.cleaned_data["taken_by"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
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
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_attempt_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENTER_DATA)
    form = ContactAttemptForm(
        request.POST or None, initial={"attempted_on": participant.site.local_today()}
    )
    if form.is_bound and form.is_valid():
        try:
            services.record_contact_attempt(
                actor=request.user, participant=participant, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contact attempt recorded."))
            return redirect("participant-detail", code=code, pk=participant.pk)
    return render(
        request,
        "participants/contact_attempt.html",
        {
            "site": participant.site,
            "participant": participant,
            "form": form,
            "attempts": participant.contact_attempts.all(),
        },
        status=_status(form),
    )
