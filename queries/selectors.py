"""Reads of the queries app: lists, threads, and the counts other pages show beside a
record, a visit or a participant (each a single SQL query, whatever the number of rows)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Model, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from participants.models import Participant
from queries.models import Query, QueryMessage, QueryStatus
from trials import records
from trials.checks import Check, Finding
from trials.models import Site


@dataclass(frozen=True)
class Counts:
    open: int = 0  # waiting for the site (data entry)
    answered: int = 0  # waiting for the monitor or data manager

    @property
    def unresolved(self) -> int:
        return self.open + self.answered


NONE = Counts()

_COUNTS = {
    "open": Count("pk", filter=Q(status=QueryStatus.OPEN)),
    "answered": Count("pk", filter=Q(status=QueryStatus.ANSWERED)),
}


def _counts_by(queryset: QuerySet[Query], *keys: str) -> dict[Any, Counts]:
    rows = queryset.exclude(status=QueryStatus.CLOSED).order_by().values(*keys).annotate(**_COUNTS)
    result = {}
    for row in rows:
        key = tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]
        result[key] = Counts(row["open"], row["answered"])
    return result


def open_counts(
    *, participants: Iterable[Any] | None = None, visits: Iterable[Any] | None = None
) -> dict[int, Counts]:
    """{participant id: Counts} (or {visit id: Counts}) of unresolved queries: one query.
    Pass participants or visits (objects or ids); a missing key means none."""
    if (participants is None) == (visits is None):
        raise TypeError("pass participants or visits")
    if participants is not None:
        ids = [getattr(p, "pk", p) for p in participants]
        return _counts_by(Query.objects.filter(participant_id__in=ids), "participant_id")
    assert visits is not None
    ids = [getattr(v, "pk", v) for v in visits]
    return _counts_by(Query.objects.filter(visit_id__in=ids), "visit_id")


def counts_for_records(items: Iterable[Model]) -> dict[tuple[str, int], Counts]:
    """{(record type key, pk): Counts} for records of any types in trials.records: one query
    (the record types' keys and pks in one WHERE)."""
    by_type: dict[str, list[int]] = {}
    for record in items:
        record_kind = records.for_model(type(record))
        if record_kind is not None and record.pk is not None:
            by_type.setdefault(record_kind.key, []).append(record.pk)
    if not by_type:
        return {}
    where = Q()
    for key, pks in by_type.items():
        where |= Q(record_type=key, record_pk__in=pks)
    return _counts_by(Query.objects.filter(where), "record_type", "record_pk")


def site_counts(site: Site) -> Counts:
    """The site's unresolved queries (the home page's and the list's summary)."""
    row = Query.objects.filter(site=site).aggregate(**_COUNTS)
    return Counts(row["open"], row["answered"])


def field_label(model: type[Model], name: str) -> str:
    """How the record's form names a field: its verbose name, capitalised as a model form
    labels it (the name itself when the model has no such field any more)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return capfirst(str(getattr(field, "verbose_name", name))) or name


def record_label(record_kind: records.RecordType | None, key: str) -> str:
    """A record type as a heading or a table cell names it: its label, capitalised (the
    stored key when the type is no longer registered)."""
    return capfirst(record_kind.label) if record_kind is not None else key


def record_of(record_kind: records.RecordType, pk: int, site: Site) -> Any | None:
    """The record with its participant and site loaded (RecordType.page needs them), or
    None when it is not a record of `site`."""
    path = record_kind.participant_path
    site_path = f"{path}__site" if path else "site"
    to_site = f"{path}__site_id" if path else "site_id"
    return (
        record_kind.model._default_manager.select_related(site_path)
        .filter(pk=pk, **{to_site: site.pk})
        .first()
    )


# --- lists --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    status: str = "unresolved"  # open / answered / closed / unresolved / all
    min_age_days: int | None = None
    assigned_role: str = ""
    record_type: str = ""
    check: str = ""  # a check key, "manual" (people's queries), or "" (all)
    record_pk: int | None = None  # with record_type: the queries of one record
    max_age_days: int | None = None  # age in whole days at most (Query.age_days)


def queries_of(site: Site, filters: Filters, participant: Participant | None = None) -> QuerySet:
    queryset = Query.objects.filter(site=site).select_related("participant", "visit", "opened_by")
    if participant is not None:
        queryset = queryset.filter(participant=participant)
    if filters.status == "unresolved":
        queryset = queryset.exclude(status=QueryStatus.CLOSED)
    elif filters.status in QueryStatus.values:
        queryset = queryset.filter(status=filters.status)
    if filters.min_age_days:
        queryset = queryset.filter(
            opened_at__lte=timezone.now() - timedelta(days=filters.min_age_days)
        )
    if filters.max_age_days is not None:
        # Age = whole days since opening (floored): at most N days is under N + 1 days.
        queryset = queryset.filter(
            opened_at__gt=timezone.now() - timedelta(days=filters.max_age_days + 1)
        )
    if filters.assigned_role:
        queryset = queryset.filter(assigned_role=filters.assigned_role)
    if filters.record_type:
        queryset = queryset.filter(record_type=filters.record_type)
        if filters.record_pk is not None:
            queryset = queryset.filter(record_pk=filters.record_pk)
    if filters.check == "manual":
        queryset = queryset.filter(check_key="")
    elif filters.check:
        queryset = queryset.filter(check_key=filters.check)
    return queryset.order_by("opened_at", "pk")  # the oldest first: they wait longest


def query_of(site: Site, pk: int) -> Query | None:
    return (
        Query.objects.filter(site=site, pk=pk)
        .select_related("site", "participant", "visit", "opened_by", "closed_by")
        .first()
    )


def messages_of(query: Query) -> list[QueryMessage]:
    return list(query.messages.select_related("author"))


def check_counts(site: Site) -> dict[str, Counts]:
    """{check key: Counts} of the site's unresolved queries raised by checks."""
    return _counts_by(Query.objects.filter(site=site).exclude(check_key=""), "check_key")


@dataclass(frozen=True)
class Row:
    participant: Participant
    finding: Finding
    query: Query | None  # the query it raised, if any


def findings_at(site: Site, check: Check[Any]) -> list[Row]:
    """What the check finds now over the site's participants, with the queries it raised
    (the bulk page): the participants, the check's own reads, and the queries."""
    participants = {p.pk: p for p in Participant.objects.filter(site=site).order_by("pk")}
    found = check.findings(list(participants))
    queries = {
        (q.record_type, q.record_pk, q.finding_key): q
        for q in Query.objects.filter(site=site, check_key=check.key)
    }
    return [
        Row(participants[pid], f, queries.get((f.record_type, f.record_pk, f.key)))
        for pid in sorted(found)
        for f in found[pid]
    ]
