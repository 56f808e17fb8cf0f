"""Reminder rows (the schedule), in-app notifications, preferences and calendar feed tokens.

Not tracked by pghistory: these are operational rows (claimed and sent many times a day),
not trial data.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from trials.models import Site
from trials.protocols.definitions import ReminderKind as KindCode


class ReminderKind(models.TextChoices):
    BEFORE_WINDOW = KindCode.BEFORE_WINDOW.value, _("Visit window opens soon")
    WINDOW_OPENS = KindCode.WINDOW_OPENS.value, _("Visit window opens")
    TARGET_DATE = KindCode.TARGET_DATE.value, _("Visit target date")
    OVERDUE = KindCode.OVERDUE.value, _("Visit overdue")
    # Safety alerts (reminders.alerts): rows with a topic, raised by the safety app.
    SAE = "sae", _("Serious adverse event")
    SAE_UPDATE = "sae_update", _("Serious adverse event update")
    SAE_ESCALATION = "sae_escalation", _("Serious adverse event not acknowledged")


# Kinds of the visit schedule (no topic; kept in step by sync) and of safety alerts (a topic;
# never touched by sync, never muted: mandatory safety communications).
VISIT_KINDS = frozenset(
    {
        ReminderKind.BEFORE_WINDOW,
        ReminderKind.WINDOW_OPENS,
        ReminderKind.TARGET_DATE,
        ReminderKind.OVERDUE,
    }
)
ALERT_KINDS = frozenset({ReminderKind.SAE, ReminderKind.SAE_UPDATE, ReminderKind.SAE_ESCALATION})
VISIT_KIND_CHOICES = [(kind.value, kind.label) for kind in ReminderKind if kind in VISIT_KINDS]


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    IN_APP = "in_app", _("In-app notification")


class Reminder(models.Model):
    """One reminder of one visit to one person through one channel, due at `due_at`.

    Pending: sent_at and cancelled_at are NULL. A scan claims due pending rows (claimed_at);
    the send task sets sent_at under a row lock. Sent rows are never changed again;
    rows that no longer apply are cancelled, never deleted.

    A safety alert (`reminders.alerts`) is a row with a `topic` (what it is about, e.g. one
    SAE) and a `payload` (the strings its message needs); its recipient is a user or, for the
    sponsor's safety contact, who has no account, an e-mail address.
    """

    visit = models.ForeignKey(
        "visits.Visit", on_delete=models.CASCADE, related_name="reminders", verbose_name=_("visit")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    topic = models.CharField(_("topic"), max_length=100, blank=True, default="", db_default="")
    payload = models.JSONField(_("message values"), default=dict, blank=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("recipient"),
    )
    recipient_email = models.EmailField(
        _("recipient address"),
        blank=True,
        default="",
        db_default="",
        help_text=_("Instead of a user: the trial's sponsor safety contact."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    due_at = models.DateTimeField(_("due"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "kind", "recipient", "channel"],
                condition=models.Q(topic=""),
                name="reminder_unique_per_channel",
            ),
            # An alert reaches each recipient once per topic, kind and channel: a retried or
            # duplicated raise inserts nothing twice.
            models.UniqueConstraint(
                fields=["topic", "kind", "recipient", "channel"],
                condition=~models.Q(topic="") & models.Q(recipient__isnull=False),
                name="alert_unique_per_user",
            ),
            models.UniqueConstraint(
                fields=["topic", "kind", "recipient_email", "channel"],
                condition=~models.Q(topic="") & models.Q(recipient__isnull=True),
                name="alert_unique_per_address",
            ),
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False, recipient_email="")
                | (models.Q(recipient__isnull=True) & ~models.Q(recipient_email="")),
                name="reminder_one_recipient",
            ),
            models.CheckConstraint(
                condition=models.Q(topic="", kind__in=sorted(VISIT_KINDS))
                | (~models.Q(topic="") & models.Q(kind__in=sorted(ALERT_KINDS))),
                name="reminder_topic_only_for_alerts",
            ),
            models.CheckConstraint(
                condition=models.Q(sent_at__isnull=True) | models.Q(cancelled_at__isnull=True),
                name="reminder_not_sent_and_cancelled",
            ),
        ]
        indexes = [
            # The scan: pending rows by due time; sent and cancelled rows stay out of the index.
            models.Index(
                fields=["due_at"],
                name="reminder_due_scan",
                condition=models.Q(sent_at__isnull=True, cancelled_at__isnull=True),
            ),
            models.Index(fields=["topic"], condition=~models.Q(topic=""), name="reminder_topic"),
        ]

    def __str__(self) -> str:
        to = f"user {self.recipient_id}" if self.recipient_id else self.recipient_email
        return f"{self.kind} · visit {self.visit_id} → {to} ({self.channel})"

    @property
    def is_pending(self) -> bool:
        return self.sent_at is None and self.cancelled_at is None

    @property
    def is_alert(self) -> bool:
        return self.kind in ALERT_KINDS

    @property
    def address(self) -> str:
        """Where its e-mail goes: the user's address, or the stored one of a contact."""
        return self.recipient.email if self.recipient is not None else self.recipient_email


class Notification(models.Model):
    """An in-app message, written in the recipient's language when it was sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    reminder = models.OneToOneField(
        Reminder, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["user", "site"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
            models.Index(fields=["user", "-created_at"], name="notification_by_user"),
        ]

    def __str__(self) -> str:
        return self.subject


class ReminderPreference(models.Model):
    """A user's reminder language and the kinds of reminder they do not want."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference"
    )
    language = models.CharField(
        _("language of reminders"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_(
            "Empty: the language you chose for the pages; if none, your site's language, "
            "else the eCRF's default."
        ),
    )
    muted_kinds = ArrayField(
        # Visit kinds only: safety alerts cannot be muted.
        models.CharField(max_length=20, choices=VISIT_KIND_CHOICES),
        default=list,
        blank=True,
        verbose_name=_("muted kinds"),
    )

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")

    def __str__(self) -> str:
        return f"{self.user} · {self.language or settings.LANGUAGE_CODE}"


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The secret token of a user's .ics feed; regenerating it revokes the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(_("created"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"
