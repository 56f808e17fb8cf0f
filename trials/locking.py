"""Write guards of the reviewable records: the one place their models ask before a write.

A data manager locks a record, a visit, a participant or a site (the `review` app keeps the
locks). Locked data must not change through any path — pages, the API, the admin, management
commands, re-derivation, a service called from a shell — so the check sits in the record
models' own `save()` and `delete()`, which every one of those paths goes through. The models
live below `review`, so they cannot import it: they call `check_writable` / `written` here,
and `review` fills the hook lists in its `AppConfig.ready()` (trials.hooks style, no signals).

`queryset.update()` and `bulk_update()` bypass `save()`: the services use them only for the
schedule's bookkeeping of open visits (status, planned window), never for entered data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _


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
