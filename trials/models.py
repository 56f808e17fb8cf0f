"""Trials, sites, and who works at them in which role."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trials.choices import SpirometryEquation
from trials.protocols import get_protocol


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known IANA time zone."), params={"value": value}
        )


@pghistory.track()
class Site(models.Model):
    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        help_text=_("Short upper-case code, used as the prefix of study IDs."),
    )
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=100)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Tehran", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The language of the site's pages, e-mails, reminders and feed for a user who chose none
    # (before the browser's: trials.i18n, accounts.preferences).
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text=_(
            "The language of pages, e-mails and reminders for a user of the site who chose "
            "none, before the browser's. Empty: the browser's language."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z][A-Z0-9]{1,7}$"),
                name="site_code_upper_alnum",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_today(self) -> date:
        """Today's calendar date at the site: clinical dates are site-local dates."""
        return timezone.now().astimezone(self.zone).date()

    def local_date(self, moment: datetime) -> date:
        """The site-local calendar date of an aware datetime."""
        return moment.astimezone(self.zone).date()


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Study coordinator")
    INVESTIGATOR = "investigator", _("Investigator")
    MONITOR = "monitor", _("Monitor")
    DATA_MANAGER = "data_manager", _("Data manager")
    SITE_ADMIN = "site_admin", _("Site administrator")


class MembershipQuerySet(models.QuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True, site__is_active=True)


@pghistory.track()
class Membership(models.Model):
    """A user's role at one site. A user may hold several roles, at several sites."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("site")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["site__code", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site", "role"], name="membership_unique_role_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.site.code}"


@pghistory.track()
class Trial(models.Model):
    """A registered trial; its schedule and forms live in trials/protocols/<nct id>.py."""

    nct_id = models.CharField(
        _("NCT number"),
        max_length=11,
        unique=True,
        help_text=_("ClinicalTrials.gov identifier, e.g. NCT02116634."),
    )
    title = models.CharField(_("title"), max_length=500)
    phase = models.CharField(_("phase"), max_length=20)
    sponsor = models.CharField(_("sponsor"), max_length=200)
    sponsor_safety_email = models.EmailField(
        _("sponsor safety contact e-mail"),
        blank=True,
        help_text=_(
            "Receives every serious adverse event alert of this trial and its escalation "
            "when no investigator acknowledges it in time. Empty: none is sent."
        ),
    )
    protocol_version = models.CharField(_("protocol version"), max_length=40)
    spirometry_equation = models.CharField(
        _("spirometry reference equation"),
        max_length=40,
        choices=SpirometryEquation.choices,
        default=SpirometryEquation.GLI_GLOBAL_2022,
        help_text=_(
            "Predicted FVC, z-score and LLN of this study's spirometry. A change applies to "
            "forms saved afterwards; each stored result keeps the equation that produced it."
        ),
    )

    class Meta:
        ordering = ["nct_id"]
        verbose_name = _("trial")
        verbose_name_plural = _("trials")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nct_id__regex=r"^NCT[0-9]{8}$"), name="trial_nct_id_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.nct_id} · {self.title}"

    @property
    def protocol(self):
        """The declarative definition (trials.protocols.definitions.Protocol) of this trial."""
        return get_protocol(self.nct_id)
