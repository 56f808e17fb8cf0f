"""queries' part of a record's history (trials.timeline.HISTORY_SOURCES): every query on the
record — opened by a person or an edit check, answered, answered by a correction, closed,
reopened — with its messages, one query for any number of records of one type."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from queries.models import MessageKind, QueryMessage
from trials import checks
from trials.records import RecordType
from trials.timeline import HistoryEntry

_LABELS = {
    MessageKind.OPENED: (lambda: _("Query opened"), "warning"),
    MessageKind.MESSAGE: (lambda: _("Query message"), "secondary"),
    MessageKind.ANSWER: (lambda: _("Query answered"), "info"),
    MessageKind.CORRECTION: (lambda: _("Query answered by a correction"), "info"),
    MessageKind.CLOSED: (lambda: _("Query closed"), "success"),
    MessageKind.REOPENED: (lambda: _("Query reopened"), "warning"),
}


def _on(record_type: RecordType, field: str) -> str:
    if not field:
        return _("On the whole record")
    try:
        found = record_type.model._meta.get_field(field)
    except FieldDoesNotExist:  # a field since removed from the model: its stored name
        label = field
    else:
        label = capfirst(str(getattr(found, "verbose_name", field)))
    return _("On %(field)s") % {"field": label}


def record_history(record_type: RecordType, ids: Sequence[int]) -> list[HistoryEntry]:
    messages = (
        QueryMessage.objects.filter(query__record_type=record_type.key, query__record_pk__in=ids)
        .select_related("author", "query__site")
        .order_by("created_at", "pk")
    )
    found = []
    for message in messages:
        query = message.query
        label, tone = _LABELS.get(MessageKind(message.kind), _LABELS[MessageKind.MESSAGE])
        if message.author is not None:
            who = message.author.get_username()
        else:
            check = checks.get(query.check_key) if query.check_key else None
            who = _("edit check: %(check)s") % {"check": check.label if check else query.check_key}
        text = message.text.strip()
        found.append(
            HistoryEntry(
                record_type=record_type.key,
                record_id=query.record_pk,
                at=message.created_at,
                kind=f"query_{message.kind}",
                label=f"{label()} #{query.pk}",
                who=who,
                detail=f"{_on(record_type, query.field_name)}: {text}"
                if text
                else _on(record_type, query.field_name),
                tone=tone,
                link=reverse("query-detail", args=[query.site.code, query.pk]),
            )
        )
    return found
