"""The audit trail pages: a record's, a visit's and a participant's history, the site's
audit log (page and streamed CSV) and the access log."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit import selectors
from audit.forms import AccessLogFilter, AuditLogFilter
from participants.models import Participant
from trials import permissions, records
from trials.models import Site

PER_PAGE = 50
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula starts with a quote (as the exports' CSV
    writer does; exports sits above audit, so the rule is repeated here)."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 9 else 1


def _tracked_or_404(key: str) -> selectors.Tracked:
    record_type = records.get(key)
    tracked = (
        selectors.tracked_for_record_type(record_type)
        if record_type is not None
        else selectors.tracked_by_key(key)
    )
    if tracked is None:
        raise Http404
    return tracked


def _current_page(tracked: selectors.Tracked, record_id: int) -> str:
    """The page of the record, while it exists (a deleted record has only its history)."""
    record_type = tracked.record_type
    if record_type is None:
        return ""
    related = f"{record_type.participant_path}__site" if record_type.participant_path else "site"
    record = record_type.model._default_manager.select_related(related).filter(pk=record_id).first()
    return record_type.page(record) if record is not None else ""


def _render_history(
    request: HttpRequest, site: Site, scope: selectors.Scope, title: str, extra: dict[str, Any]
) -> HttpResponse:
    page = selectors.history(
        scope,
        page=_page_number(request),
        per_page=PER_PAGE,
        identifiers=permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site),
        zone=timezone.get_current_timezone(),
    )
    return render(
        request,
        "audit/history.html",
        {
            "site": site,
            "page": page,
            "title": title,
            "single_record": scope.record is not None,
            **extra,
        },
    )


@login_required
@require_GET
def record_history(request: HttpRequest, code: str, key: str, record_id: int) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    tracked = _tracked_or_404(key)
    if not selectors.record_exists_in(tracked, record_id, site):
        raise Http404
    scope = selectors.Scope(site=site, record=(tracked, record_id))
    story = selectors.record_timeline(
        scope,
        page=_page_number(request),
        per_page=PER_PAGE,
        identifiers=permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site),
        zone=timezone.get_current_timezone(),
    )
    title = _("History of %(record)s #%(id)s") % {"record": tracked.label, "id": record_id}
    return render(
        request,
        "audit/history.html",
        {
            "site": site,
            "page": story.page,
            "title": title,
            "single_record": True,
            "record_label": tracked.label,
            "record_page": _current_page(tracked, record_id),
            "participant": story.participant,
            "visit": story.visit,
            "truncated": story.truncated,
        },
    )


@login_required
@require_GET
def participant_history(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    participant = get_object_or_404(Participant, pk=pk, site=site)
    scope = selectors.Scope(site=site, participant_id=participant.pk)
    title = _("History of participant %(label)s") % {"label": participant.label}
    return _render_history(request, site, scope, title, {"participant": participant})


@login_required
@require_GET
def visit_history(request: HttpRequest, code: str, pk: int, visit_pk: int) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    participant = get_object_or_404(Participant, pk=pk, site=site)
    visit_type = records.get("visit")
    if visit_type is None:
        raise Http404
    visit = get_object_or_404(visit_type.model, pk=visit_pk, participant=participant)
    scope = selectors.Scope(site=site, visit_id=visit.pk)
    title = _("History of visit %(visit)s of %(label)s") % {
        "visit": visit,
        "label": participant.label,
    }
    return _render_history(
        request, site, scope, title, {"participant": participant, "visit": visit}
    )


def _log_filters(
    request: HttpRequest, site: Site
) -> tuple[AuditLogFilter, selectors.Filters | None]:
    form = AuditLogFilter(
        request.GET or None, site=site, record_types=selectors.model_choices(site)
    )
    if not request.GET:
        return form, selectors.Filters()
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, selectors.Filters(
        start=data["start"],
        end=data["end"],
        user_id=data["user"],
        model_key=data["record_type"] or None,
    )


@login_required
@require_GET
def audit_log(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_AUDIT_LOG)
    form, filters = _log_filters(request, site)
    page = None
    if filters is not None:
        page = selectors.history(
            selectors.Scope(site=site),
            filters=filters,
            page=_page_number(request),
            per_page=PER_PAGE,
            identifiers=permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site),
            zone=timezone.get_current_timezone(),
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"site": site, "form": form, "page": page, "query": query.urlencode()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(header: Iterable[Any], rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # Excel reads the file as UTF-8
    yield writer.writerow([str(h) for h in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


@login_required
@require_GET
def audit_log_csv(request: HttpRequest, code: str) -> HttpResponse | StreamingHttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_AUDIT_LOG)
    form, filters = _log_filters(request, site)
    if filters is None:
        return render(
            request, "audit/log.html", {"site": site, "form": form, "page": None}, status=400
        )
    rows = selectors.log_rows(
        site, filters, identifiers=permissions.can(request.user, permissions.VIEW_IDENTIFIERS, site)
    )
    response = StreamingHttpResponse(
        _csv_lines(selectors.CSV_HEADER, rows), content_type="text/csv; charset=utf-8"
    )
    today = site.local_today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="audit-log-{site.code}-{today}.csv"'
    return response


def _render_access_log(request: HttpRequest, site: Site | None) -> HttpResponse:
    form = AccessLogFilter(request.GET or None)
    events = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        events = selectors.access_log(
            site, kind=data.get("kind") or "", username=data.get("user") or ""
        )
    page = (
        Paginator(events, PER_PAGE).get_page(_page_number(request)) if events is not None else None
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/access_log.html",
        {"site": site, "form": form, "page": page, "query": query.urlencode()},
    )


@login_required
@require_GET
def access_log(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_ACCESS_LOG)
    return _render_access_log(request, site)


@login_required
@require_GET
def access_log_all(request: HttpRequest) -> HttpResponse:
    """Every site's access log and the rows of no site: superusers (who run the system)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    return _render_access_log(request, None)
