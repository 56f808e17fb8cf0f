"""Write guards of the reviewable records: the one place their models ask before a write.

A data manager locks a record, a visit, a participant or a site (the `review` app keeps the
locks). Locked data must not change through any path — pages, the API, the admin, management
commands, re-derivation, a service called from a shell — so the check sits in the record
models' own `save()` and `delete()`, which every one of those paths goes through. The models
live below `review`, so they cannot import it: they call `check_writable` / `written` here,
and `review` fills the hook lists in its `AppConfig.ready()` (trials.hooks style, no signals).

`QuerySet.update()`, `delete()`, `bulk_update()` and `bulk_create()` bypass `save()` and
`delete()`: the guarded models' managers are `GuardedQuerySet`s, which ask the same locks for
every row such a call touches (in one query), so a bulk write of locked data is refused too
(the schedule's bookkeeping of open visits, `lock_exempt_fields`, stays allowed).

Two models are not reviewable records yet changed by writes a lock must stop: the
participant (status, dates) and the transplantation. They name the ORM path to their
participant in `lock_participant_path` ("" for the participant itself), call
`check_writable` like the records, and a lock of their participant or site covers them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from trials import records


@dataclass(frozen=True)
class LockInfo:
    """What a page shows next to its padlock."""

    scope: str  # "record", "visit", "participant" or "site"
    scope_label: str  # e.g. "Participant ISF-001 is locked"
    by: str
    at: datetime
    reason: str


class RecordLocked(PermissionDenied, ValidationError):
    """A write to locked data. Both kinds on purpose: a page's `run_service` puts it on the
    form as a ValidationError; Django (admin, pages) and DRF answer PermissionDenied with 403,
    so no path turns a refusal into a 500."""

    def __init__(self, lock: LockInfo | None = None) -> None:
        self.lock = lock
        message = _("This data is locked; it cannot be changed.")
        if lock is not None:
            message = _("%(scope)s (by %(by)s on %(at)s: %(reason)s); it cannot be changed.") % {
                "scope": lock.scope_label,
                "by": lock.by,
                "at": lock.at.date().isoformat(),
                "reason": lock.reason,
            }
        ValidationError.__init__(self, message, code="locked")


# (instance, *, update_fields, deleting) -> None, called before a record is saved or
# deleted; a handler raises RecordLocked to refuse.
WRITE_GUARDS: list[Callable[..., None]] = []
# Called after a record was saved, inside the same transaction (e.g. a verification or a
# signature of the changed values is cleared).
ON_WRITTEN: list[Callable[[Any], None]] = []
# (instance) -> LockInfo | None: the lock covering an instance, for pages and re-derivation.
LOCK_FINDERS: list[Callable[[Any], LockInfo | None]] = []


@dataclass(frozen=True)
class Covered:
    """What a write touches, as the lock targets it falls under: rows of one record type
    (`record_type` None for the participant and the transplantation), their visits,
    participants and sites (a row not yet saved has no id, but its participant or site)."""

    record_type: str | None
    record_ids: frozenset[int] = field(default_factory=frozenset)
    visit_ids: frozenset[int] = field(default_factory=frozenset)
    participant_ids: frozenset[int] = field(default_factory=frozenset)
    site_ids: frozenset[int] = field(default_factory=frozenset)


# (Covered) -> LockInfo | None: a lock covering any of it (one query), for the writes that
# go around a single record's save: bulk writes, the participant and its transplantation.
COVERAGE_FINDERS: list[Callable[[Covered], LockInfo | None]] = []


def _exempt(instance: Any, update_fields: Iterable[str] | None) -> bool:
    """A save of only bookkeeping columns the model names (e.g. a visit's time-driven status,
    upcoming → overdue) is time passing, not a change of data: allowed under a lock."""
    exempt: frozenset[str] = getattr(type(instance), "lock_exempt_fields", frozenset())
    return update_fields is not None and bool(exempt) and set(update_fields) <= exempt


def check_writable(
    instance: Any, *, update_fields: Iterable[str] | None = None, deleting: bool = False
) -> None:
    """Raise RecordLocked if a lock covers `instance` (called by the record models' save/delete)."""
    if not deleting and _exempt(instance, update_fields):
        return
    if records.for_model(type(instance)) is None:
        _refuse_if_covered(type(instance), [instance])
        return
    for guard in WRITE_GUARDS:
        guard(instance, update_fields=update_fields, deleting=deleting)


def written(instance: Any, *, update_fields: Iterable[str] | None = None) -> None:
    if _exempt(instance, update_fields):
        return
    for handler in ON_WRITTEN:
        handler(instance)


def lock_of(instance: Any) -> LockInfo | None:
    """The lock covering `instance`, or None (one query per finder)."""
    for finder in LOCK_FINDERS:
        lock = finder(instance)
        if lock is not None:
            return lock
    return None


# --- writes of many rows, and of the participant and its transplantation ---------------


def _paths(model: type[models.Model]) -> tuple[str, str | None] | None:
    """(path to the participant, path to the visit) of a guarded model, None if unguarded."""
    record_type = records.for_model(model)
    if record_type is not None:
        return record_type.participant_path, record_type.visit_path
    path = getattr(model, "lock_participant_path", None)
    return (path, None) if isinstance(path, str) else None


def _ids_along(model: type[models.Model], rows: list[Any], path: str) -> set[int]:
    """The ids at the end of `path` from unsaved or saved instances (one query when the path
    has more than one step, e.g. a form's visit__participant)."""
    if path == "":
        return {row.pk for row in rows if row.pk is not None}
    first, _sep, rest = path.partition("__")
    ids = {getattr(row, f"{first}_id") for row in rows} - {None}
    if not rest or not ids:
        return ids
    related = model._meta.get_field(first).related_model
    assert isinstance(related, type)
    return set(related._base_manager.filter(pk__in=ids).values_list(rest, flat=True)) - {None}


def _covered_by_rows(model: type[models.Model], rows: list[Any]) -> Covered | None:
    paths = _paths(model)
    if paths is None or not rows:
        return None
    participant_path, visit_path = paths
    record_type = records.for_model(model)
    return Covered(
        record_type=record_type.key if record_type else None,
        record_ids=frozenset(row.pk for row in rows if row.pk is not None),
        visit_ids=frozenset(_ids_along(model, rows, visit_path) if visit_path is not None else ()),
        participant_ids=frozenset(_ids_along(model, rows, participant_path)),
        site_ids=frozenset(
            row.site_id for row in rows if getattr(row, "site_id", None) is not None
        ),
    )


def _covered_by_query(queryset: models.QuerySet) -> Covered | None:
    """The rows a QuerySet.update()/delete() would touch, read in one query."""
    paths = _paths(queryset.model)
    if paths is None:
        return None
    participant_path, visit_path = paths
    columns = ["pk", participant_path or "pk", visit_path or "pk"]
    has_site = any(f.name == "site" for f in queryset.model._meta.concrete_fields)
    if has_site:
        columns.append("site_id")
    rows = list(queryset.values_list(*columns))
    if not rows:
        return None
    record_type = records.for_model(queryset.model)
    return Covered(
        record_type=record_type.key if record_type else None,
        record_ids=frozenset(row[0] for row in rows),
        visit_ids=frozenset(row[2] for row in rows if row[2] is not None)
        if visit_path is not None
        else frozenset(),
        participant_ids=frozenset(row[1] for row in rows if row[1] is not None),
        site_ids=frozenset(row[3] for row in rows) if has_site else frozenset(),
    )


def _refuse(covered: Covered | None) -> None:
    if covered is None:
        return
    for finder in COVERAGE_FINDERS:
        lock = finder(covered)
        if lock is not None:
            raise RecordLocked(lock)


def _refuse_if_covered(model: type[models.Model], rows: list[Any]) -> None:
    _refuse(_covered_by_rows(model, rows))


def _exempt_names(model: type[models.Model], names: Iterable[str]) -> bool:
    exempt: frozenset[str] = getattr(model, "lock_exempt_fields", frozenset())
    names = set(names)
    return bool(exempt) and bool(names) and names <= exempt


class GuardedQuerySet(models.QuerySet):
    """The QuerySet of a model the locks cover: its writes of many rows at once (which skip
    the model's save() and delete()) are refused when a lock covers any row they touch."""

    def _plain(self) -> models.QuerySet:
        # Django's bulk_update runs filter().update() per batch: checked once, up front.
        return models.QuerySet(model=self.model, query=self.query.chain(), using=self.db)

    def update(self, **kwargs: Any) -> int:
        if not _exempt_names(self.model, kwargs):
            _refuse(_covered_by_query(self))
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse(_covered_by_query(self))
        return super().delete()

    def bulk_update(
        self, objs: Iterable[Any], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        objs = list(objs)
        fields = list(fields)
        if not _exempt_names(self.model, fields):
            # The instances name their participant and visit (no query, unless the path to
            # them has more than one step).
            _refuse_if_covered(self.model, objs)
        return self._plain().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        _refuse_if_covered(self.model, objs)
        return super().bulk_create(objs, *args, **kwargs)
