"""The code a user types: from the authenticator app, or a backup code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import CalendarChoice
from trials.forms import CrispyFields
from trials.i18n import chosen_language


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


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form whose e-mail is in the account's own language (its saved choice,
    trials.i18n), else in the language of the page that asked for it."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        language = chosen_language(context.get("user")) or translation.get_language()
        with translation.override(language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )
