"""The catalogue of edit checks, and the hook list a save calls so they run again.

An edit check is declared next to the instrument whose data it reads (crfs/alsfrs_r/checks.py,
visits/checks.py, safety/checks.py ...): a loader that reads the values of many participants
at once (the ORM, a constant number of queries), and a pure rule over one participant's
typed values that says what it finds. Each app registers its checks in AppConfig.ready(), as
it registers its records in trials.records, so the queries app runs every check without
importing an instrument by name.

The write paths (crfs.entry.save_form, the safety services, the visit date) call
`record_saved` after their write, inside their transaction; the queries app connects the
handler that re-runs the checks (after commit, in a Celery task).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.db import models
from django.utils.functional import Promise

T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    """What a rule found on one record. (check, record type, record pk, key) is the finding's
    identity: the query it raises is raised once, and closed when the identity is no longer
    found; so a key names the problem ("q3_swallowing", "window"), never the values."""

    record_type: str  # a trials.records key
    record_pk: int
    key: str
    message: str
    field: str = ""  # the field the query is on ("" for the whole record)
    visit_id: int | None = None


@dataclass(frozen=True)
class Check(Generic[T]):
    # Stable across releases: stored in the queries a check raises.
    key: str
    label: str | Promise
    description: str | Promise
    # participant ids -> {participant id: the values the rule reads}; a participant without
    # any such values may be left out.
    load: Callable[[Sequence[int]], Mapping[int, T]]
    # Pure: no ORM, no settings; the same values give the same findings.
    rule: Callable[[T], list[Finding]]
    # The record types whose save may change what the rule finds.
    triggers: frozenset[str] = frozenset()

    def findings(self, participant_ids: Sequence[int]) -> dict[int, list[Finding]]:
        return {pid: self.rule(values) for pid, values in self.load(participant_ids).items()}


_CHECKS: dict[str, Check[Any]] = {}


def register(check: Check[Any]) -> None:
    """Add a check (ready() may run more than once in tests: the same key is replaced by the
    same declaration)."""
    _CHECKS[check.key] = check


def all_checks() -> list[Check[Any]]:
    return list(_CHECKS.values())


def get(key: str) -> Check[Any] | None:
    return _CHECKS.get(key)


def triggered_by(record_type: str) -> list[Check[Any]]:
    return [check for check in _CHECKS.values() if record_type in check.triggers]


# --- a record was saved ---------------------------------------------------------------------


class RecordSavedHook(Protocol):
    def __call__(
        self,
        record: models.Model,
        *,
        participant_id: int,
        actor: Any,
        reason: str,
        fields: Collection[str],
    ) -> Any: ...


# A reviewable record (trials.records) was created or changed: the handlers run in the
# writer's transaction, so they must not query (the write paths' query counts are tested);
# the queries app only schedules its work for after the commit.
ON_RECORD_SAVED: list[RecordSavedHook] = []
_paused = False


@contextmanager
def unchecked_saves() -> Iterator[None]:
    """A bulk load (the demo seeder) saves thousands of records: inside this block the saves
    call no handler (no task per save); run the checks once afterwards (the nightly batch,
    or queries.services.run_all_checks)."""
    global _paused
    before, _paused = _paused, True
    try:
        yield
    finally:
        _paused = before


def record_saved(
    record: models.Model,
    *,
    participant_id: int,
    actor: Any,
    reason: str = "",
    fields: Collection[str] = (),
) -> None:
    """Call after the write, inside its transaction; `fields` are the names of the changed
    fields (a missing-reason change counts as a change of its field)."""
    if _paused:
        return
    names = {name.partition(" (")[0] for name in fields}
    for hook in ON_RECORD_SAVED:
        hook(record, participant_id=participant_id, actor=actor, reason=reason, fields=names)
