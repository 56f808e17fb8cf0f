"""`make run`: the demo's transplanted participants have reminders already due, so the worker's
first scan sends them (console e-mails, in-app notifications); the withdrawn one gets none."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from reminders import services
from reminders.models import Notification, Reminder

pytestmark = pytest.mark.django_db


def test_demo_reminders_are_due_and_sent_once():
    call_command("setup_demo", force=True)
    call_command("setup_demo", force=True)  # idempotent: no duplicate rows
    claimed = services.claim_due(dispatch=lambda pk: None)
    assert claimed
    assert {services.send_reminder(pk) for pk in claimed} == {"sent"}
    kinds = set(Reminder.objects.filter(sent_at__isnull=False).values_list("kind", flat=True))
    assert "overdue" in kinds  # Demo Overdue Hosseini's M06, escalated to the investigator
    recipients = {address for email in mail.outbox for address in email.to}
    assert {"coordinator@example.org", "investigator@example.org"} <= recipients
    assert Notification.objects.filter(user__username="coordinator").exists()
    withdrawn = Reminder.objects.filter(
        visit__participant__identity__full_name="Demo Withdrawn Jafari"
    )
    assert not withdrawn.filter(sent_at__isnull=False).exists()
    assert not withdrawn.filter(cancelled_at__isnull=True).exists()
    call_command("setup_demo", force=True)
    assert services.claim_due(dispatch=lambda pk: None) == []
