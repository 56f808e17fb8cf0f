"""Reminders follow the visits: due at 08:00 site time on days the protocol defines, moved when
the schedule moves, kept once sent, cancelled (never deleted) when they no longer apply, and
checked again when they are sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from participants import services as participant_services
from participants.models import Participant
from reminders import channels, services
from reminders.models import Notification, Reminder
from tests.factories import TX_DATA, member, transplanted_participant
from trials.models import Role
from visits import services as visit_services
from visits.models import Visit
from visits.transplantation import correct_transplantation

pytestmark = pytest.mark.django_db
TEHRAN = ZoneInfo("Asia/Tehran")


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=TEHRAN)


def scan_and_send() -> list[str]:
    """One beat scan, then the send task for every claimed id (as the worker would)."""
    claimed = services.claim_due(dispatch=lambda pk: None)
    return [services.send_reminder(pk) for pk in claimed]


@pytest.fixture
def aug31(time_machine, coordinator_a, site_a, trial):
    """Transplanted on 31 August 2025 (recorded two days later): M06 target 28 Feb 2026."""
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    return transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31))


def _m06(participant) -> Visit:
    return participant.visits.get(code="M06")


def test_reminders_come_from_the_protocol_offsets_in_site_time(aug31, coordinator_a):
    m06 = _m06(aug31)
    assert (m06.target_date, m06.window_start, m06.window_end) == (
        date(2026, 2, 28),
        date(2026, 1, 31),
        date(2026, 3, 28),
    )
    due = {r.kind: r.due_at for r in m06.reminders.filter(channel="email")}
    assert due == {
        "before_window": _at(date(2026, 1, 17)),  # 14 days before the window opens
        "window_opens": _at(date(2026, 1, 31)),
        "target_date": _at(date(2026, 2, 28)),
        "overdue": _at(date(2026, 3, 29)),  # the day after the window closes
    }
    assert due["window_opens"] == datetime(2026, 1, 31, 4, 30, tzinfo=UTC)
    # One row per visit x kind x recipient x channel; BL and TX (done) have none.
    assert Reminder.objects.count() == 4 * 4 * 2
    assert set(Reminder.objects.values_list("recipient", flat=True)) == {coordinator_a.pk}
    assert not Reminder.objects.filter(visit__code__in=["SCR", "BL", "TX"]).exists()


def test_the_m06_window_opens_reminder_is_sent_on_31_january_at_0800_tehran(
    aug31, time_machine, coordinator_a
):
    time_machine.move_to(datetime(2026, 1, 17, 4, 30, tzinfo=UTC), tick=False)
    assert scan_and_send() == ["sent", "sent"]  # before the window: e-mail + in-app
    mail.outbox.clear()

    time_machine.move_to(datetime(2026, 1, 31, 4, 29, 59, tzinfo=UTC), tick=False)  # 07:59:59
    assert scan_and_send() == []
    time_machine.move_to(datetime(2026, 1, 31, 4, 30, tzinfo=UTC), tick=False)  # 08:00 Tehran
    assert scan_and_send() == ["sent", "sent"]
    assert scan_and_send() == []

    [email] = mail.outbox
    assert email.to == [coordinator_a.email]
    assert "M06" in email.subject and aug31.study_id in email.subject
    assert "The window of visit M06 is open from 2026-01-31 to 2026-03-28." in email.body
    assert "2026-01-31 \u2013 2026-03-28" in email.body and "2026-02-28" in email.body
    assert f"http://127.0.0.1:8000/sites/ISF/participants/{aug31.pk}/visits/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and aug31.study_id in html
    for text in (email.subject, email.body, html):  # the study ID only: no name, no national ID
        assert "Test Person" not in text and "1234567890" not in text
    notification = Notification.objects.get(reminder__kind="window_opens")
    assert notification.user == coordinator_a and notification.url.endswith(
        f"/visits/{_m06(aug31).pk}/"
    )
    sent = Reminder.objects.get(visit__code="M06", kind="window_opens", channel="email")
    assert sent.sent_at == datetime(2026, 1, 31, 4, 30, tzinfo=UTC)


def test_correcting_the_date_moves_pending_reminders_and_keeps_sent_ones(
    aug31, time_machine, coordinator_a, site_a
):
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    assert scan_and_send() == ["sent", "sent"]
    sent_before = {
        r.pk: (r.due_at, r.sent_at) for r in Reminder.objects.filter(sent_at__isnull=False)
    }

    correct_transplantation(
        actor=coordinator_a,
        transplantation=aug31.transplantation,
        performed_at=datetime(2025, 8, 25, 9, 0, tzinfo=site_a.zone),
        data=TX_DATA,
        reason="Date copied wrongly",
    )
    m06 = _m06(aug31)
    assert m06.window_start == date(2026, 1, 28)
    after = {r.pk: (r.due_at, r.sent_at) for r in Reminder.objects.filter(sent_at__isnull=False)}
    assert after == sent_before  # sent: untouched, not re-created
    pending = {r.kind: r.due_at for r in m06.reminders.filter(channel="email", sent_at=None)}
    assert pending == {
        "window_opens": _at(date(2026, 1, 28)),
        "target_date": _at(date(2026, 2, 25)),
        "overdue": _at(date(2026, 3, 26)),
    }
    m12 = aug31.visits.get(code="M12")
    assert m12.reminders.get(kind="target_date", channel="email").due_at == _at(date(2026, 8, 25))

    time_machine.move_to(datetime(2026, 1, 28, 5, 0, tzinfo=UTC), tick=False)
    assert scan_and_send() == ["sent", "sent"]
    # The visit takes place: its remaining reminders are cancelled, not deleted.
    visit_services.record_visit_date(actor=coordinator_a, visit=m06, actual_date=date(2026, 1, 28))
    rows = m06.reminders.all()
    assert rows.count() == 8
    assert rows.filter(sent_at__isnull=False).count() == 4
    assert rows.filter(cancelled_at__isnull=False).count() == 4
    assert m12.reminders.filter(cancelled_at__isnull=True).count() == 8
    time_machine.move_to(datetime(2026, 4, 1, 5, 0, tzinfo=UTC), tick=False)
    assert scan_and_send() == []


def test_a_participant_who_exits_gets_nothing(aug31, time_machine, coordinator_a):
    time_machine.move_to(datetime(2026, 1, 10, 5, 0, tzinfo=UTC), tick=False)
    participant_services.change_status(
        actor=coordinator_a,
        participant=aug31,
        to_status="withdrawn",
        effective_date=date(2026, 1, 10),
        reason="Moved abroad",
        details={"withdrawn_by": "participant", "follow_up_allowed": False},
    )
    assert Reminder.objects.count() == 32
    assert not Reminder.objects.filter(cancelled_at__isnull=True).exists()
    for moment in (datetime(2026, 1, 31, 5, 0, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC)):
        time_machine.move_to(moment, tick=False)
        assert scan_and_send() == []
    assert mail.outbox == []


def test_later_edits_win_at_send_time(aug31, time_machine):
    """A claimed reminder whose visit was closed meanwhile (even behind the services' back)."""
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    claimed = services.claim_due(dispatch=lambda pk: None)
    assert len(claimed) == 2
    Visit.objects.filter(pk=_m06(aug31).pk).update(status="missed", missed_reason="Hospitalised")
    assert [services.send_reminder(pk) for pk in claimed] == ["cancelled", "cancelled"]
    assert mail.outbox == []
    reminder = Reminder.objects.get(pk=claimed[0])
    assert reminder.cancelled_at is not None and "no longer expected" in reminder.last_error


def test_a_muted_kind_is_not_sent(aug31, time_machine, coordinator_a):
    services.save_preferences(user=coordinator_a, language="", muted_kinds=["window_opens"])
    time_machine.move_to(datetime(2026, 1, 31, 5, 0, tzinfo=UTC), tick=False)
    # before_window (17 Jan) is past too: the scan was late, the reminder is still sent.
    assert sorted(scan_and_send()) == ["cancelled", "cancelled", "sent", "sent"]
    assert [e.subject for e in mail.outbox] == [mail.outbox[0].subject]
    assert "Visit window opens soon" in mail.outbox[0].subject
    muted = Reminder.objects.filter(kind="window_opens", visit__code="M06")
    assert all(r.last_error == "muted by the recipient" for r in muted)
    time_machine.move_to(datetime(2026, 2, 28, 5, 0, tzinfo=UTC), tick=False)
    assert scan_and_send() == ["sent", "sent"]  # other kinds still come


def test_overdue_escalates_to_the_sites_investigators(aug31, time_machine, site_a):
    investigator = member(Role.INVESTIGATOR, site_a, "inv_a")
    services.sync_participant(aug31)
    assert set(Reminder.objects.filter(recipient=investigator).values_list("kind", flat=True)) == {
        "overdue"
    }
    time_machine.move_to(datetime(2026, 3, 28, 5, 0, tzinfo=UTC), tick=False)
    assert scan_and_send().count("sent") == 6  # before, opens, target: coordinator only
    mail.outbox.clear()
    time_machine.move_to(datetime(2026, 3, 29, 5, 0, tzinfo=UTC), tick=False)  # M06 never done
    results = scan_and_send()
    assert results == ["sent"] * 4  # coordinator and investigator, e-mail and in-app
    assert {tuple(e.to) for e in mail.outbox} == {("coord_a@example.org",), ("inv_a@example.org",)}
    assert all("overdue" in e.body for e in mail.outbox)


def test_a_late_schedule_announces_only_the_current_state(
    time_machine, coordinator_a, site_a, trial
):
    """Transplantation entered 7 months late: M06 gets its overdue reminder, not four at once."""
    time_machine.move_to(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), tick=False)
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 1))
    kinds = set(_m06(participant).reminders.values_list("kind", flat=True))
    assert kinds == {"overdue"}
    assert scan_and_send() == ["sent", "sent"]


def test_a_revoked_team_member_is_not_reminded(aug31, time_machine, coordinator_a):
    coordinator_a.memberships.update(is_active=False)
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    assert scan_and_send() == ["cancelled", "cancelled"]
    assert mail.outbox == []


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server down")


def test_a_failed_send_is_retried_by_later_scans_then_given_up(aug31, time_machine, settings):
    settings.EMAIL_BACKEND = "tests.reminders.test_reminders.FailingBackend"
    moment = datetime(2026, 1, 17, 5, 0, tzinfo=UTC)
    time_machine.move_to(moment, tick=False)
    assert sorted(scan_and_send()) == ["failed", "sent"]  # in-app works, e-mail fails
    email = Reminder.objects.get(kind="before_window", visit__code="M06", channel="email")
    assert (email.attempts, email.claimed_at, email.sent_at) == (1, None, None)
    assert "SMTP server down" in email.last_error
    for attempt in range(2, services.MAX_ATTEMPTS + 1):
        time_machine.move_to(moment + timedelta(minutes=2 * attempt), tick=False)
        assert scan_and_send() == ["failed"]
    email.refresh_from_db()
    assert email.attempts == services.MAX_ATTEMPTS and email.cancelled_at is not None
    assert scan_and_send() == []


def test_the_message_is_rendered_in_the_recipients_language(aug31, coordinator_a):
    reminder = Reminder.objects.select_related("visit__participant__site", "recipient").get(
        visit__code="M06", kind="target_date", channel="email"
    )
    english = channels.render(reminder, "en")
    assert english.subject.startswith("[ALS eCRF]") and "Visit target date" in english.subject
    # No Persian catalogue exists yet: rendering under it still works (falls back to English).
    assert channels.render(reminder, "fa").subject


def test_sending_twice_sends_once(aug31, time_machine):
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    email = Reminder.objects.get(kind="before_window", visit__code="M06", channel="email")
    assert services.send_reminder(email.pk) == "sent"
    assert services.send_reminder(email.pk) == "already_sent"
    assert len(mail.outbox) == 1
    assert services.send_reminder(10**9) == "missing"


def test_a_reminder_moved_later_after_its_claim_waits(aug31, time_machine, coordinator_a, site_a):
    time_machine.move_to(datetime(2026, 1, 17, 5, 0, tzinfo=UTC), tick=False)
    claimed = services.claim_due(dispatch=lambda pk: None)
    correct_transplantation(  # 10 days later: before_window now due on 27 January
        actor=coordinator_a,
        transplantation=aug31.transplantation,
        performed_at=datetime(2025, 9, 1, 9, 0, tzinfo=site_a.zone),
        data=TX_DATA,
        reason="Wrong day",
    )
    assert [services.send_reminder(pk) for pk in claimed] == ["not_due", "not_due"]
    assert mail.outbox == []


def test_a_deferred_sync_leaves_the_same_pending_reminders_in_one_sync(
    time_machine, coordinator_a, site_a, trial, monkeypatch
):
    """seed_demo defers the syncs of a participant's changes to one at the end
    (services.deferred_sync): the pending reminders are those syncing after every change
    leaves; only the rows an intermediate sync creates and a later one cancels are gone."""

    def story(name):
        time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
        participant = transplanted_participant(
            coordinator_a, site_a, trial, on=date(2025, 8, 31), name=name
        )
        time_machine.move_to(datetime(2026, 3, 1, 6, 0, tzinfo=UTC), tick=False)
        m06 = _m06(participant)
        m06.participant = participant
        visit_services.record_visit_date(
            actor=coordinator_a, visit=m06, actual_date=m06.target_date
        )
        return participant

    def pending(participant):
        rows = Reminder.objects.filter(
            visit__participant=participant, cancelled_at__isnull=True, sent_at__isnull=True
        )
        return sorted(rows.values_list("visit__code", "kind", "recipient", "channel", "due_at"))

    immediate = story("Immediate Person")
    syncs = []
    real_sync = services._sync
    monkeypatch.setattr(services, "_sync", lambda p, **kw: syncs.append(p.pk) or real_sync(p, **kw))
    with transaction.atomic(), services.deferred_sync():
        deferred = story("Deferred Person")
        assert not Reminder.objects.filter(visit__participant=deferred).exists()
        with services.deferred_sync():  # nested: the outer block syncs
            services.sync_participant(deferred)
    assert syncs == [deferred.pk]  # once, for all its changes (baseline, TX, M06 date)
    assert pending(deferred) == pending(immediate)
    assert {code for code, *_rest in pending(deferred)} == {"M12", "M18", "M24"}
    assert not Reminder.objects.filter(
        visit__participant=deferred, cancelled_at__isnull=False
    ).exists()
    assert Reminder.objects.filter(
        visit__participant=immediate, cancelled_at__isnull=False
    ).exists()


def test_a_sync_moves_or_cancels_any_number_of_reminders_in_one_statement(
    aug31, coordinator_a, site_a, django_assert_num_queries
):
    assert Reminder.objects.filter(sent_at=None, cancelled_at=None).count() == 32
    transplantation = aug31.transplantation
    # The correction moves all 32: lock, visits, recorded_by, transplantation, status change,
    # participant, TX, replanned visits; the sync: participant, team, visits, reminders, moved;
    # the data locks asked before the transplantation, the participant and the two visit writes
    with django_assert_num_queries(2 + 8 + 5 + 4):
        correct_transplantation(
            actor=coordinator_a,
            transplantation=transplantation,
            performed_at=datetime(2025, 8, 25, 9, 0, tzinfo=site_a.zone),
            data=TX_DATA,
            reason="Date copied wrongly",
        )
    participant = Participant.objects.select_related("site").get(pk=aug31.pk)  # as a page
    # The withdrawal cancels all 32: lock, status change, participant, end of study, visits,
    # visits closed; the sync: participant, visits, reminders (by visit id), cancelled; the
    # data locks asked before the participant's save
    with django_assert_num_queries(2 + 6 + 4 + 1):
        participant_services.change_status(
            actor=coordinator_a,
            participant=participant,
            to_status="withdrawn",
            effective_date=date(2025, 9, 2),
            reason="Moved abroad",
            details={"withdrawn_by": "participant", "follow_up_allowed": False},
        )
    assert Reminder.objects.filter(cancelled_at=None).count() == 0
