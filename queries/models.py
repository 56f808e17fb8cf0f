"""Queries on trial data: a question about one field or a whole record (any type in
trials.records), its thread of messages, and the queries the edit checks raise."""

from __future__ import annotations

from datetime import datetime

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from participants.models import Participant
from trials.models import Role, Site
from visits.models import Visit


class QueryStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


UNRESOLVED = (QueryStatus.OPEN, QueryStatus.ANSWERED)


@pghistory.track()
class Query(models.Model):
    # The record, generically (trials.records): its type key, its primary key and,
    # optionally, one of its data fields. Site, participant and visit are copied from the
    # record so lists scope and count without joining each record type's table.
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="queries", verbose_name=_("participant")
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    record_type = models.CharField(_("record type"), max_length=40)
    record_pk = models.BigIntegerField(_("record"))
    field_name = models.CharField(_("field"), max_length=80, blank=True)
    # Raised by an edit check: its key and the finding's key ("" for a person's query).
    check_key = models.CharField(_("edit check"), max_length=40, blank=True)
    finding_key = models.CharField(max_length=80, blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN
    )
    assigned_role = models.CharField(
        _("assigned to"), max_length=20, choices=Role.choices, default=Role.COORDINATOR
    )
    opened_by = models.ForeignKey(  # None: raised by an edit check
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Closed by its check because the data no longer trigger it: the check may reopen it;
    # a query a person closed (e.g. "confirmed against the source") stays closed.
    closed_by_check = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("query")
        verbose_name_plural = _("queries")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_key", "record_type", "record_pk", "finding_key"],
                condition=~Q(check_key=""),
                name="query_once_per_finding",
            ),
            models.CheckConstraint(
                condition=Q(status=QueryStatus.CLOSED, closed_at__isnull=False)
                | (~Q(status=QueryStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="query_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["record_type", "record_pk", "status"]),
            models.Index(fields=["participant", "status"]),
            models.Index(fields=["site", "status", "opened_at"]),
            models.Index(fields=["check_key", "participant"]),
        ]

    def __str__(self) -> str:
        return f"query {self.pk} · {self.record_type} {self.record_pk} {self.field_name}".strip()

    @property
    def is_closed(self) -> bool:
        return self.status == QueryStatus.CLOSED

    def age_days(self, now: datetime) -> int:
        """Whole days from opening to closing, or to `now` while unresolved."""
        return max(((self.closed_at or now) - self.opened_at).days, 0)


class MessageKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    MESSAGE = "message", _("Message")
    ANSWER = "answer", _("Answer")
    CORRECTION = "correction", _("Value corrected")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


@pghistory.track()
class QueryMessage(models.Model):
    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(  # None: written by an edit check
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    text = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("written"))

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["query", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} on query {self.query_id}"
