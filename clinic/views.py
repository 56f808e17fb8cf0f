"""The pages that show several apps at once: the participant list, the participant page
(identity, consent, screening, the visit schedule) and the visit page (date, forms)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinic import selectors
from clinic.panels import participant_panels
from crfs.eligibility.selectors import screening_checklist
from crfs.entry import has_consent
from crfs.screening import selectors as screening_selectors
from participants.choices import ParticipantStatus
from participants.models import ConsentVersion
from participants.selectors import get_participant_or_404
from queries import selectors as query_selectors
from review import selectors as review_selectors
from trials import permissions
from trials.forms import NOT_RUN, run_service
from visits import services
from visits.choices import VisitStatus
from visits.forms import (
    MissedVisitForm,
    VisitDateForm,
)
from visits.models import Visit

PAGE_SIZE = 50

# A participant id no row has, reversed in its place and then replaced (`_url_of`).
_ID_MARK = 987_654_321_012


def _url_of(name: str, code: str) -> Callable[[int], str]:
    """The URL `name` of the site `code` for any participant id: reversed once, as
    reverse(name, args=[code, pk]) gives it for each."""
    prefix, suffix = reverse(name, args=[code, _ID_MARK]).split(str(_ID_MARK))
    return lambda pk: f"{prefix}{pk}{suffix}"


@login_required
@require_GET
def participant_list(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    may_see_names = permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site)
    status = request.GET.get("status", "")
    due = request.GET.get("due", "")
    consent = request.GET.get("consent", "")
    forms = request.GET.get("forms", "")
    today = site.local_today()
    participants = selectors.participant_list(
        site,
        today=today,
        query=request.GET.get("q", ""),
        status=status if status in ParticipantStatus.values else "",
        due=due if due in selectors.DUE_FILTERS else "",
        consent=consent if consent in selectors.CONSENT_FILTERS else "",
        forms=forms if forms in selectors.FORMS_FILTERS else "",
        search_names=may_see_names,
    )
    page = Paginator(participants, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = screening_selectors.mark_screening(page.object_list)
    # Unresolved queries of the page's participants: one query.
    counts = query_selectors.open_counts(participants=page.object_list)
    # Each row's links: the URL reversed once for the page, the row's id put in its place.
    detail_url = _url_of("participant-detail", site.code)
    queries_url = _url_of("participant-queries", site.code)
    for row in page.object_list:
        # Beside the rows' annotations, for the template (not a field of the queryset's type).
        row.open_queries = counts.get(row.pk, query_selectors.NONE).unresolved  # type: ignore[attr-defined]
        row.url = detail_url(row.pk)  # type: ignore[attr-defined]
        row.queries_url = queries_url(row.pk)  # type: ignore[attr-defined]
    return render(
        request,
        "clinic/participant_list.html",
        {
            "site": site,
            "page": page,
            "today": today,
            "may_see_names": may_see_names,
            "may_enrol": permissions.can(request.user, permissions.ENROL, site),
            "deviations_url": reverse("deviation-list", args=[site.code]),
            "statuses": ParticipantStatus.choices,
            "due_filters": selectors.DUE_FILTERS.items(),
            "consent_filters": selectors.CONSENT_FILTERS.items(),
            "forms_filters": selectors.FORMS_FILTERS.items(),
            "filters": {
                "q": request.GET.get("q", ""),
                "status": status,
                "due": due,
                "consent": consent,
                "forms": forms,
            },
        },
    )


@login_required
@require_GET
def deviation_list(request: HttpRequest, code: str) -> HttpResponse:
    """Visits of the site dated outside their window, for the monitor and the coordinator."""
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    page = Paginator(selectors.deviations(site), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "clinic/deviations.html", {"site": site, "page": page})


@login_required
@require_GET
def participant_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    participant = selectors.participant_record(site, pk)
    if participant is None:
        raise Http404
    today = site.local_today()
    checklist = screening_checklist(participant)
    # Re-consent is needed only when the trial has a current consent version.
    version_id = participant.current_consent_version
    current_version = (
        ConsentVersion.objects.filter(pk=version_id).first()
        if participant.needs_reconsent and version_id is not None
        else None
    )
    demographics = getattr(participant, "demographics", None)
    may_enter = permissions.can(request.user, permissions.ENTER_DATA, site)
    may_enrol = permissions.can(request.user, permissions.ENROL, site)
    timeline = selectors.timeline(participant, today, may_enter=may_enter, may_enrol=may_enrol)
    # Events and medication are saved at a visit that asks for them: no such visit, nothing to add.
    asked = {cell.code for row in timeline for cell in row.forms}
    sdv = review_selectors.sdv_progress(participant=participant)
    return render(
        request,
        "clinic/participant.html",
        {
            "site": site,
            "participant": participant,
            # Everyone sees the age; the date of birth only with the identity (a date of birth
            # with the site and sex comes close to naming the person).
            "age_at_screening": demographics.age_on(participant.screened_on)
            if demographics
            else None,
            "today": today,
            "timeline": timeline,
            "matrix": selectors.subject_matrix(timeline),
            "panels": participant_panels(request, participant),
            "safety": selectors.safety_summary(participant),
            "may_report_events": may_enter and "adverse_events" in asked,
            "may_add_conmeds": may_enter and "conmeds" in asked,
            "drug_changes": any(row.drug_changes for row in timeline),
            "legend": selectors.LEGEND,
            "may_see_identity": permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site),
            "may_enrol": may_enrol,
            "may_enter": may_enter,
            "transplantation": getattr(participant, "transplantation", None),
            "end_of_study": getattr(participant, "end_of_study", None),
            "checklist": checklist,
            "override": checklist.current_override() if checklist else None,
            "may_sign": permissions.can(request.user, permissions.REVIEW_AND_SIGN, site),
            "may_lock": permissions.can(request.user, permissions.LOCK_DATA, site),
            "may_see_history": permissions.can(request.user, permissions.VIEW_AUDIT_LOG, site),
            "sdv": sdv.by_participant.get(participant.pk) or review_selectors.Progress(),
            "signatures": list(review_selectors.signatures_of(participant)[:5]),
            "locks": review_selectors.locks_of_participant(participant),
            "open_queries": query_selectors.open_counts(participants=[participant]).get(
                participant.pk, query_selectors.NONE
            ),
            "reconsent_version": current_version,
            "screening_visit": next(
                (
                    row.visit
                    for row in timeline
                    if row.visit.code in screening_selectors.SCREENING_CODES
                ),
                None,
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_page(request: HttpRequest, code: str, pk: int, visit_pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    visit = Visit.objects.filter(participant=participant, pk=visit_pk).first()
    if visit is None:
        raise Http404
    visit.participant = participant
    site = participant.site
    # A locked visit (or participant, or site) shows its lock and offers no form to save.
    lock = review_selectors.lock_of(visit)
    may_enter = permissions.can(request.user, permissions.ENTER_DATA, site)
    consented = has_consent(participant.pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST" and not may_enter:
        raise Http404
    date_form = VisitDateForm(
        request.POST if action == "date" else None, initial={"actual_date": visit.actual_date}
    )
    missed_form = MissedVisitForm(request.POST if action == "missed" else None)
    if action == "date":
        saved = run_service(
            date_form,
            lambda data: services.record_visit_date(
                actor=request.user,
                visit=visit,
                actual_date=data["actual_date"],
                reason=data["reason"],
            ),
        )
    elif action == "missed":
        saved = run_service(
            missed_form,
            lambda data: services.mark_visit_missed(
                actor=request.user, visit=visit, reason=data["missed_reason"]
            ),
        )
    else:
        saved = NOT_RUN
    if saved is not NOT_RUN:
        if action == "date" and saved.status == VisitStatus.DONE_OUT_OF_WINDOW:
            # Accepted (deviations happen), but the coordinator must know it is one.
            messages.warning(
                request,
                _(
                    "Visit saved, outside its window (%(start)s to %(end)s): "
                    "this is a protocol deviation."
                )
                # Only a visit with a window can be out of it.
                % {"start": str(saved.window_start), "end": str(saved.window_end)},
            )
        else:
            messages.success(request, _("Visit saved."))
        return redirect("participant-detail", code=code, pk=pk)
    progress = selectors.visit_progress(
        visit,
        participant.site.local_today(),
        may_enter=may_enter,
        may_enrol=permissions.can(request.user, permissions.ENROL, participant.site),
    )
    return render(
        request,
        "clinic/visit.html",
        {
            "site": site,
            "participant": participant,
            "visit": visit,
            "status": progress.status,
            "progress": progress,
            "date_form": date_form,
            "missed_form": missed_form,
            "may_enter": may_enter,
            "lock": lock,
            "visit_queries": query_selectors.open_counts(visits=[visit]).get(
                visit.pk, query_selectors.NONE
            ),
            "may_raise": permissions.can(request.user, permissions.RAISE_QUERIES, site),
            "may_sign": permissions.can(request.user, permissions.REVIEW_AND_SIGN, site),
            "may_lock": permissions.can(request.user, permissions.LOCK_DATA, site),
            "consented": consented,
        },
        # Any POST that did not redirect failed: an unknown action or a form with errors.
        status=400 if request.method == "POST" else 200,
    )
