from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from reminders.models import VISIT_KIND_CHOICES, ReminderPreference


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of reminders"),
        choices=[("", _("My language (else the site's)")), *settings.LANGUAGES],
        required=False,
        help_text=ReminderPreference._meta.get_field("language").help_text,
    )
    muted_kinds = forms.MultipleChoiceField(
        label=_("Do not send me these reminders"),
        # Safety alerts are not offered: they are mandatory safety communications.
        choices=VISIT_KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
