"""The catalogue of reviewable records: every kind of trial data a monitor may verify, query,
an investigator sign or a data manager lock (forms, adverse events, con meds, visits,
demographics, ALS history).

The review, query and audit apps work on any record through this catalogue and import none
of the record models by name. Each app that owns such models registers them in its
AppConfig.ready() (as it fills the hook lists of trials.hooks), so adding an instrument adds
it to review without touching review.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import reverse


@dataclass(frozen=True)
class RecordType:
    # Stable across releases: stored in query, SDV, signature and lock rows.
    key: str
    model: type[models.Model]
    # ORM paths from the record to its participant and visit ("" when it is the thing
    # itself, None when it has none): the generic reads filter and select through them.
    participant_path: str
    visit_path: str | None
    # The page a user opens to see (and correct) one record; takes the record with its
    # participant (and site) loaded.
    page: Callable[[Any], str]
    # Fields that are data, in the order the page shows them; the rest (ids, status,
    # version, timestamps, derived values) are bookkeeping.
    data_fields: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)

    def participant_of(self, record: Any) -> Any:
        obj = record
        for part in self.participant_path.split("__") if self.participant_path else ():
            obj = getattr(obj, part)
        return obj

    def visit_of(self, record: Any) -> Any | None:
        if self.visit_path is None:
            return None
        obj = record
        for part in self.visit_path.split("__") if self.visit_path else ():
            obj = getattr(obj, part)
        return obj


_TYPES: dict[str, RecordType] = {}


def register(record_type: RecordType) -> None:
    """Add a record type (AppConfig.ready may run more than once in tests: same key, same
    model is a no-op; another model under a taken key is a programming error)."""
    known = _TYPES.get(record_type.key)
    if known is not None and known.model is not record_type.model:
        raise ValueError(f"record type {record_type.key!r} is already {known.model.__name__}")
    _TYPES[record_type.key] = record_type


def all_types() -> list[RecordType]:
    return list(_TYPES.values())


def get(key: str) -> RecordType | None:
    return _TYPES.get(key)


def for_model(model: type[models.Model]) -> RecordType | None:
    concrete = model._meta.concrete_model
    return next((t for t in _TYPES.values() if t.model is concrete), None)


# Form fields that carry the write path's state, not data a monitor checks.
BOOKKEEPING = frozenset({"version", "status", "reason_for_change", "form_token", "complete"})


def entered_fields(model: type[models.Model], names) -> tuple[str, ...]:
    """The names of `names` that are the model's own stored data (an entry form's fields
    also carry its version, completion flag and reason for change)."""
    stored = {field.name for field in model._meta.concrete_fields}
    return tuple(name for name in names if name in stored and name not in BOOKKEEPING)


def participant_page(code: str, participant_pk: int, name: str, **kwargs: int | str) -> str:
    """URL of a page under /sites/<code>/participants/<pk>/ (most records live there)."""
    return reverse(name, kwargs={"code": code, "pk": participant_pk, **kwargs})
