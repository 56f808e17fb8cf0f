"""The access log: who came in, who was kept out, what left the system and who was given
which role. Append-only like the audit trail (a trigger refuses UPDATE and DELETE)."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trials.models import Site


class AccessKind(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKOUT = "lockout", _("Lockout")
    LOGOUT = "logout", _("Logout")
    EXPORT_CREATED = "export_created", _("Export created")
    EXPORT_DOWNLOADED = "export_downloaded", _("Export downloaded")
    ROLE_GRANTED = "role_granted", _("Role granted")
    ROLE_REVOKED = "role_revoked", _("Role revoked")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset")


class AccessEvent(models.Model):
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # The account, when there is one (a failed login may name none); no constraint and no
    # cascade, so the log outlives the account and is never rewritten by its deletion.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # As typed or as the account was called then (failed logins, renamed accounts).
    username = models.CharField(_("user name"), max_length=150, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=AccessKind.choices)
    site = models.ForeignKey(
        Site,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        indexes = [models.Index(fields=["site", "-at"]), models.Index(fields=["kind", "-at"])]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
