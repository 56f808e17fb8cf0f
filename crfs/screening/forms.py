"""The screening forms: the investigator's eligibility override and the screen failure."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from trials.forms import DateInput


class EligibilityOverrideForm(forms.Form):
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ScreenFailureForm(forms.Form):
    effective_date = forms.DateField(label=_("Date of the screen failure"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
