"""Serious adverse event alerts: the site's investigators and the sponsor's safety contact hear of
an SAE once, by e-mail and in-app, through the reminders' claim-and-send rows; an SAE no
investigator acknowledges within 24 hours (server clock) escalates, once, to the data managers
and the sponsor contact; the visit schedule's sync never touches these rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction

from participants import services as participant_services
from reminders import services
from reminders.alerts import raise_alert, resolve_alert
from reminders.models import Notification, Reminder, ReminderPreference
from tests.factories import member, transplanted_participant
from trials.models import Role
from visits import services as visit_services

pytestmark = pytest.mark.django_db
SPONSOR = "safety@sponsor.example.org"
# Before any of the participant's visit reminders is due, so a scan finds only alert rows.
RAISED = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def payload(participant, term: str = "Meningism") -> dict[str, str]:
    return {
        "study_id": participant.study_id,
        "term": term,
        "grade": "3",
        "criteria": "Hospitalisation",
        "onset": "2026-03-08",
        "reporter": "coord_a",
        "path": f"/sites/ISF/participants/{participant.pk}/adverse-events/1/",
    }


@pytest.fixture
def team(site_a, coordinator_a):
    """Two investigators, one data manager and a monitor at ISF besides the coordinator."""
    return {
        "investigators": [
            member(Role.INVESTIGATOR, site_a, "inv_1"),
            member(Role.INVESTIGATOR, site_a, "inv_2"),
        ],
        "data_manager": member(Role.DATA_MANAGER, site_a, "dm_1"),
        "monitor": member(Role.MONITOR, site_a, "mon_1"),
    }


@pytest.fixture
def sae_visit(time_machine, team, coordinator_a, site_a, trial):
    """M06 of a participant transplanted on 31 August 2025; the trial has a sponsor contact."""
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    trial.sponsor_safety_email = SPONSOR
    trial.save(update_fields=["sponsor_safety_email"])  # what the Trial admin saves
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31))
    time_machine.move_to(RAISED, tick=False)
    return participant.visits.get(code="M06")


def raise_sae(visit, topic="ae:1", *, dispatch, escalate=True, kind="sae"):
    with transaction.atomic():
        return raise_alert(
            topic=topic,
            kind=kind,
            visit=visit,
            payload=payload(visit.participant),
            escalate_after=DAY if escalate else None,
            dispatch=dispatch,
        )


def scan_and_send() -> list[str]:
    claimed = services.claim_due(dispatch=lambda pk: None)
    return [services.send_reminder(pk) for pk in claimed]


def send_now(pk: int) -> None:
    services.send_reminder(pk)


def test_an_sae_reaches_each_investigator_and_the_sponsor_once(
    sae_visit, team, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://ecrf.example.org/"
    with django_capture_on_commit_callbacks(execute=True):
        created = raise_sae(sae_visit, dispatch=send_now)
    # 2 investigators x (e-mail + in-app) + sponsor; escalation: data manager x 2 + sponsor.
    assert len(created) == 5 + 3
    investigators = {user.email for user in team["investigators"]}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([*investigators, SPONSOR])
    assert {n.user for n in Notification.objects.all()} == set(team["investigators"])
    participant = sae_visit.participant
    link = f"https://ecrf.example.org/sites/ISF/participants/{participant.pk}/adverse-events/1/"
    message = mail.outbox[0]
    assert participant.study_id in message.subject and "Meningism" in message.subject
    assert link in message.body and link in message.alternatives[0][0]
    assert "Hospitalisation" in message.body and "Grade (CTCAE): 3" in message.body
    assert "Test Person" not in message.body  # no name leaves the system
    notification = Notification.objects.first()
    assert notification.url == f"/sites/ISF/participants/{participant.pk}/adverse-events/1/"

    # A retried task or a double save raises the same topic again: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert raise_sae(sae_visit, dispatch=send_now) == []
    assert Reminder.objects.filter(topic="ae:1").count() == 8
    assert len(mail.outbox) == 3 and Notification.objects.count() == 2


def test_no_sponsor_contact_configured_sends_to_the_investigators_only(
    sae_visit, team, trial, django_capture_on_commit_callbacks
):
    trial.sponsor_safety_email = ""
    trial.save(update_fields=["sponsor_safety_email"])
    with django_capture_on_commit_callbacks(execute=True):
        raise_sae(sae_visit, dispatch=send_now, escalate=False)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in team["investigators"])


def test_the_send_task_run_twice_sends_one_email_and_one_notification(sae_visit, team):
    created = raise_sae(sae_visit, dispatch=lambda pk: None, escalate=False)
    inv = team["investigators"][0]
    email = Reminder.objects.get(pk__in=created, recipient=inv, channel="email")
    in_app = Reminder.objects.get(pk__in=created, recipient=inv, channel="in_app")
    assert services.send_reminder(email.pk) == "sent"
    assert services.send_reminder(email.pk) == "already_sent"
    assert services.send_reminder(in_app.pk) == "sent"
    assert services.send_reminder(in_app.pk) == "already_sent"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [inv.email]
    assert Notification.objects.filter(user=inv).count() == 1


def test_a_worker_killed_between_claim_and_send_sends_late_and_once(sae_visit, time_machine):
    # The dispatch after commit is lost (the worker died holding the task): rows stay claimed.
    created = raise_sae(sae_visit, dispatch=lambda pk: None, escalate=False)
    claimed = Reminder.objects.filter(pk__in=created, claimed_at=RAISED, sent_at=None)
    assert claimed.count() == 5
    assert scan_and_send() == []  # claims are fresh: the scan leaves them to their task
    time_machine.move_to(RAISED + timedelta(minutes=14), tick=False)
    assert scan_and_send() == []
    assert mail.outbox == []
    time_machine.move_to(RAISED + timedelta(minutes=16), tick=False)
    assert scan_and_send() == ["sent"] * 5
    assert len(mail.outbox) == 3 and Notification.objects.count() == 2
    time_machine.move_to(RAISED + timedelta(hours=1), tick=False)
    assert scan_and_send() == []
    assert len(mail.outbox) == 3


def test_an_unacknowledged_sae_escalates_once_after_24_hours(
    sae_visit, team, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raise_sae(sae_visit, dispatch=send_now)
    mail.outbox.clear()
    time_machine.move_to(RAISED + DAY - timedelta(seconds=1), tick=False)
    assert scan_and_send() == []
    time_machine.move_to(RAISED + DAY, tick=False)
    assert scan_and_send() == ["sent"] * 3
    dm = team["data_manager"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([dm.email, SPONSOR])
    assert "has not been acknowledged" in mail.outbox[0].body
    assert Notification.objects.filter(user=dm).count() == 1
    time_machine.move_to(RAISED + 2 * DAY, tick=False)
    assert scan_and_send() == []
    assert len(mail.outbox) == 2
    assert resolve_alert(topic="ae:1") == 0  # acknowledged too late: nothing left to cancel


def test_an_sae_acknowledged_within_24_hours_does_not_escalate(
    sae_visit, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = raise_sae(sae_visit, dispatch=send_now)
    mail.outbox.clear()
    time_machine.move_to(RAISED + timedelta(hours=23), tick=False)
    assert resolve_alert(topic="ae:1") == 3
    assert resolve_alert(topic="ae:1") == 0
    time_machine.move_to(RAISED + DAY, tick=False)
    assert scan_and_send() == []
    assert mail.outbox == []
    escalations = Reminder.objects.filter(pk__in=created, kind="sae_escalation")
    assert escalations.count() == 3  # cancelled, never deleted
    assert all(r.cancelled_at == RAISED + timedelta(hours=23) for r in escalations)


def test_an_sae_update_is_a_topic_of_its_own(sae_visit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        raise_sae(sae_visit, dispatch=send_now, escalate=False)
        raise_sae(sae_visit, "ae:1:update:1", dispatch=send_now, escalate=False, kind="sae_update")
    assert len(mail.outbox) == 6
    assert sum("was updated" in m.body for m in mail.outbox) == 3


def test_the_escalation_goes_to_whoever_still_holds_the_role(
    sae_visit, team, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raise_sae(sae_visit, dispatch=send_now)
    mail.outbox.clear()
    team["data_manager"].memberships.update(is_active=False)  # revoked in the meantime
    time_machine.move_to(RAISED + DAY, tick=False)
    assert sorted(scan_and_send()) == ["cancelled", "cancelled", "sent"]
    assert [m.to for m in mail.outbox] == [[SPONSOR]]


def test_a_muted_kind_never_silences_a_safety_alert(sae_visit, team):
    inv = team["investigators"][0]
    # A preference saved before alerts existed (or written in the admin) that names them.
    ReminderPreference.objects.create(user=inv, muted_kinds=["sae", "sae_escalation"])
    created = raise_sae(sae_visit, dispatch=lambda pk: None, escalate=False)
    assert [services.send_reminder(pk) for pk in created] == ["sent"] * 5
    assert inv.email in {m.to[0] for m in mail.outbox}


def test_the_preferences_page_does_not_let_anyone_mute_sae_alerts(client_for, team):
    inv = team["investigators"][0]
    client = client_for(inv)
    page = client.get("/reminders/preferences/").content.decode()
    assert 'value="overdue"' in page
    assert 'value="sae' not in page
    for kind in ("sae", "sae_update", "sae_escalation"):
        response = client.post("/reminders/preferences/", {"language": "", "muted_kinds": [kind]})
        assert response.status_code == 400
        assert "is not one of the available choices" in response.content.decode()
    assert not ReminderPreference.objects.filter(user=inv).exists()
    with pytest.raises(ValidationError) as refused:  # nor the service behind it
        services.save_preferences(user=inv, language="", muted_kinds=["overdue", "sae"])
    assert "muted_kinds" in refused.value.message_dict
    assert not ReminderPreference.objects.filter(user=inv, muted_kinds__contains=["sae"]).exists()


def test_the_schedule_sync_never_touches_alert_rows(sae_visit, coordinator_a, time_machine):
    created = raise_sae(sae_visit, dispatch=lambda pk: None)
    before = list(Reminder.objects.filter(pk__in=created).order_by("pk").values())
    participant = sae_visit.participant
    time_machine.move_to(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), tick=False)
    # Dating M06 cancels its visit reminders ...
    visit_services.record_visit_date(
        actor=coordinator_a, visit=sae_visit, actual_date=date(2026, 3, 9)
    )
    services.sync_all()
    # ... and the end of study cancels the rest; the alert rows stay as they were.
    participant_services.change_status(
        actor=coordinator_a,
        participant=participant,
        to_status="withdrawn",
        effective_date=date(2026, 3, 10),
        reason="Withdrew consent",
        details={"withdrawn_by": "participant", "follow_up_allowed": False},
    )
    visit_reminders = Reminder.objects.filter(visit__participant=participant, topic="")
    assert visit_reminders.exists()
    assert not visit_reminders.filter(sent_at=None, cancelled_at=None).exists()
    assert list(Reminder.objects.filter(pk__in=created).order_by("pk").values()) == before
    # Safety follow-up outlives the study: the alert (its dispatch was lost) and the escalation
    # (due since December) still go out.
    assert scan_and_send() == ["sent"] * 8


def test_one_recipient_either_a_user_or_an_address(sae_visit, team):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            topic="ae:9",
            kind="sae",
            visit=sae_visit,
            recipient=team["data_manager"],
            recipient_email=SPONSOR,
            channel="email",
            due_at=RAISED,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            topic="ae:9", kind="sae", visit=sae_visit, channel="email", due_at=RAISED
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "sae_escalation"}, "raised as"),
        ({"topic": ""}, "topic"),
        ({"payload": {"study_id": "X"}}, "lacks"),
        ({"path": "https://evil.example.org/"}, "site-relative"),
        ({"path": "//evil.example.org/"}, "site-relative"),
    ],
)
def test_a_programming_error_in_the_arguments_is_refused(sae_visit, changes, message):
    values = payload(sae_visit.participant)
    if "path" in changes:
        values["path"] = changes.pop("path")
    arguments = {"topic": "ae:1", "kind": "sae", "visit": sae_visit, "payload": values}
    with pytest.raises(ValueError, match=message):
        raise_alert(**(arguments | changes))
    assert not Reminder.objects.filter(topic="ae:1").exists()


def test_the_sponsor_safety_contact_is_edited_in_the_trial_admin(client_for, trial):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client = client_for(admin)
    url = f"/admin/trials/trial/{trial.pk}/change/"
    page = client.get(url)
    assert b'name="sponsor_safety_email"' in page.content
    form = {
        "title": trial.title,
        "phase": trial.phase,
        "sponsor": trial.sponsor,
        "spirometry_equation": trial.spirometry_equation,
        "sponsor_safety_email": "not an address",
    }
    assert client.post(url, form).status_code == 200  # a field error, nothing saved
    trial.refresh_from_db()
    assert trial.sponsor_safety_email == ""
    response = client.post(url, form | {"sponsor_safety_email": SPONSOR})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.sponsor_safety_email == SPONSOR


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server down")


def test_an_alert_is_never_given_up_while_the_mail_server_is_down(
    sae_visit, time_machine, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.reminders.test_alerts.FailingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        created = raise_sae(sae_visit, dispatch=send_now, escalate=False)
    emails = Reminder.objects.filter(pk__in=created, channel="email")
    assert emails.filter(sent_at=None, attempts=1).count() == 3  # the in-app ones went out
    moment = RAISED
    for _ in range(2, services.MAX_ATTEMPTS + 3):  # past the visit reminders' limit
        moment += services.claim_timeout() + timedelta(minutes=1)
        time_machine.move_to(moment, tick=False)
        assert scan_and_send() == ["failed"] * 3
    assert emails.filter(sent_at=None, cancelled_at=None).count() == 3
    # The server is back: each e-mail goes out once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.move_to(moment + services.claim_timeout() + timedelta(minutes=1), tick=False)
    assert scan_and_send() == ["sent"] * 3
    assert len(mail.outbox) == 3
    time_machine.move_to(moment + timedelta(hours=2), tick=False)
    assert scan_and_send() == []


def test_the_investigator_opens_the_sae_from_the_notification_list(
    sae_visit, team, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raise_sae(sae_visit, dispatch=send_now, escalate=False)
    client = client_for(team["investigators"][0])
    page = client.get("/notifications/").content.decode()
    participant = sae_visit.participant
    assert f"A serious adverse event was reported for participant {participant.study_id}" in page
    notification = Notification.objects.get(user=team["investigators"][0])
    response = client.post(f"/notifications/{notification.pk}/read/", {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/sites/ISF/participants/{participant.pk}/adverse-events/1/"
    # The monitor and the coordinator are not told.
    assert not Notification.objects.exclude(user__in=team["investigators"]).exists()


def test_a_long_or_marked_up_term_is_sent_whole_in_the_email_and_escaped(sae_visit, team):
    term = "<b>Headache</b> " + "x" * 300  # a verbatim term as typed
    with transaction.atomic():
        created = raise_alert(
            topic="ae:1",
            kind="sae",
            visit=sae_visit,
            payload=payload(sae_visit.participant, term=term),
            dispatch=lambda pk: None,
        )
    assert [services.send_reminder(pk) for pk in created] == ["sent"] * 5
    message = next(m for m in mail.outbox if m.to == [SPONSOR])
    assert term in message.body  # the plain-text part as typed
    assert "&lt;b&gt;Headache&lt;/b&gt;" in message.alternatives[0][0]
    assert "<b>" not in message.alternatives[0][0]
    assert "trial's sponsor safety contact" in message.body
    # The notification's subject is cut to fit its column.
    notification = Notification.objects.filter(user=team["investigators"][0]).get()
    assert len(notification.subject) == 200


def test_a_term_typed_over_two_lines_does_not_stop_the_email(sae_visit):
    with transaction.atomic():
        created = raise_alert(
            topic="ae:1",
            kind="sae",
            visit=sae_visit,
            payload=payload(sae_visit.participant, term="Back pain\r\nat the puncture site"),
            dispatch=lambda pk: None,
        )
    assert [services.send_reminder(pk) for pk in created] == ["sent"] * 5
    assert all("Back pain at the puncture site" in m.subject for m in mail.outbox)
