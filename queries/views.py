"""The queries pages: the site's list, a participant's queries, one query's thread, opening a
query on a record, and the edit checks (the bulk run)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from participants.models import Participant
from participants.selectors import get_participant_or_404
from queries import selectors, services
from queries.forms import FilterForm, OpenQueryForm, ThreadForm
from queries.models import Query
from trials import checks, permissions, records
from trials.forms import NOT_RUN, form_status, run_service
from trials.http import AuthenticatedHttpRequest
from trials.models import Site

PAGE_SIZE = 100


class Labels(NamedTuple):
    """How a list row names its record type and field (as the record's form does)."""

    record: str
    field: str


def _row(query: Query, now: datetime) -> tuple[Query, int, Labels, checks.Check | None]:
    """A list row: the query, its age, its record type's and field's labels, its check."""
    record_kind = records.get(query.record_type)
    field = (
        selectors.field_label(record_kind.model, query.field_name)
        if record_kind is not None and query.field_name
        else query.field_name
    )
    labels = Labels(selectors.record_label(record_kind, query.record_type), field)
    return (query, query.age_days(now), labels, checks.get(query.check_key))


def _list(
    request: AuthenticatedHttpRequest, site: Site, participant: Participant | None
) -> HttpResponse:
    form = FilterForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.Filters(
        status=data.get("status") or "unresolved",
        min_age_days=data.get("age") or data.get("min_age"),
        max_age_days=data.get("max_age"),
        assigned_role=data.get("role") or "",
        record_type=data.get("record_type") or "",
        check=data.get("check") or "",
        record_pk=data.get("record_pk"),
    )
    page = Paginator(selectors.queries_of(site, filters, participant), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    rows = [_row(q, now) for q in page]
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "queries/query_list.html",
        {
            "site": site,
            "participant": participant,
            "form": form,
            "page": page,
            "rows": rows,
            "kept": kept.urlencode(),
            "counts": selectors.site_counts(site) if participant is None else None,
            "may_run_checks": permissions.can(request.user, permissions.RUN_CHECKS, site),
            # Set by a link (the dashboard's age bars), not by the form's choices: said aloud.
            "age_range": (data.get("min_age"), data.get("max_age"))
            if data.get("min_age") is not None or data.get("max_age") is not None
            else None,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_GET
def query_list_page(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    return _list(request, site, None)


@login_required
@require_GET
def participant_queries_page(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    return _list(request, participant.site, participant)


def _record_context(query: Query) -> dict[str, Any]:
    """The record the query is about: its page (to correct it) and the field's value now."""
    record_kind = records.get(query.record_type)
    record = selectors.record_of(record_kind, query.record_pk, query.site) if record_kind else None
    field_label = value = None
    if record_kind is not None and query.field_name:
        field_label = selectors.field_label(record_kind.model, query.field_name)
        if record is not None:
            display = getattr(record, f"get_{query.field_name}_display", None)
            value = display() if callable(display) else getattr(record, query.field_name, None)
    return {
        "record_kind": record_kind,
        "record_label": selectors.record_label(record_kind, query.record_type),
        "record": record,
        "record_url": record_kind.page(record) if record is not None and record_kind else None,
        "field_label": field_label,
        "value": value,
    }


@login_required
@require_http_methods(["GET", "POST"])
def query_page(request: AuthenticatedHttpRequest, code: str, query_pk: int) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    query = selectors.query_of(site, query_pk)
    if query is None:
        raise Http404
    allowed = services.allowed_actions(request.user, query)
    if request.method == "POST" and not (
        permissions.can(request.user, permissions.RAISE_QUERIES, site)
        or permissions.can(request.user, permissions.ENTER_DATA, site)
    ):
        raise Http404
    form = ThreadForm(request.POST or None)
    done = run_service(
        form,
        lambda data: services.post(
            actor=request.user, query=query, action=data["action"], text=data["message"]
        ),
    )
    if done is not NOT_RUN:
        messages.success(request, _("Saved."))
        return redirect("query-detail", code=code, query_pk=query.pk)
    return render(
        request,
        "queries/query_detail.html",
        {
            "site": site,
            "participant": query.participant,
            "query": query,
            "age": query.age_days(timezone.now()),
            "check": checks.get(query.check_key),
            "thread": selectors.messages_of(query),
            "form": form,
            "allowed": allowed,
            **_record_context(query),
        },
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_query_page(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.RAISE_QUERIES)
    source = request.POST if request.method == "POST" else request.GET
    record_kind = records.get(source.get("record", ""))
    raw_pk = source.get("record_pk", "")
    record = (
        selectors.record_of(record_kind, int(raw_pk), site)
        if record_kind and raw_pk.isdigit() and len(raw_pk) < 19
        else None
    )
    if record_kind is None or record is None:
        raise Http404
    form = OpenQueryForm(
        request.POST or None,
        record_kind=record_kind,
        initial={
            "record": record_kind.key,
            "record_pk": record.pk,
            "field_name": request.GET.get("field", ""),
        },
    )
    query = run_service(
        form,
        lambda data: services.open_query(
            actor=request.user,
            site=site,
            record_type=record_kind.key,
            record_pk=record.pk,
            field_name=data["field_name"],
            text=data["message"],
            assigned_role=data["assigned_role"],
        ),
    )
    if query is not NOT_RUN:
        assert isinstance(query, Query)
        messages.success(request, _("Query opened."))
        return redirect("query-detail", code=code, query_pk=query.pk)
    return render(
        request,
        "queries/open_query.html",
        {
            "site": site,
            "participant": record_kind.participant_of(record),
            "record_kind": record_kind,
            "record": record,
            "record_url": record_kind.page(record),
            "form": form,
        },
        status=form_status(form),
    )


@login_required
@require_GET
def check_list_page(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    counts = selectors.check_counts(site)
    return render(
        request,
        "queries/check_list.html",
        {
            "site": site,
            "rows": [(c, counts.get(c.key, selectors.NONE)) for c in checks.all_checks()],
            "may_run_checks": permissions.can(request.user, permissions.RUN_CHECKS, site),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def check_run_page(request: AuthenticatedHttpRequest, code: str, key: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.RUN_CHECKS)
    check = checks.get(key)
    if check is None:
        raise Http404
    if request.method == "POST":
        result = services.run_check_at_site(actor=request.user, site=site, check_key=key)
        messages.success(
            request,
            _("%(opened)s queries opened, %(reopened)s reopened, %(closed)s closed.")
            % {"opened": result.opened, "reopened": result.reopened, "closed": result.closed},
        )
        return redirect("check-run", code=code, key=key)
    return render(
        request,
        "queries/check_run.html",
        {"site": site, "check": check, "rows": selectors.findings_at(site, check)},
    )
