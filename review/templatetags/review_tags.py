"""`{% load review_tags %}{% lock_banner record %}`: the padlock, who, when and why, on any
page that shows a reviewable record (one query; nothing when the record is not locked)."""

from __future__ import annotations

from typing import Any

from django import template

from trials import locking

register = template.Library()


@register.inclusion_tag("review/_lock.html")
def lock_banner(record: Any) -> dict[str, Any]:
    return {"lock": locking.lock_of(record) if record is not None else None}
