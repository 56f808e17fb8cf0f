"""Directly identifying data, kept apart from the clinical record.

Shown only to users holding permissions.VIEW_IDENTIFIERS at the participant's site,
and never exported in de-identified datasets.
"""

from __future__ import annotations

import pghistory
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Replace, Upper
from django.utils.translation import gettext_lazy as _

from participants.models.participant import Participant

phone_validator = RegexValidator(
    r"^\+?[0-9 ()-]{6,20}$", _("Enter a phone number of digits, spaces, brackets or dashes.")
)


def comparable_national_id(path: str = "national_id") -> Upper:
    """The national ID at `path` as registrations compare it: dashes and letter case vary in
    typing (services.national_id_key is the same in Python). An index is on it."""
    return Upper(Replace(path, Value("-"), Value("")))


national_id_validator = RegexValidator(
    r"^[A-Za-z0-9-]{4,20}$", _("Enter 4 to 20 letters, digits or dashes.")
)


@pghistory.track()
class ParticipantIdentity(models.Model):
    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, primary_key=True, related_name="identity"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    national_id = models.CharField(
        _("national ID"), max_length=20, blank=True, validators=[national_id_validator]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    address = models.TextField(_("address"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("participant identity")
        verbose_name_plural = _("participant identities")
        indexes = [
            models.Index(fields=["full_name"]),
            # Every registration looks for the national ID in its trial.
            models.Index(comparable_national_id(), name="identity_national_id_key"),
        ]

    def __str__(self) -> str:
        return self.full_name
