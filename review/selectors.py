"""The reads of review: each record's state, SDV progress, work queue counts, locks.

Generic over trials.records: one branch per record type, joined with UNION ALL, so a count
over every kind of record is one query whatever the number of participants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection, models
from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast
from django.db.models.lookups import Lookup

from review import recordinfo
from review.guard import describe
from review.models import Lock, Scope, SdvTargets, Signature, SignatureItem, Verification
from trials import records
from trials.locking import LockInfo
from trials.prepared import Prepared
from trials.records import RecordType

# --- the state of given records --------------------------------------------------------


@dataclass
class RecordState:
    verified: bool = False
    verified_fields: set[str] = field(default_factory=set)
    # A verification a later change cleared (and no newer one): shown with the change.
    cleared: Verification | None = None
    signed: bool = False
    lock: LockInfo | None = None

    @property
    def locked(self) -> bool:
        return self.lock is not None


@dataclass(frozen=True)
class RecordRef:
    """A record known by its ids only (e.g. a row of a page's UNION query)."""

    key: str
    pk: int
    participant_id: int | None
    visit_id: int | None


def record_states(
    items: Iterable[tuple[RecordType, Any]], *, participant_id: int | None = None
) -> dict[tuple[str, int], RecordState]:
    """{(type key, id): state} of the records: verified, signed, locked (four queries for any
    number of records). Records of one participant: pass `participant_id`, so no record's
    visit is read to find it."""
    return states_of(
        RecordRef(
            key=t.key,
            pk=r.pk,
            participant_id=participant_id
            if participant_id is not None
            else recordinfo.participant_id(t, r),
            visit_id=recordinfo.visit_id(t, r),
        )
        for t, r in items
    )


# The records asked about, as two arrays (types, ids) zipped back into rows: the same SQL text
# for any number and mix of records, written here once, not built by the ORM on each page
# (an OR of one condition per record type cost more to build than to run).
_GIVEN = "SELECT * FROM unnest(%s::varchar[], %s::bigint[])"
_VERIFICATIONS_SQL = (
    f"SELECT * FROM {Verification._meta.db_table} "  # noqa: S608 (names of our tables)
    f"WHERE (record_type, record_id) IN ({_GIVEN}) ORDER BY verified_at"
)
_SIGNED_SQL = (
    "SELECT DISTINCT item.record_type, item.record_id "  # noqa: S608 (names of our tables)
    f"FROM {SignatureItem._meta.db_table} item "
    f"INNER JOIN {Signature._meta.db_table} signature ON signature.id = item.signature_id "
    "WHERE signature.invalidated_at IS NULL "
    f"AND (item.record_type, item.record_id) IN ({_GIVEN})"
)


def states_of(refs: Iterable[RecordRef]) -> dict[tuple[str, int], RecordState]:
    """record_states for records known by their ids (the clinic pages' matrix and lists)."""
    refs = list(refs)
    states = {(ref.key, ref.pk): RecordState() for ref in refs}
    if not refs:
        return states
    given: tuple[list[str], list[int]] = ([key for key, _pk in states], [pk for _k, pk in states])
    for verification in Verification.objects.raw(_VERIFICATIONS_SQL, given):
        state = states.get((verification.record_type, verification.record_id))
        if state is None:
            continue
        if verification.cleared_at is None:
            state.verified_fields.add(verification.field)
            state.verified = state.verified or verification.field == ""
            state.cleared = None
        elif not state.verified:
            state.cleared = verification
    with connection.cursor() as cursor:
        cursor.execute(_SIGNED_SQL, given)
        for type_key, record_id in cursor.fetchall():
            states[(type_key, record_id)].signed = True
    # Locks: of each record, its visit, its participant (by target), and of its site.
    targets = {
        (ref.key, ref.pk): [
            f"record:{ref.key}:{ref.pk}",
            *([f"visit:{ref.visit_id}"] if ref.visit_id is not None else []),
            *([f"participant:{ref.participant_id}"] if ref.participant_id is not None else []),
        ]
        for ref in refs
    }
    by_target = {
        lock.target: lock
        for lock in Lock.objects.active()
        .filter(target__in={t for ts in targets.values() for t in ts})
        .select_related("locked_by", "site")
    }
    pids = {ref.participant_id for ref in refs if ref.participant_id is not None}
    site_locks: dict[int, Lock] = {}
    for lock in (
        Lock.objects.active()
        .filter(scope=Scope.SITE, site__participants__in=pids)
        .select_related("locked_by", "site")
        .annotate(covered=F("site__participants"))
    ):
        site_locks[lock.covered] = lock
    for ref in refs:
        site_lock = site_locks.get(ref.participant_id) if ref.participant_id else None
        found = [site_lock] if site_lock else []
        found += [by_target[t] for t in reversed(targets[(ref.key, ref.pk)]) if t in by_target]
        if found:
            states[(ref.key, ref.pk)].lock = describe(found[0])
    return states


def lock_of(record: Any) -> LockInfo | None:
    from review.guard import lock_of as find

    return find(record)


# --- which records count ------------------------------------------------------------------


def _has_data(record_type: RecordType) -> Q:
    """A record ready for review: complete (a form), else one of its data fields filled."""
    fields = {f.name: f for f in record_type.model._meta.concrete_fields}
    if "completed_at" in fields:
        return Q(completed_at__isnull=False)
    conditions = []
    for name in record_type.data_fields:
        column = fields.get(name)
        if isinstance(column, models.CharField | models.TextField):
            conditions.append(~Q(**{name: ""}))
        else:
            conditions.append(Q(**{f"{name}__isnull": False}))
    return reduce(or_, conditions) if conditions else Q()


def _participant(record_type: RecordType, suffix: str) -> str:
    return f"{record_type.participant_path}__{suffix}"


def _targeted(record_type: RecordType, plans: dict[int, list[str]]) -> Q | None:
    """The rows of a type a trial's targeted SDV asks for (None: this type in no trial)."""
    trial = _participant(record_type, "trial_id")
    untargeted = ~Q(**{f"{trial}__in": [tid for tid, keys in plans.items() if keys]})
    parts = [untargeted]
    for trial_id, keys in plans.items():
        if not keys:
            continue
        if record_type.key in keys:
            parts.append(Q(**{trial: trial_id}))
        elif f"{record_type.key}:serious" in keys:
            parts.append(Q(**{trial: trial_id, "serious": True}))
    return reduce(or_, parts)


def _verified(record_type: RecordType) -> Exists:
    return Exists(
        Verification.objects.active().filter(
            record_type=record_type.key, record_id=OuterRef("pk"), field=""
        )
    )


def _signed(record_type: RecordType) -> Exists:
    return Exists(
        SignatureItem.objects.filter(
            record_type=record_type.key,
            record_id=OuterRef("pk"),
            signature__invalidated_at__isnull=True,
        )
    )


def _plans() -> dict[int, list[str]]:
    return dict(SdvTargets.objects.values_list("trial_id", "targets"))


def _union_count(branches: list[models.QuerySet]) -> int:
    if not branches:
        return 0
    first, *rest = branches
    return first.union(*rest, all=True).count() if rest else first.count()


# --- SDV progress -------------------------------------------------------------------------


@dataclass
class Progress:
    total: int = 0
    verified: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.verified / self.total) if self.total else 100


@dataclass
class SdvProgress:
    site: Progress = field(default_factory=Progress)
    by_participant: dict[int, Progress] = field(default_factory=lambda: defaultdict(Progress))
    by_visit: dict[int, Progress] = field(default_factory=lambda: defaultdict(Progress))


def _sdv_branches(scope: Any, plans: dict[int, list[str]]) -> list[models.QuerySet]:
    """One (participant id, visit id, verified, count) branch per record type, of the
    targeted records with data; `scope(record_type)` restricts each branch."""
    branches = []
    for record_type in records.all_types():
        targeted = _targeted(record_type, plans)
        visit: Any = Cast(Value(None), output_field=BigIntegerField())
        if record_type.visit_path == "":
            visit = F("pk")
        elif record_type.visit_path:
            visit = F(f"{record_type.visit_path}_id")
        branches.append(
            record_type.model._default_manager.filter(scope(record_type), _has_data(record_type))
            .filter(targeted)
            .annotate(
                pid=F(f"{record_type.participant_path}_id"),
                vid=visit,
                ok=_verified(record_type),
            )
            .values("pid", "vid", "ok")
            .annotate(n=Count("pk"))
            .values_list("pid", "vid", "ok", "n")
            .order_by()
        )
    return branches


def _participant_sdv_rows(shape: tuple[tuple[int, tuple[str, ...]], ...], participant_id: int):
    plans = {trial_id: list(keys) for trial_id, keys in shape}
    first, *rest = _sdv_branches(
        lambda record_type: Q(**{f"{record_type.participant_path}_id": participant_id}), plans
    )
    return first.union(*rest, all=True)


# The participant page's branches cost more to build than to run: their SQL is built once per
# set of SDV plans (the plans are read on every call, so a changed plan changes the SQL).
_PARTICIPANT_SDV = Prepared(_participant_sdv_rows)


def sdv_progress(*, site=None, participant=None) -> SdvProgress:
    """Targeted records ready for review and how many are verified, per site, participant
    and visit (two queries: the trials' targets, then one UNION ALL over the record types)."""
    plans = _plans()
    result = SdvProgress()
    if not records.all_types():
        return result
    if participant is not None:
        shape = tuple(sorted((trial_id, tuple(keys)) for trial_id, keys in plans.items()))
        rows: Iterable[tuple[int, int | None, bool, int]] = _PARTICIPANT_SDV.rows(
            participant.pk, shape=shape
        )
    else:
        first, *rest = _sdv_branches(
            lambda record_type: Q(**{_participant(record_type, "site"): site}), plans
        )
        rows = first.union(*rest, all=True)
    for pid, vid, ok, n in rows:
        for progress in (
            result.site,
            result.by_participant[pid],
            *([result.by_visit[vid]] if vid is not None else []),
        ):
            progress.total += n
            progress.verified += n if ok else 0
    return result


def sdv_totals(site_ids: Iterable[int]) -> dict[int, Progress]:
    """{site id: Progress} of the sites' targeted records, as sdv_progress counts them, but
    counted in SQL (no row per participant and visit): the study dashboard's figure, two
    queries whatever the number of sites and records."""
    return _sdv_counts("site_id", list(site_ids))


def sdv_totals_of_participants(participant_ids: Iterable[int]) -> dict[int, Progress]:
    """{participant id: Progress}, counted as sdv_totals counts a site (two queries): the
    reports keep the study's figures per participant and recount only those whose data
    changed. A participant without a targeted record is absent."""
    return _sdv_counts("id", list(participant_ids))


# The ids' stand-in while the SQL is built: its places among the parameters take the ids.
_IDS = object()
# {(column, the trials' plans): (sql, params)}: the UNION over every record type costs about
# twenty milliseconds of Python to build and compile, and a few to run for one participant.
# The text depends only on these; the ids are one array parameter.
_SDV_COUNTS_SQL: dict[tuple[str, tuple[tuple[int, tuple[str, ...]], ...]], tuple[str, list]] = {}


def _sdv_counts(column: str, ids: list[int]) -> dict[int, Progress]:
    """Targeted records with data and how many are verified, grouped by the participant's
    `column` (site_id or id) over the participants whose `column` is in `ids`."""
    result: dict[int, Progress] = defaultdict(Progress)
    if not ids:
        return result
    plans = _plans()
    shape = (column, tuple(sorted((trial_id, tuple(keys)) for trial_id, keys in plans.items())))
    text = _SDV_COUNTS_SQL.get(shape)
    if text is None:
        text = _SDV_COUNTS_SQL[shape] = _sdv_counts_sql(column, plans)
    sql, params = text
    if not sql:
        return result
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids if param is _IDS else param for param in params])
        for gid, n, ok in cursor.fetchall():
            result[gid].total += n
            result[gid].verified += ok
    return result


class _AnyOf(Lookup):
    """`column = ANY(array)`: one parameter whatever the number of ids, and a plan made in a
    few milliseconds (IN over a set-returning subquery took 20 to plan across the union)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, self.rhs)


def _sdv_counts_sql(column: str, plans: dict[int, list[str]]) -> tuple[str, list]:
    """The SQL of _sdv_counts, `_IDS` standing for the ids among its parameters.

    Verified as `_verified` says (an active whole-record verification), but joined to the
    set of verified record ids instead of an EXISTS per record: inside an aggregate's FILTER
    PostgreSQL runs an EXISTS once for every record (an index probe each), a join reads the
    verifications once."""
    verifications = Verification._meta.db_table
    # A few participants: read only their verifications (a verification names the
    # participant of its record), not every verification of the type.
    few, few_params = (
        ("", []) if column != "id" else (" AND participant_id = ANY(%s::bigint[])", [_IDS])
    )
    parts, params = [], []
    for record_type in records.all_types():
        group = _participant(record_type, column)
        rows = (
            record_type.model._default_manager.filter(
                _has_data(record_type), _AnyOf(F(group), _IDS)
            )
            .filter(_targeted(record_type, plans))
            .annotate(gid=F(group))
            .values_list("pk", "gid")
            .order_by()
        )
        sql, row_params = rows.query.get_compiler(connection=connection).as_sql()
        parts.append(
            f"SELECT r.gid, count(*), count(v.record_id) FROM ({sql}) AS r(pk, gid)"  # noqa: S608
            f" LEFT JOIN (SELECT DISTINCT record_id FROM {verifications}"
            " WHERE record_type = %s AND field = '' AND cleared_at IS NULL"
            f"{few}) AS v ON v.record_id = r.pk GROUP BY r.gid"
        )
        params += [*row_params, record_type.key, *few_params]
    return " UNION ALL ".join(parts), params


# --- work queues ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueCounts:
    to_verify: int = 0
    to_sign: int = 0
    serious_to_sign: int = 0
    locks: int = 0


def _site_rows(record_type: RecordType, site) -> models.QuerySet:
    return record_type.model._default_manager.filter(
        Q(**{_participant(record_type, "site"): site}), _has_data(record_type)
    )


def to_verify(site) -> list[models.QuerySet]:
    plans = _plans()
    return [
        _site_rows(t, site)
        .filter(_targeted(t, plans))
        .filter(~_verified(t))
        .annotate(rkey=Value(t.key), pid=F(f"{t.participant_path}_id"))
        .values_list("rkey", "pk", "pid")
        for t in records.all_types()
    ]


def to_sign(site, *, serious_only: bool = False) -> list[models.QuerySet]:
    branches = []
    for t in records.all_types():
        rows = _site_rows(t, site).filter(~_signed(t))
        if serious_only:
            if not any(f.name == "serious" for f in t.model._meta.concrete_fields):
                continue
            rows = rows.filter(serious=True)
        branches.append(
            rows.annotate(rkey=Value(t.key), pid=F(f"{t.participant_path}_id")).values_list(
                "rkey", "pk", "pid"
            )
        )
    return branches


def queue_counts(user, site, capabilities: set[str]) -> QueueCounts:
    """The counts a role's home card leads with (a constant number of queries per site:
    one UNION ALL per count, plus the trials' targets for the monitor)."""
    from trials import permissions

    counts: dict[str, int] = {}
    if permissions.VERIFY_SOURCE in capabilities:
        counts["to_verify"] = _union_count(to_verify(site))
    if permissions.REVIEW_AND_SIGN in capabilities:
        counts["to_sign"] = _union_count(to_sign(site))
        counts["serious_to_sign"] = _union_count(to_sign(site, serious_only=True))
    if permissions.LOCK_DATA in capabilities:
        counts["locks"] = Lock.objects.active().filter(site=site).count()
    return QueueCounts(**counts)


def queue_rows(branches: list[models.QuerySet], limit: int = 200) -> list[tuple[str, int, int]]:
    if not branches:
        return []
    first, *rest = branches
    return list((first.union(*rest, all=True) if rest else first).order_by("pid", "rkey")[:limit])


# --- locks and signatures of a site / participant -----------------------------------------


def active_locks(site) -> models.QuerySet[Lock]:
    return (
        Lock.objects.active()
        .filter(site=site)
        .select_related("locked_by", "participant")
        .order_by("-locked_at")
    )


def lock_history(site) -> models.QuerySet[Lock]:
    return (
        Lock.objects.filter(site=site)
        .select_related("locked_by", "unlocked_by", "participant")
        .order_by("-locked_at")
    )


def signatures_of(participant) -> models.QuerySet[Signature]:
    return (
        Signature.objects.filter(participant=participant)
        .select_related("signed_by")
        .annotate(n=Count("items"))
        .order_by("-signed_at")
    )


def locks_of_participant(participant) -> list[Lock]:
    """Active locks that cover the participant or any of their data (the site's first)."""
    return list(
        Lock.objects.active()
        .filter(Q(participant=participant) | Q(scope=Scope.SITE, site_id=participant.site_id))
        .select_related("locked_by", "site")
        .order_by("locked_at")
    )
