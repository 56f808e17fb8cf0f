"""`{% load query_tags %}{% record_queries record %}`: a record's unresolved queries and, for
who may raise one at the page's site, the link to raise one (one query for the counts).
Pages of apps below queries in the layers (crfs, safety, participants) load it by name at
render time, so their Python does not import queries."""

from __future__ import annotations

from typing import Any

from django import template

from queries.selectors import counts_for_records
from trials import permissions, records

register = template.Library()


@register.inclusion_tag("queries/_record_queries.html", takes_context=True)
def record_queries(context: template.Context, record: Any) -> dict[str, Any]:
    site = context["site"]
    record_type = records.for_model(type(record)) if record is not None else None
    if record_type is None or record.pk is None:
        return {"site": site, "key": "", "pk": None, "counts": None, "may_raise": False}
    user = context.get("user")
    return {
        "site": site,
        "key": record_type.key,
        "pk": record.pk,
        "counts": counts_for_records([record]).get((record_type.key, record.pk)),
        "may_raise": user is not None and permissions.can(user, permissions.RAISE_QUERIES, site),
    }
