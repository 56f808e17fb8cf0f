"""The due-visit dashboard, notifications and the calendar feed: scoped to the user's sites,
constant query counts, a secret-token .ics feed (404 with a wrong token)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.urls import reverse

from reminders import services
from reminders.models import CalendarFeed, Notification, ReminderPreference
from tests.factories import transplanted_participant
from visits import services as visit_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def transplanted(time_machine, coordinator_a, site_a, trial):
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    return transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31))


def _send_due() -> None:
    for pk in services.claim_due(dispatch=lambda pk: None):
        services.send_reminder(pk)


def _make(n: int, coordinator, site, trial, start: int) -> None:
    for i in range(n):
        transplanted_participant(
            coordinator, site, trial, on=date(2025, 8, 1 + start + i), name=f"P{start + i}"
        )


def test_the_dashboard_sorts_by_urgency_in_constant_queries(
    time_machine, client_for, coordinator_a, site_a, trial, django_assert_num_queries
):
    time_machine.move_to(datetime(2026, 3, 10, 6, 0, tzinfo=UTC), tick=False)
    # Transplanted 1 and 2 Aug 2025: M06 (targets 1 and 2 Feb) windows closed 1 and 2 March.
    _make(2, coordinator_a, site_a, trial, start=0)
    client = client_for(coordinator_a)
    url = reverse("site-reminders", args=["ISF"])
    # Session, user, site, roles, due visits, recently missed, nav sites, unread count.
    with django_assert_num_queries(8) as small:
        response = client.get(url)
    board = response.context["board"]
    assert [row.days for row in board.overdue] == [9, 8]  # longest overdue first
    _make(4, coordinator_a, site_a, trial, start=10)  # windows of M06 open (targets 11-14 Feb)
    _make(2, coordinator_a, site_a, trial, start=28)  # M06 windows open 1 and 2 March … still open
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=date(2025, 10, 14), name="Soon"
    )  # M06 target 14 April: its window opens on 17 March, within 7 days
    missed = transplanted_participant(
        coordinator_a, site_a, trial, on=date(2025, 8, 20), name="Missed"
    )
    visit_services.mark_visit_missed(
        actor=coordinator_a, visit=missed.visits.get(code="M06"), reason="Hospitalised"
    )
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    board = response.context["board"]
    assert len(board.overdue) == 2
    assert [row.days for row in board.window_open] == sorted(row.days for row in board.window_open)
    assert len(board.window_open) == 6
    assert [row.visit.participant for row in board.this_week] == [participant]
    assert [v.participant for v in board.recently_missed] == [missed]
    assert participant.study_id in response.text
    assert "Soon" not in response.text  # study IDs only


def test_the_dashboard_and_panel_are_scoped_to_the_users_sites(
    transplanted, client_for, coordinator_b
):
    client = client_for(coordinator_b)
    assert client.get(reverse("site-reminders", args=["ISF"])).status_code == 404
    assert client.get(reverse("site-reminders", args=["THR"])).status_code == 200
    home = client.get(reverse("home")).text
    assert reverse("site-reminders", args=["THR"]) in home
    assert reverse("site-reminders", args=["ISF"]) not in home


def test_notifications_show_in_the_navbar_and_are_marked_read(
    transplanted, time_machine, client_for, coordinator_a, coordinator_b
):
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    _send_due()
    notification = Notification.objects.get()
    client = client_for(coordinator_a)
    page = client.get(reverse("notifications"))
    assert notification.subject in page.text
    assert 'title="Unread notifications">1</span>' in page.text

    other = client_for(coordinator_b)
    theirs = other.get(reverse("notifications"))
    assert notification.subject not in theirs.text and "Unread notifications" not in theirs.text
    read = reverse("notification-read", args=[notification.pk])
    assert other.post(read).status_code == 404

    client = client_for(coordinator_a)
    opened = client.post(read, {"open": "1"})
    assert opened.status_code == 302 and opened.url == notification.url
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "Unread notifications" not in client.get(reverse("notifications")).text


def test_notifications_of_a_site_left_are_hidden(
    transplanted, time_machine, client_for, coordinator_a
):
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    _send_due()
    coordinator_a.memberships.update(is_active=False)
    client = client_for(coordinator_a)
    page = client.get(reverse("notifications"))
    assert "No notifications." in page.text
    assert client.post(reverse("notifications")).status_code == 302  # mark all: none touched
    assert Notification.objects.get().read_at is None


def test_a_user_mutes_a_kind_on_the_preferences_page(transplanted, client_for, coordinator_a):
    client = client_for(coordinator_a)
    url = reverse("reminder-preferences")
    assert client.get(url).status_code == 200
    response = client.post(url, {"language": "en", "muted_kinds": ["before_window", "target_date"]})
    assert response.status_code == 302
    preference = ReminderPreference.objects.get(user=coordinator_a)
    assert (preference.language, preference.muted_kinds) == ("en", ["before_window", "target_date"])
    assert client.post(url, {"muted_kinds": ["nonsense"]}).status_code == 400


def test_the_calendar_feed_lists_the_users_visit_windows_by_secret_token(
    transplanted, client_for, coordinator_a, coordinator_b
):
    client = client_for(coordinator_a)
    page = client.get(reverse("calendar"))
    token = CalendarFeed.objects.get(user=coordinator_a).token
    feed_url = reverse("calendar-feed", args=[token])
    assert feed_url in page.text

    client.logout()  # calendar applications have no session: the token is the credential
    feed = client.get(feed_url)
    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    body = feed.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 4  # M06 … M24
    assert "DTSTART;VALUE=DATE:20260131\r\nDTEND;VALUE=DATE:20260329\r\n" in body
    assert f"SUMMARY:M06 window · {transplanted.study_id} (ISF)" in body
    assert "Test Person" not in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))

    assert client.get(reverse("calendar-feed", args=["wrong-token"])).status_code == 404
    assert client.get(reverse("calendar-feed", args=[token[:-1] + "x"])).status_code == 404

    # Another site's coordinator sees none of ISF's visits.
    client_for(coordinator_b).get(reverse("calendar"))
    other = CalendarFeed.objects.get(user=coordinator_b).token
    assert "BEGIN:VEVENT" not in client.get(reverse("calendar-feed", args=[other])).text


def test_regenerating_the_token_revokes_the_old_feed_url(transplanted, client_for, coordinator_a):
    client = client_for(coordinator_a)
    client.get(reverse("calendar"))
    old = CalendarFeed.objects.get(user=coordinator_a).token
    assert client.post(reverse("calendar")).status_code == 302
    new = CalendarFeed.objects.get(user=coordinator_a).token
    assert new != old
    assert client.get(reverse("calendar-feed", args=[old])).status_code == 404
    assert client.get(reverse("calendar-feed", args=[new])).status_code == 200
    coordinator_a.is_active = False
    coordinator_a.save()
    assert client.get(reverse("calendar-feed", args=[new])).status_code == 404


def test_no_email_goes_out_when_the_pages_are_used(transplanted, client_for, coordinator_a):
    client_for(coordinator_a).get(reverse("site-reminders", args=["ISF"]))
    assert mail.outbox == []
