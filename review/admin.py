"""The reviewable records in the Django admin (superusers only, see config.urls), read-only:
a change there would skip what the services do around a save (derived scores, re-derivation
of other forms, reminders, the reason for change), so data is corrected on its pages. A
record's lock is shown in the title; a write is refused (403), and the model's own guard
(trials.locking) would refuse a locked one anyway. Locks are listed read-only too: they are
made and lifted on the review pages, with a reason."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from review.models import Lock
from trials import locking, records


class RecordAdmin(admin.ModelAdmin):
    data_fields: tuple[str, ...] = ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.data_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.data_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any):
        obj = kwargs.get("obj")
        lock = locking.lock_of(obj) if obj is not None else None
        if lock is not None:
            # Plain text: the admin's title is also the window's, and a padlock emoji shows
            # an empty box where no emoji font is installed.
            context["title"] = f"{lock.scope_label} ({lock.by}, {lock.at:%Y-%m-%d}: {lock.reason})"
        return super().render_change_form(request, context, *args, **kwargs)


def register_records() -> None:
    """Called by ReviewConfig.ready(): the catalogue is filled by the record apps' ready(),
    which run after the admin's autodiscovery."""
    for record_type in records.all_types():
        if admin.site.is_registered(record_type.model):
            continue
        admin_class = type(
            f"{record_type.model.__name__}Admin",
            (RecordAdmin,),
            {"data_fields": tuple(record_type.data_fields)},
        )
        admin.site.register(record_type.model, admin_class)


@admin.register(Lock)
class LockAdmin(admin.ModelAdmin):
    list_display = ("target", "scope", "site", "locked_by", "locked_at", "unlocked_at")
    list_filter = ("scope", "site")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
