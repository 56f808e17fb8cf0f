# ruff: noqa: S608 - table and column names come from _meta (quoted); values are parameters
"""Reads of the audit trail: the history of a record, a visit, a participant; a site's log.

Generic over django-pghistory: every event model in the app registry is a tracked model's
trail; each is tied to a participant, a visit and a site by the shortest chain of foreign
keys from its tracked model (read off `_meta`). One SQL statement per page unions the event
tables in scope, each event beside the record's previous snapshot (`lag(to_jsonb(e))` over
the record's events, computed before the page's filters), newest first; the field-by-field
changes are worked out in Python from the two snapshots. A page is then: the count, the
page, and one query each for the users, participants and visits it names.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import context
from participants.models import Participant, ParticipantIdentity
from trials import records, timeline
from trials.models import Site

MAX_HOPS = 4
# Bookkeeping of every record: who and when are the event's own columns.
HIDDEN = frozenset(records.BOOKKEEPING | {"updated_by", "created_by", "form_token"})
# Directly identifying data (as exports withholds it): shown only with VIEW_IDENTIFIERS.
IDENTIFIER_MODELS: tuple[type[models.Model], ...] = (ParticipantIdentity,)
IDENTIFIER_FIELDS = frozenset({"date_of_birth"})

KIND_LABELS = {
    "insert": gettext_lazy("Created"),
    "update": gettext_lazy("Changed"),
    "delete": gettext_lazy("Deleted"),
}
PATH_LABELS = {
    context.PAGE: gettext_lazy("page"),
    context.API: gettext_lazy("API"),
    context.ADMIN: gettext_lazy("admin"),
    context.COMMAND: gettext_lazy("command"),
    context.TASK: gettext_lazy("task"),
}


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass(frozen=True)
class Chain:
    joins: str  # JOINs from the event row `e` along the chain
    expr: str  # SQL of the id the chain ends at


@dataclass(frozen=True)
class Tracked:
    key: str  # the event model's label: stable in links and filters
    events: type[models.Model]
    model: type[models.Model]
    record_type: records.RecordType | None
    participant: Chain | None
    visit: Chain | None
    site: Chain | None

    @property
    def label(self) -> str:
        return self.record_type.label if self.record_type else str(self.model._meta.verbose_name)

    @property
    def identifying(self) -> bool:
        return self.model in IDENTIFIER_MODELS


def _path(model: type[models.Model], target: type[models.Model]) -> list[models.Field] | None:
    """The shortest chain of forward foreign keys from `model` to `target` ([] for itself)."""
    if model is target:
        return []
    user = get_user_model()
    queue: deque[tuple[type[models.Model], list[models.Field]]] = deque([(model, [])])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        if len(path) >= MAX_HOPS:
            continue
        for f in current._meta.concrete_fields:
            related = f.related_model
            if not (f.many_to_one or f.one_to_one) or related in (None, user) or related in seen:
                continue
            assert isinstance(related, type)
            if related is target:
                return [*path, f]
            seen.add(related)
            queue.append((related, [*path, f]))
    return None


def _chain(events: type[models.Model], path: list[models.Field] | None, alias: str) -> Chain | None:
    """The chain in SQL from the event row; None when the event model lacks the first key."""
    if path is None:
        return None
    if not path:
        return Chain("", "e.pgh_obj_id")
    first = path[0]
    if first.name not in {f.name for f in events._meta.concrete_fields}:
        return None
    joins = []
    expr = f"e.{qn(first.attname)}"
    previous = first
    for index, f in enumerate(path[1:]):
        name = f"{alias}{index}"
        related = previous.related_model
        assert related is not None and not isinstance(related, str)
        target = previous.target_field.column  # type: ignore[attr-defined]
        joins.append(
            f" LEFT JOIN {qn(related._meta.db_table)} {name} ON {name}.{qn(target)} = {expr}"
        )
        expr = f"{name}.{qn(f.attname)}"
        previous = f
    return Chain("".join(joins), expr)


def _visit_model() -> type[models.Model]:
    visit = records.get("visit")
    assert visit is not None, "visits registers the visit record type"
    return visit.model


@cache
def tracked_models() -> tuple[Tracked, ...]:
    """Every pghistory event model with a record id, by label (cached: _meta is fixed)."""
    import pghistory.models

    visit_model = _visit_model()
    result = []
    for events in apps.get_models():
        if not issubclass(events, pghistory.models.Event) or events._meta.proxy:
            continue
        model = getattr(events, "pgh_tracked_model", None)
        if model is None or "pgh_obj" not in {f.name for f in events._meta.concrete_fields}:
            continue
        participant = _chain(events, _path(model, Participant), "pa")
        site_path = _path(model, Site)
        if participant is not None:
            # The site of the participant, whatever other way the model has to a site.
            site: Chain | None = Chain(
                participant.joins
                + f" LEFT JOIN {qn(Participant._meta.db_table)} sp ON sp.id = {participant.expr}",
                "sp.site_id",
            )
        else:
            site = _chain(events, site_path, "sa")
        result.append(
            Tracked(
                key=events._meta.label_lower,
                events=events,
                model=model,
                record_type=records.for_model(model),
                participant=participant,
                visit=_chain(events, _path(model, visit_model), "va"),
                site=site,
            )
        )
    return tuple(sorted(result, key=lambda t: t.key))


def tracked_by_key(key: str) -> Tracked | None:
    return next((t for t in tracked_models() if t.key == key), None)


def tracked_for_record_type(record_type: records.RecordType) -> Tracked | None:
    return next((t for t in tracked_models() if t.model is record_type.model), None)


# --- scopes and filters ---------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which events: of one record, of a visit, of a participant, of a site."""

    site: Site
    record: tuple[Tracked, int | str] | None = None
    visit_id: int | None = None
    participant_id: int | None = None


@dataclass(frozen=True)
class Filters:
    start: dt.date | None = None
    end: dt.date | None = None
    user_id: int | None = None
    model_key: str | None = None


def _parts(scope: Scope) -> list[tuple[Tracked, str, list[Any]]]:
    """(model, JOINs + WHERE, params) of every event model in the scope."""
    parts = []
    for tracked in tracked_models():
        if scope.record is not None:
            if tracked is not scope.record[0] or tracked.site is None:
                continue
            chain = tracked.site
            parts.append(
                (
                    tracked,
                    f"{chain.joins} WHERE e.pgh_obj_id = %s AND {chain.expr} = %s",
                    [scope.record[1], scope.site.pk],
                )
            )
        elif scope.visit_id is not None:
            if tracked.visit is None:
                continue
            parts.append(
                (
                    tracked,
                    f"{tracked.visit.joins} WHERE {tracked.visit.expr} = %s",
                    [scope.visit_id],
                )
            )
        elif scope.participant_id is not None:
            if tracked.participant is None:
                continue
            chain = tracked.participant
            parts.append(
                (tracked, f"{chain.joins} WHERE {chain.expr} = %s", [scope.participant_id])
            )
        else:
            if tracked.site is None:
                continue
            parts.append(
                (tracked, f"{tracked.site.joins} WHERE {tracked.site.expr} = %s", [scope.site.pk])
            )
    return parts


def _filter_sql(filters: Filters, site: Site) -> tuple[str, list[Any]]:
    """WHERE terms on the unioned rows `x` (after the window, so `old` stays the record's
    previous snapshot whatever the filters leave out)."""
    terms = ["TRUE"]
    params: list[Any] = []
    zone = site.zone  # the dates of the filter are the site's days
    if filters.start is not None:
        terms.append("x.at >= %s")
        params.append(dt.datetime.combine(filters.start, dt.time.min, tzinfo=zone))
    if filters.end is not None:
        terms.append("x.at < %s")
        params.append(
            dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        )
    if filters.user_id is not None:
        terms.append("x.actor = %s")
        params.append(str(filters.user_id))
    return " AND ".join(terms), params


def _union(scope: Scope, filters: Filters, *, snapshots: bool) -> tuple[str, list[Any]]:
    """One SELECT over every event table in scope; columns: model, id, obj, at, label,
    context, actor, pid, vid[, new, old]."""
    where, where_params = _filter_sql(filters, scope.site)
    selects = []
    params: list[Any] = []
    for tracked, scoped, scoped_params in _parts(scope):
        if filters.model_key and tracked.key != filters.model_key:
            continue
        pid = tracked.participant.expr if tracked.participant else "NULL::bigint"
        vid = tracked.visit.expr if tracked.visit else "NULL::bigint"
        # The visit and participant chains may need joins the scope's own chain lacks.
        extra = ""
        if tracked.participant and tracked.participant.joins not in scoped:
            extra += tracked.participant.joins
        if tracked.visit and tracked.visit.joins not in scoped and tracked.visit.joins not in extra:
            extra += tracked.visit.joins
        columns = (
            "%s::text AS model, e.pgh_id AS id, e.pgh_obj_id::text AS obj, e.pgh_created_at AS at,"
            " e.pgh_label AS label, e.pgh_context AS context,"
            " COALESCE(e.pgh_context ->> 'actor_id', e.pgh_context ->> 'user') AS actor,"
            f" ({pid})::bigint AS pid, ({vid})::bigint AS vid"
        )
        if snapshots:
            columns += (
                ", to_jsonb(e) AS new,"
                " lag(to_jsonb(e)) OVER (PARTITION BY e.pgh_obj_id ORDER BY e.pgh_id) AS old"
            )
        head, _sep, tail = scoped.partition(" WHERE ")
        selects.append(
            f"(SELECT * FROM (SELECT {columns} FROM {qn(tracked.events._meta.db_table)} e"
            f"{head}{extra}"
            f" WHERE {tail}) x WHERE {where})"
        )
        params += [tracked.key, *scoped_params, *where_params]
    if not selects:
        empty = "SELECT NULL::text AS model, NULL::bigint AS id WHERE FALSE"
        return empty, []
    return " UNION ALL ".join(selects), params


# --- entries --------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    tracked: Tracked
    event_id: int
    record_id: str
    at: dt.datetime
    kind: str  # insert / update / delete (any other label: a snapshot, shown as a change)
    who: str
    reason: str
    path: str
    where: str
    participant: Participant | None = None
    visit: Any = None
    changes: list[Change] = field(default_factory=list)

    # A change of the record itself, beside the other steps of its story (trials.timeline).
    is_change = True

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, KIND_LABELS["update"]))

    @property
    def path_label(self) -> str:
        return str(PATH_LABELS.get(self.path, "")) if self.path else ""

    @property
    def record_label(self) -> str:
        return self.tracked.label

    @property
    def history_key(self) -> str:
        """The key of the record's history URL: its record type's, else its event model's."""
        return self.tracked.record_type.key if self.tracked.record_type else self.tracked.key


def _fields_of(tracked: Tracked) -> list[models.Field]:
    """The fields shown in a record's history: the record type's data fields in page order,
    else every stored field but ids, timestamps and bookkeeping."""
    model = tracked.model
    stored = {f.name for f in tracked.events._meta.concrete_fields}
    if tracked.record_type and tracked.record_type.data_fields:
        names = [n for n in tracked.record_type.data_fields if n in stored]
        return [model._meta.get_field(n) for n in names]  # type: ignore[misc]
    result = []
    for f in model._meta.concrete_fields:
        if (f.primary_key and not f.is_relation) or f.name in HIDDEN or f.name not in stored:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        result.append(f)
    return result


# Cached by the event model's label: hashing Django fields and the Tracked dataclass per
# event costs more than the rest of a CSV row.
@cache
def _fields_by_key(key: str) -> tuple[models.Field, ...]:
    tracked = tracked_by_key(key)
    return tuple(_fields_of(tracked)) if tracked is not None else ()


@cache
def _user_columns(key: str) -> tuple[str, ...]:
    user = get_user_model()
    return tuple(
        f.column or f.name for f in _fields_by_key(key) if f.is_relation and f.related_model is user
    )


def fields_of(tracked: Tracked) -> tuple[models.Field, ...]:
    return _fields_by_key(tracked.key)


@lru_cache(maxsize=512)
def _choice_labels(model: str, name: str, language: str) -> dict[str, str]:
    """A field's choice labels in the active language (a page or a CSV chunk asks often)."""
    f = apps.get_model(model)._meta.get_field(name)
    return {str(k): str(v) for k, v in f.flatchoices}


def _value(f: models.Field, raw: Any, users: dict[int, str], zone: Any) -> str:
    """A stored JSON value as the page shows it: choice labels, yes/no, ISO dates, times in
    the site's zone, user names."""
    if raw is None or raw == "":
        return ""
    if f.choices:
        language = translation.get_language() or ""
        return _choice_labels(f.model._meta.label, f.name, language).get(str(raw), str(raw))
    if isinstance(raw, bool):
        return _("Yes") if raw else _("No")
    if f.is_relation and f.related_model is get_user_model():
        try:
            return users.get(int(raw), f"#{raw}")
        except (TypeError, ValueError):
            return str(raw)
    if f.is_relation:
        return f"#{raw}"
    if isinstance(f, models.DateTimeField) and isinstance(raw, str):
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            return raw
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, dt.UTC)
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    if isinstance(raw, dict | list):
        return json.dumps(raw, ensure_ascii=False, sort_keys=True)
    return str(raw)


def _user_ids(tracked: Tracked, snapshot: dict[str, Any] | None) -> set[int]:
    if not snapshot:
        return set()
    values = (snapshot.get(column) for column in _user_columns(tracked.key))
    return {value for value in values if isinstance(value, int)}


def _changes(
    tracked: Tracked,
    kind: str,
    new: dict[str, Any],
    old: dict[str, Any] | None,
    users: dict[int, str],
    zone: Any,
    identifiers: bool,
    labels: dict[tuple[str, str], str],
) -> list[Change]:
    result = []
    for f in fields_of(tracked):
        column = f.column or f.name
        now = new.get(column)
        before = None if kind == "insert" else (old or {}).get(column)
        if kind == "delete":
            before, now = now, None
        elif kind != "insert" and old is not None and before == now:
            continue
        if kind in ("insert", "delete") and (now if kind == "insert" else before) in (
            None,
            "",
            [],
            {},
        ):
            continue
        if kind not in ("insert", "delete") and old is None and now in (None, "", [], {}):
            continue
        hidden = (tracked.identifying or f.name in IDENTIFIER_FIELDS) and not identifiers
        withheld = _("(identifier withheld)") if hidden else ""
        result.append(
            Change(
                # Translated once per field and page (CSV: per chunk), not once per event.
                label=labels.get((tracked.key, f.name))
                or labels.setdefault((tracked.key, f.name), str(f.verbose_name)),
                old=withheld
                if hidden and before not in (None, "")
                else _value(f, before, users, zone),
                new=withheld if hidden and now not in (None, "") else _value(f, now, users, zone),
            )
        )
    return result


def _entries(
    rows: Sequence[tuple], *, zone: Any, identifiers: bool, with_places: bool
) -> list[Entry]:
    by_key = {t.key: t for t in tracked_models()}
    parsed = []
    user_ids: set[int] = set()
    for model, event_id, obj, at, label, metadata, actor, pid, vid, new, old in rows:
        tracked = by_key[model]
        new = new if isinstance(new, dict) else json.loads(new or "{}")
        old = old if isinstance(old, dict) or old is None else json.loads(old)
        metadata = (
            metadata if isinstance(metadata, dict) or metadata is None else json.loads(metadata)
        )
        if actor and str(actor).isdigit():
            user_ids.add(int(actor))
        user_ids |= _user_ids(tracked, new) | _user_ids(tracked, old)
        parsed.append((tracked, event_id, obj, at, label, metadata, actor, pid, vid, new, old))
    users = (
        dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
        if user_ids
        else {}
    )
    participants: dict[int, Participant] = {}
    visits: dict[int, Any] = {}
    if with_places:
        pids = {p[7] for p in parsed if p[7] is not None}
        vids = {p[8] for p in parsed if p[8] is not None}
        if pids:
            participants = Participant.objects.only(
                "id", "study_id", "screening_number", "site_id"
            ).in_bulk(pids)
        if vids:
            visits = (
                _visit_model()
                ._default_manager.only("id", "code", "sequence", "participant_id")
                .in_bulk(vids)
            )
    result = []
    labels: dict[tuple[str, str], str] = {}
    for tracked, event_id, obj, at, label, metadata, actor, pid, vid, new, old in parsed:
        path, where = context.describe(metadata)
        who = users.get(int(actor), f"#{actor}") if actor and str(actor).isdigit() else ""
        reason = str((metadata or {}).get("reason") or "")
        result.append(
            Entry(
                tracked=tracked,
                event_id=event_id,
                record_id=obj,
                at=at,
                kind=label if label in ("insert", "delete") else "update",
                who=who,
                reason=reason,
                path=path,
                where=where,
                participant=participants.get(pid) if pid is not None else None,
                visit=visits.get(vid) if vid is not None else None,
                changes=_changes(tracked, label, new, old, users, zone, identifiers, labels),
            )
        )
    return result


# --- pages ----------------------------------------------------------------------------


@dataclass
class HistoryPage:
    entries: list[Entry]
    count: int
    number: int
    per_page: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def history(
    scope: Scope,
    *,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 50,
    identifiers: bool = False,
    zone: Any = dt.UTC,
    places: bool | None = None,
) -> HistoryPage:
    """A page of the trail in `scope`, newest first: two queries for the events, one each for
    the users, participants and visits they name (a record's page names none, unless
    `places`)."""
    filters = filters or Filters()
    union, params = _union(scope, filters, snapshots=False)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({union}) u", params)
        count = cursor.fetchone()[0]
    number = max(1, min(page, max(1, -(-count // per_page))))
    rows: list[tuple] = []
    if count:
        union, params = _union(scope, filters, snapshots=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT model, id, obj, at, label, context, actor, pid, vid, new, old"
                f" FROM ({union}) u ORDER BY at DESC, model, id DESC LIMIT %s OFFSET %s",
                [*params, per_page, (number - 1) * per_page],
            )
            rows = cursor.fetchall()
    with_places = scope.record is None if places is None else places
    entries = _entries(rows, zone=zone, identifiers=identifiers, with_places=with_places)
    return HistoryPage(entries=entries, count=count, number=number, per_page=per_page)


# A record's own changes read for its timeline; a form corrected more often than this shows
# its newest changes only (none has come near it: a form changes a handful of times).
MAX_RECORD_CHANGES = 2000


@dataclass
class RecordTimeline:
    """A record's whole story, newest first: its own changes (Entry) and the other apps'
    steps (timeline.HistoryEntry: verifications, signatures, locks, queries)."""

    page: HistoryPage
    participant: Participant | None
    visit: Any
    truncated: bool


def record_timeline(
    scope: Scope,
    *,
    page: int = 1,
    per_page: int = 50,
    identifiers: bool = False,
    zone: Any = dt.UTC,
) -> RecordTimeline:
    """One record's timeline: its changes (the trail's queries, with its participant and
    visit) and what each of timeline.HISTORY_SOURCES adds (a few queries each), merged by
    time; the page is cut in Python. The number of queries does not grow with the events."""
    assert scope.record is not None
    tracked, record_id = scope.record
    trail = history(
        scope,
        page=1,
        per_page=MAX_RECORD_CHANGES,
        identifiers=identifiers,
        zone=zone,
        places=True,
    )
    steps: list[Any] = []
    if tracked.record_type is not None and str(record_id).isdigit():
        steps = timeline.entries_for(tracked.record_type, [int(record_id)])
    # Newest first; at the same instant a step after the change (a verification it cleared).
    items = sorted(
        [*trail.entries, *steps], key=lambda item: (item.at, not item.is_change), reverse=True
    )
    count = len(items)
    number = max(1, min(page, max(1, -(-count // per_page))))
    start = (number - 1) * per_page
    placed = next((e for e in trail.entries if e.participant is not None), None)
    return RecordTimeline(
        page=HistoryPage(
            entries=items[start : start + per_page], count=count, number=number, per_page=per_page
        ),
        participant=placed.participant if placed else None,
        visit=placed.visit if placed else None,
        truncated=trail.count > MAX_RECORD_CHANGES,
    )


def record_exists_in(tracked: Tracked, record_id: int, site: Site) -> bool:
    """Whether the record (alive or deleted) has events at the site."""
    parts = _parts(Scope(site=site, record=(tracked, record_id)))
    if not parts:
        return False
    _tracked, scoped, params = parts[0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {qn(tracked.events._meta.db_table)} e{scoped} LIMIT 1", params
        )
        return cursor.fetchone() is not None


def model_choices(site: Site) -> list[tuple[str, str]]:
    """The record types a site's log can be filtered by (every model tied to a site)."""
    return sorted(
        ((t.key, t.label) for t in tracked_models() if t.site is not None),
        key=lambda c: c[1].lower(),
    )


# --- the site's log as CSV ------------------------------------------------------------

CSV_HEADER = (
    gettext_lazy("Time (UTC)"),
    gettext_lazy("Record type"),
    gettext_lazy("Record"),
    gettext_lazy("Participant"),
    gettext_lazy("Visit"),
    gettext_lazy("Change"),
    gettext_lazy("Field"),
    gettext_lazy("Old value"),
    gettext_lazy("New value"),
    gettext_lazy("User"),
    gettext_lazy("Reason"),
    gettext_lazy("Path"),
    gettext_lazy("Where"),
)


def log_rows(
    site: Site, filters: Filters, *, identifiers: bool, chunk_size: int = 2000
) -> Iterator[list[str]]:
    """The site's log, one row per changed field, oldest first, read through a server-side
    cursor `chunk_size` events at a time: memory stays flat however long the log. Names of
    users, participants and visits are looked up per chunk."""
    union, params = _union(Scope(site=site), filters, snapshots=True)
    sql = (
        f"SELECT model, id, obj, at, label, context, actor, pid, vid, new, old"
        f" FROM ({union}) u ORDER BY at, model, id"
    )
    utc = dt.UTC
    kinds: dict[str, str] = {}
    paths: dict[str, str] = {}
    # Django's chunked cursor is the server-side cursor QuerySet.iterator() reads through.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            chunk = cursor.fetchmany(chunk_size)
            if not chunk:
                break
            for entry in _entries(chunk, zone=utc, identifiers=identifiers, with_places=True):
                kind = kinds.get(entry.kind) or kinds.setdefault(entry.kind, entry.kind_label)
                path = paths.get(entry.path) or paths.setdefault(entry.path, entry.path_label)
                head = [
                    entry.at.astimezone(utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    entry.record_label,
                    entry.record_id,
                    entry.participant.label if entry.participant else "",
                    str(entry.visit) if entry.visit is not None else "",
                    kind,
                ]
                tail = [entry.who, entry.reason, path, entry.where]
                for change in entry.changes or [Change("", "", "")]:
                    yield [*head, change.label, change.old, change.new, *tail]


# --- the access log -------------------------------------------------------------------


def access_log(site: Site | None, *, kind: str = "", username: str = "") -> models.QuerySet:
    """A site's access log, newest first: what happened at the site (exports, roles) and the
    sign-ins, sign-outs, failed logins and lockouts of the accounts that hold or held a role
    there (those rows name no site). `site=None`: every row (superusers)."""
    from audit.models import AccessEvent
    from trials.models import Membership

    events = AccessEvent.objects.select_related("site").order_by("-at", "-pk")
    if site is not None:
        members = Membership.objects.filter(site=site)
        events = events.filter(
            models.Q(site=site)
            | models.Q(site__isnull=True)
            & (
                models.Q(user_id__in=members.values("user_id"))
                | models.Q(username__in=members.values("user__username"))
            )
        )
    if kind:
        events = events.filter(kind=kind)
    if username:
        events = events.filter(username__iexact=username)
    return events
