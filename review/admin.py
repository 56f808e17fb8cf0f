"""The reviewable records in the Django admin (superusers only, see config.urls), for the
rare correction that no page offers: each change needs a reason (in the audit trail) and
bumps the record's version; a locked record is shown read-only and a write to it is refused
(403) — the model's own guard refuses it too, should a lock arrive while the page is open.
Locks are listed read-only: they are made and lifted on the review pages, with a reason."""

from __future__ import annotations

from typing import Any

import pghistory
from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from review.models import Lock
from trials import locking, records
from trials.forms import FREE_TEXT_MAX_LENGTH


class RecordAdminForm(forms.ModelForm):
    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RecordAdmin(admin.ModelAdmin):
    form = RecordAdminForm
    data_fields: tuple[str, ...] = ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*self.data_fields, "reason_for_change")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # records are made by their entry pages, in their visit's context

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or locking.lock_of(obj) is None)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None and not self.has_change_permission(request, obj):
            return self.data_fields
        return ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is not None and not self.has_change_permission(request, obj):
            kwargs["fields"] = []  # read-only: no reason asked for
        return super().get_form(request, obj, change, **kwargs)

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any):
        obj = kwargs.get("obj")
        lock = locking.lock_of(obj) if obj is not None else None
        if lock is not None:
            context["title"] = (
                f"🔒 {lock.scope_label} ({lock.by}, {lock.at:%Y-%m-%d}: {lock.reason})"
            )
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        if hasattr(obj, "version"):
            obj.version += 1  # a page opened before this change is now stale
        if hasattr(obj, "updated_by_id"):
            obj.updated_by = request.user
        reason = form.cleaned_data.get("reason_for_change", "")
        with pghistory.context(reason=f"admin: {reason}", actor_id=request.user.pk):
            obj.save()


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
