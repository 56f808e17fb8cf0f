"""Filters of the audit log and the access log (GET forms: a bad value is a form error)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from audit.models import AccessKind
from trials.forms import DateInput
from trials.models import Membership, Site


def _member_choices(site: Site | None) -> list[tuple[str, Any]]:
    """Everyone who holds or held a role at the site (revoked members' changes stay in the
    log), or every account for the all-sites log."""
    users = get_user_model().objects.order_by("username")
    if site is not None:
        users = users.filter(pk__in=Membership.objects.filter(site=site).values("user_id"))
    return [
        ("", _("Everyone")),
        *((str(pk), name) for pk, name in users.values_list("pk", "username")),
    ]


class AuditLogFilter(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    user = forms.TypedChoiceField(label=_("User"), required=False, coerce=int, empty_value=None)
    record_type = forms.ChoiceField(label=_("Record type"), required=False)

    def __init__(self, *args, site: Site, record_types: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        user_field = self.fields["user"]
        record_type = self.fields["record_type"]
        assert isinstance(user_field, forms.ChoiceField)
        assert isinstance(record_type, forms.ChoiceField)
        user_field.choices = _member_choices(site)
        record_type.choices = [("", _("All record types")), *record_types]

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date is before the start date."))
        return data


class AccessLogFilter(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    # Typed, not chosen: failed logins name accounts that may not exist.
    user = forms.CharField(label=_("User name"), required=False, max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("Every kind")), *AccessKind.choices]
