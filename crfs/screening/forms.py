"""The screening forms: the investigator's eligibility override and the screen failure."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from trials.forms import CrispyFields, DateInput


class EligibilityOverrideForm(CrispyFields, forms.Form):
    reason = forms.CharField(
        label=_("Reason for the override"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    password = forms.CharField(
        label=_("Your password (signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        help_text=_("Entering your password signs the override in your name."),
    )


class ScreenFailureForm(CrispyFields, forms.Form):
    effective_date = forms.DateField(label=_("Date of the screen failure"), widget=DateInput())
