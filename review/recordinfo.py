"""What review needs to know of any record, read through trials.records only."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from pghistory.core import event_models

from trials import records
from trials.records import RecordType


def type_of(instance: models.Model) -> RecordType | None:
    return records.for_model(type(instance))


def _follow(instance: Any, path: str) -> Any:
    """The id at the end of an ORM path ("visit__participant" → the visit's participant_id),
    reading no row the instance does not already hold but the ones in between."""
    if path == "":
        return instance.pk
    *between, last = path.split("__")
    obj = instance
    for part in between:
        obj = getattr(obj, part)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id")


def participant_id(record_type: RecordType, instance: Any) -> int | None:
    return _follow(instance, record_type.participant_path)


def visit_id(record_type: RecordType, instance: Any) -> int | None:
    if record_type.visit_path is None:
        return None
    return _follow(instance, record_type.visit_path)


def checked_fields(record_type: RecordType) -> tuple[str, ...]:
    """The fields a verification or signature covers: the entered data, and the missing-data
    reasons of a form (an answer replaced by a reason is a change of data)."""
    names = record_type.data_fields
    if any(f.name == "missing_reasons" for f in record_type.model._meta.concrete_fields):
        names = (*names, "missing_reasons")
    return names


def canonical(value: Any) -> str | None:
    """A value as text that compares equal for equal data (Decimal("70") and "70.0" alike)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def values_of(instance: Any, fields: tuple[str, ...]) -> dict[str, str | None]:
    out = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)  # a foreign key by its id: no query
        out[name] = canonical(getattr(instance, attname))
    return out


def version_of(instance: Any) -> int | None:
    version = getattr(instance, "version", None)
    return version if isinstance(version, int) else None


_EVENT_MODELS: dict[type[models.Model], type[models.Model] | None] = {}


def event_model(model: type[models.Model]) -> type[models.Model] | None:
    """The model's pghistory event model (looked up once per process)."""
    if model not in _EVENT_MODELS:
        found = event_models(tracks_model=model)
        _EVENT_MODELS[model] = found[0] if found else None
    return _EVENT_MODELS[model]


def last_event_id(instance: Any) -> int | None:
    """The pghistory event of the record's last change (the trigger wrote it with the row)."""
    events = event_model(type(instance))
    if events is None:
        return None
    return (
        events._default_manager.filter(pgh_obj_id=instance.pk)
        .order_by("-pgh_id")
        .values_list("pgh_id", flat=True)
        .first()
    )


def last_event_ids(model: type[models.Model], ids: list[int]) -> dict[int, int]:
    """{record id: its last event id} for many records of one model, in one query."""
    events = event_model(model)
    if events is None or not ids:
        return {}
    rows = (
        events._default_manager.filter(pgh_obj_id__in=ids)
        .values("pgh_obj_id")
        .annotate(last=models.Max("pgh_id"))
        .values_list("pgh_obj_id", "last")
    )
    return dict(rows)
