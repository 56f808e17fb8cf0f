"""E-mails, reminders, safety alerts and the .ics feed reach each user in their language: the
language of reminders they chose, else their interface language (accounts), else the site's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from accounts.preferences import save_preference
from reminders import services
from reminders.alerts import raise_alert
from reminders.models import CalendarFeed, Notification, Reminder
from tests.factories import member, transplanted_participant
from trials import i18n
from trials.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def transplanted(time_machine, coordinator_a, site_a, trial):
    """Transplanted on 31 August 2025: M06's window opens on 31 January 2026."""
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    return transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31))


def send_before_window_email(time_machine) -> str:
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    email = Reminder.objects.get(kind="before_window", visit__code="M06", channel="email")
    assert services.send_reminder(email.pk) == "sent"
    return email.recipient.email


def test_preferred_language_is_the_users_interface_language_else_the_sites(coordinator_a, settings):
    assert i18n.preferred_language(coordinator_a) == settings.LANGUAGE_CODE == "en"
    save_preference(coordinator_a, language="fa")
    assert i18n.preferred_language(coordinator_a) == "fa"
    assert i18n.language_for(coordinator_a, "") == "fa"
    assert i18n.language_for(coordinator_a, "en") == "en"  # the language of reminders wins
    assert i18n.language_for(coordinator_a, "xx") == "fa"
    assert i18n.preferred_language(None) == "en"
    settings.LANGUAGE_CODE = "fa"
    save_preference(coordinator_a, language="")
    assert i18n.preferred_language(coordinator_a) == "fa"  # the site's default


def test_a_visit_reminder_is_written_in_the_recipients_interface_language(
    transplanted, time_machine, coordinator_a
):
    save_preference(coordinator_a, language="fa")
    send_before_window_email(time_machine)
    message = mail.outbox[-1]
    assert message.to == [coordinator_a.email]
    assert "بازه ویزیت به‌زودی باز می‌شود" in message.subject  # "Visit window opens soon"
    assert "بازه ویزیت M06 در 2026-01-31 باز می‌شود." in message.body
    assert "opens on" not in message.body
    html = message.alternatives[0][0]
    assert 'lang="fa"' in html or "بازه ویزیت M06" in html


def test_the_language_of_reminders_wins_over_the_interface_language(
    transplanted, time_machine, coordinator_a
):
    save_preference(coordinator_a, language="fa")
    services.save_preferences(user=coordinator_a, language="en", muted_kinds=[])
    send_before_window_email(time_machine)
    assert "Visit window opens soon" in mail.outbox[-1].subject
    assert "The window of visit M06 opens on 2026-01-31." in mail.outbox[-1].body


def test_without_any_choice_a_reminder_is_in_the_sites_language(
    transplanted, time_machine, coordinator_a
):
    send_before_window_email(time_machine)
    assert "Visit window opens soon" in mail.outbox[-1].subject


def test_the_in_app_notification_is_in_the_recipients_language(
    transplanted, time_machine, coordinator_a
):
    save_preference(coordinator_a, language="fa")
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    in_app = Reminder.objects.get(kind="before_window", visit__code="M06", channel="in_app")
    assert services.send_reminder(in_app.pk) == "sent"
    notification = Notification.objects.get(user=coordinator_a)
    assert "بازه ویزیت M06" in notification.body and "بازه ویزیت" in notification.subject


def test_a_safety_alert_reaches_each_investigator_in_their_own_language(
    transplanted, time_machine, site_a, django_capture_on_commit_callbacks
):
    persian_reader = member(Role.INVESTIGATOR, site_a, "inv_fa")
    english_reader = member(Role.INVESTIGATOR, site_a, "inv_en")
    save_preference(persian_reader, language="fa")
    time_machine.move_to(datetime(2025, 12, 1, 8, 0, tzinfo=UTC), tick=False)
    visit = transplanted.visits.get(code="M06")
    payload = {
        "study_id": transplanted.study_id,
        "term": "Meningism",
        "grade": "3",
        "criteria": "Hospitalisation",
        "onset": "2025-11-30",
        "reporter": "coord_a",
        "path": f"/sites/ISF/participants/{transplanted.pk}/adverse-events/1/",
    }
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        raise_alert(
            topic="ae:1",
            kind="sae",
            visit=visit,
            payload=payload,
            escalate_after=timedelta(hours=24),
            dispatch=services.send_reminder,
        )
    by_recipient = {message.to[0]: message for message in mail.outbox}
    persian = by_recipient[persian_reader.email]
    english = by_recipient[english_reader.email]
    assert "عارضه جانبی جدی" in persian.subject
    assert f"یک عارضه جانبی جدی برای شرکت‌کننده {transplanted.study_id}" in persian.body
    assert "Serious adverse event" in english.subject
    assert "A serious adverse event was reported" in english.body


def test_the_calendar_feed_is_in_its_owners_language(transplanted, client_for, coordinator_a):
    client = client_for(coordinator_a)
    client.get(reverse("calendar"))
    token = CalendarFeed.objects.get(user=coordinator_a).token
    client.logout()  # a calendar application: no session, its own Accept-Language
    feed_url = reverse("calendar-feed", args=[token])
    english = client.get(feed_url, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert f"SUMMARY:M06 window · {transplanted.study_id} (ISF)" in english
    save_preference(coordinator_a, language="fa")
    persian = client.get(feed_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"SUMMARY:بازه M06 · {transplanted.study_id} (ISF)" in persian
    assert "DESCRIPTION:تاریخ هدف: 2026-02-28" in persian


def test_the_password_reset_email_is_in_the_accounts_language(client, coordinator_a):
    """Asked from an English page, for an account whose saved language is Persian: Persian;
    without a saved language, the asking page's language."""
    client.post(
        reverse("password_reset"), {"email": coordinator_a.email}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "You asked to reset your password" in mail.outbox[-1].body
    save_preference(coordinator_a, language="fa")
    client.post(
        reverse("password_reset"), {"email": coordinator_a.email}, HTTP_ACCEPT_LANGUAGE="en"
    )
    message = mail.outbox[-1]
    assert message.to == [coordinator_a.email]
    assert message.subject == "ALS eCRF: بازنشانی گذرواژه"
    assert "شما درخواست بازنشانی گذرواژه خود در ALS eCRF را داده‌اید." in message.body
