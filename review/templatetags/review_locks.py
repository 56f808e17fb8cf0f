"""`{% load review_locks %}{% record_lock record as lock %}`: the lock covering a record (or
None), for pages that both show the banner (`{% include "review/_lock.html" %}`) and hide
their Save button when locked. The lock is kept on the instance, so asking again (the
record's is_locked) costs no query."""

from __future__ import annotations

from typing import Any

from django import template

from trials import locking
from trials.locking import LockInfo

register = template.Library()


@register.simple_tag
def record_lock(record: Any) -> LockInfo | None:
    return locking.lock_of(record) if record is not None and record != "" else None
