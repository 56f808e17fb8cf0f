"""The code a user types: from the authenticator app, or a backup code."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import CalendarChoice
from trials.forms import CrispyFields


class TokenForm(CrispyFields, forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("Six digits from the app. Lost the phone? Type one of your backup codes."),
    )


class EnrolForm(CrispyFields, forms.Form):
    token = forms.CharField(
        label=_("Code shown by the app"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("After adding the account, type the six digits the app shows for it."),
    )


class PreferenceForm(CrispyFields, forms.Form):
    """The language and calendar of the pages (the user's own, kept across sessions)."""

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("The browser's language, else the site's")), *settings.LANGUAGES],
    )
    calendar = forms.ChoiceField(
        label=_("Calendar of dates"),
        required=False,
        choices=CalendarChoice.choices,
        help_text=_(
            "Dates are shown and typed in this calendar; they are stored, exported and "
            "scheduled in the Gregorian calendar."
        ),
    )
