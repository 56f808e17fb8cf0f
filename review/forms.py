from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from review.models import MEANING
from trials.forms import FREE_TEXT_MAX_LENGTH


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class VerifyForm(forms.Form):
    """Verify the whole record, or the ticked fields."""

    whole = forms.BooleanField(label=_("The whole record"), required=False)
    fields_verified = forms.MultipleChoiceField(
        label=_("Fields"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, field_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["fields_verified"]).choices = field_choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("whole") and not cleaned.get("fields_verified"):
            raise forms.ValidationError(_("Tick the whole record or at least one field."))
        return cleaned


class SignForm(forms.Form):
    records = forms.MultipleChoiceField(
        label=_("Records to sign"), required=False, widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(
        label=_("Your password (signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=MEANING,
    )

    def __init__(self, *args: Any, record_choices: list[tuple[str, str]] | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if record_choices is None:
            del self.fields["records"]
        else:
            cast(forms.ChoiceField, self.fields["records"]).choices = record_choices
            self.fields["records"].required = True


class TargetsForm(forms.Form):
    targets = forms.MultipleChoiceField(
        label=_("Records a monitor verifies"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every record is verified (100 % SDV)."),
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["targets"]).choices = choices
