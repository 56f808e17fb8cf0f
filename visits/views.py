"""The transplantation page and the unscheduled visit page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from participants.choices import ParticipantStatus
from participants.selectors import get_participant_or_404
from trials import permissions
from trials.forms import NOT_RUN, form_status, run_service
from visits import services, transplantation
from visits.forms import (
    TransplantationForm,
    UnscheduledVisitForm,
)
from visits.models import Transplantation


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
    if existing is None:
        saved = run_service(
            form,
            lambda data: transplantation.record_transplantation(
                actor=request.user,
                participant=participant,
                performed_at=form.performed_at(),
                data=form.data_fields(),
            ),
        )
    else:
        saved = run_service(
            form,
            lambda data: transplantation.correct_transplantation(
                actor=request.user,
                transplantation=existing,
                performed_at=form.performed_at(),
                data=form.data_fields(),
                reason=data["reason"],
            ),
        )
    if saved is not NOT_RUN:
        messages.success(request, _("Transplantation saved; visits scheduled."))
        return redirect("participant-detail", code=code, pk=pk)
    return render(
        request,
        "visits/transplantation.html",
        {"site": participant.site, "participant": participant, "form": form, "existing": existing},
        status=form_status(form),
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
    if added is not NOT_RUN:
        messages.success(request, _("Unscheduled visit added."))
        return redirect("participant-detail", code=code, pk=pk)
    return render(
        request,
        "visits/unscheduled.html",
        {"site": participant.site, "participant": participant, "form": form},
        status=form_status(form),
    )
