"""Pages that change a participant's record: registration, enrolment, status changes.

The participant list and page show the visit schedule, so they live in visits.views
(dependencies point one way: trials ← participants ← visits).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from participants import corrections, selectors, services
from participants.forms import (
    DEMOGRAPHICS_FIELDS,
    IDENTITY_FIELDS,
    AlsHistoryCorrectionForm,
    ConsentForm,
    ContactAttemptForm,
    CorrectionForm,
    DemographicsCorrectionForm,
    EnrolForm,
    RegistrationForm,
    ReturnToScreeningForm,
    StatusChangeForm,
    refusal_with_link,
)
from participants.models import AlsHistory, Demographics, Participant
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
                form_token=data["form_token"],
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
    if form.is_bound:
        form.renew_token()
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


def _after_correction(
    request: HttpRequest, participant: Participant, corrected: corrections.Corrected
) -> HttpResponse:
    """Say what was corrected and re-derived; a screen failure the corrected data undo is
    taken to the return to screening, the others back to the participant page."""
    messages.success(
        request, _("Corrected: %(fields)s.") % {"fields": ", ".join(corrected.changed)}
    )
    for line in corrected.rederived:
        messages.info(request, line)
    code = participant.site.code
    if corrections.why_not_return_to_screening(corrected.participant) is None:
        return redirect("participant-return-to-screening", code=code, pk=participant.pk)
    return redirect("participant-detail", code=code, pk=participant.pk)


def _correction_page(
    request: HttpRequest,
    participant: Participant,
    form: CorrectionForm,
    correct,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    def save(data: dict[str, Any]) -> corrections.Corrected:
        try:
            return correct(data)
        except corrections.StaleCorrection as stale:
            form.renew_version(stale.current_version)
            raise

    corrected = run_service(form, save)
    if corrected is not NOT_RUN:
        return _after_correction(request, participant, corrected)
    return render(
        request,
        template,
        {"site": participant.site, "participant": participant, "form": form} | context,
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def demographics_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENTER_DATA)
    row = get_object_or_404(Demographics, participant=participant)
    may_see_identifiers = permissions.can(
        request.user, permissions.VIEW_IDENTIFIERS, participant.site
    )
    form = DemographicsCorrectionForm(
        request.POST or None,
        row=row,
        participant=participant,
        may_see_identifiers=may_see_identifiers,
    )
    return _correction_page(
        request,
        participant,
        form,
        lambda data: corrections.correct_demographics(
            actor=request.user,
            participant=participant,
            changes=form.changes(),
            expected_version=data["version"],
            reason=data["reason"],
        ),
        "participants/correct_demographics.html",
        # Without the date of birth, the age says what it would (as on the participant page);
        # the row, for its lock and queries (template tags of review and queries).
        {"age_at_screening": row.age_on(participant.screened_on), "corrected": row},
    )


@login_required
@require_http_methods(["GET", "POST"])
def als_history_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENTER_DATA)
    row = get_object_or_404(AlsHistory, participant=participant)
    form = AlsHistoryCorrectionForm(request.POST or None, row=row, participant=participant)
    return _correction_page(
        request,
        participant,
        form,
        lambda data: corrections.correct_als_history(
            actor=request.user,
            participant=participant,
            changes=form.changes(),
            expected_version=data["version"],
            reason=data["reason"],
        ),
        "participants/correct_als_history.html",
        {"corrected": row},  # for its lock and queries (template tags of review and queries)
    )


@login_required
@require_http_methods(["GET", "POST"])
def return_to_screening_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.get_participant_or_404(request.user, code, pk, permissions.ENROL)
    refusal = corrections.why_not_return_to_screening(participant)
    form = ReturnToScreeningForm((request.POST or None) if refusal is None else None)
    returned = run_service(
        form,
        lambda data: corrections.return_to_screening(
            actor=request.user, participant=participant, reason=data["reason"]
        ),
    )
    if returned is not NOT_RUN:
        messages.success(request, _("Returned to screening."))
        return redirect("participant-detail", code=code, pk=participant.pk)
    return render(
        request,
        "participants/return_to_screening.html",
        {"site": participant.site, "participant": participant, "form": form, "refusal": refusal},
        status=400 if refusal is not None and request.method == "POST" else form_status(form),
    )
