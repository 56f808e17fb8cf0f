"""The queries pages' forms: open a query, write in a thread, filter a list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from queries.models import QueryStatus
from queries.selectors import field_label, record_label
from queries.services import MESSAGE_MAX_LENGTH, Action
from trials import checks, records
from trials.forms import CrispyFields
from trials.models import Role


def _message_field(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=_("Message"),
        required=required,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class OpenQueryForm(CrispyFields, forms.Form):
    # The record is fixed by the page's address; these carry it through the POST.
    record = forms.CharField(widget=forms.HiddenInput)
    record_pk = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    field_name = forms.ChoiceField(label=_("About"), required=False)
    message = _message_field()
    assigned_role = forms.ChoiceField(
        label=_("Assigned to"), choices=Role.choices, initial=Role.COORDINATOR
    )

    def __init__(self, *args: Any, record_kind: records.RecordType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["field_name"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", str(_("The whole record"))),
            *((name, field_label(record_kind.model, name)) for name in record_kind.data_fields),
        ]


class ThreadForm(CrispyFields, forms.Form):
    message = _message_field(required=False)
    # The page's buttons set the action; the message in the box goes with it.
    action = forms.ChoiceField(choices=[(a, a) for a in Action.ALL])


AGES = (7, 14, 30, 60)


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("unresolved", _("Open or answered")), *QueryStatus.choices, ("all", _("All"))],
    )
    age = forms.TypedChoiceField(
        label=_("Age"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any age"))] + [(str(n), _("%(n)s days or more") % {"n": n}) for n in AGES],
    )
    role = forms.ChoiceField(label=_("Assigned to"), required=False)
    record_type = forms.ChoiceField(label=_("Record"), required=False)
    check = forms.ChoiceField(label=_("Raised by"), required=False)
    record_pk = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # An age range in whole days, both ends included: the study dashboard's bars (0 to 7,
    # 8 to 30, over 30 days) open the list with it.
    min_age = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    max_age = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("Any role")), *Role.choices]  # type: ignore[attr-defined]
        types = sorted(
            ((t.key, record_label(t, t.key)) for t in records.all_types()), key=lambda c: c[1]
        )
        self.fields["record_type"].choices = [("", _("Any record")), *types]  # type: ignore[attr-defined]
        self.fields["check"].choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            ("manual", _("People")),
            *((c.key, c.label) for c in checks.all_checks()),
        ]
