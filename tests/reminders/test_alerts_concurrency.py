"""Safety alerts against real PostgreSQL transactions: 20 SAEs saved at once send 20 alerts and no
duplicate, one SAE raised twice at once (a double save, a retried task) makes one set of rows, and
(with Redis) the default dispatch runs the send through a real Celery worker."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from celery.signals import task_postrun
from django.core import mail
from django.db import connection, connections, transaction
from time_machine import escape_hatch

from reminders import services
from reminders.alerts import raise_alert
from reminders.models import Notification, Reminder
from tests.factories import member, transplanted_participant
from trials.models import Role

pytestmark = pytest.mark.django_db(transaction=True)
SPONSOR = "safety@sponsor.example.org"
PARTICIPANTS = 4
SAES = 20
IMMEDIATE = 2 * 2 + 1  # two investigators (e-mail + in-app) and the sponsor contact
ESCALATION = 2 + 1  # the data manager (e-mail + in-app) and the sponsor contact
AE_LINK = re.compile(r"/adverse-events/([0-9]+)/")


def _in_thread(target, results: dict, key):
    def run():
        try:
            results[key] = target()
        except BaseException as error:  # surfaced by the test thread
            results[key] = error
        finally:
            connections.close_all()  # each thread had its own connection

    return threading.Thread(target=run)


@pytest.fixture
def visits(time_machine, coordinator_a, site_a, trial):
    """The M06 visits of four transplanted participants at a site with two investigators, a
    data manager and a sponsor safety contact."""
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    member(Role.INVESTIGATOR, site_a, "inv_1")
    member(Role.INVESTIGATOR, site_a, "inv_2")
    member(Role.DATA_MANAGER, site_a, "dm_1")
    trial.sponsor_safety_email = SPONSOR
    trial.save(update_fields=["sponsor_safety_email"])
    participants = [
        transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31), name=f"P {i}")
        for i in range(PARTICIPANTS)
    ]
    time_machine.move_to(datetime(2025, 12, 1, 8, 0, tzinfo=UTC), tick=False)
    return [p.visits.get(code="M06") for p in participants]


def _payload(visit, n: int) -> dict[str, str]:
    return {
        "study_id": visit.participant.study_id,
        "term": "Fever",
        "grade": "3",
        "criteria": "Hospitalisation",
        "onset": "2025-11-30",
        "reporter": "coord_a",
        "path": f"/sites/ISF/participants/{visit.participant_id}/adverse-events/{n}/",
    }


def _raise(visit, n: int, dispatch):
    with transaction.atomic():
        return raise_alert(
            topic=f"ae:{n}",
            kind="sae",
            visit=visit,
            payload=_payload(visit, n),
            escalate_after=timedelta(hours=24),
            dispatch=dispatch,
        )


def _send(pk: int) -> None:
    services.send_reminder(pk)


def test_twenty_saes_saved_at_once_send_twenty_alerts_and_no_duplicate(visits):
    start = threading.Barrier(SAES)

    def save(n: int):
        def run():
            start.wait()
            return _raise(visits[n % PARTICIPANTS], n, _send)  # sent after each commit

        return run

    results: dict = {}
    threads = [_in_thread(save(n), results, n) for n in range(SAES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    errors = [r for r in results.values() if isinstance(r, BaseException)]
    assert not errors and len(results) == SAES, errors
    assert all(len(ids) == IMMEDIATE + ESCALATION for ids in results.values())
    assert Reminder.objects.exclude(topic="").count() == SAES * (IMMEDIATE + ESCALATION)
    sent = Reminder.objects.filter(kind="sae", sent_at__isnull=False)
    assert sent.count() == SAES * IMMEDIATE
    # One e-mail per SAE and address, one notification per SAE and investigator.
    mails = [(AE_LINK.search(m.body).group(1), m.to[0]) for m in mail.outbox]
    assert len(mails) == SAES * 3 and len(set(mails)) == len(mails)
    assert {n for n, _ in mails} == {str(n) for n in range(SAES)}
    notifications = Notification.objects.values_list("reminder__topic", "user")
    assert notifications.count() == SAES * 2 and len(set(notifications)) == SAES * 2


def test_one_sae_raised_twice_at_once_makes_one_set_of_rows(visits):
    """Deterministic interleaving: A has raised the alert and not committed; B raises the same
    topic meanwhile and waits for A (its lock on the topic); A commits; B then sees A's rows."""
    visit = visits[0]
    held, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            ids = _raise(visit, 1, _send)
            held.set()
            assert release.wait(30)
        return ids

    results: dict = {}
    thread_a = _in_thread(first, results, "a")
    thread_a.start()
    assert held.wait(30)
    thread_b = _in_thread(lambda: _raise(visit, 1, _send), results, "b")
    thread_b.start()
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:  # wait until B is blocked on the topic's lock
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN "
                "(SELECT pid FROM pg_stat_activity WHERE datname = current_database())"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the second raise never waited for the first")
    release.set()
    thread_a.join(30)
    thread_b.join(30)
    assert len(results["a"]) == IMMEDIATE + ESCALATION and results["b"] == []
    assert Reminder.objects.filter(topic="ae:1").count() == IMMEDIATE + ESCALATION
    assert len(mail.outbox) == 3 and Notification.objects.count() == 2


BROKER = os.environ.get("CELERY_BROKER_URL", "")


@pytest.mark.skipif(
    not BROKER.startswith("redis://"), reason="CELERY_BROKER_URL (Redis) is not set"
)
def test_an_sae_alert_and_its_escalation_go_through_a_real_worker_once(visits, time_machine):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from reminders import tasks

    # Real, ticking time: a worker's timers do not like a frozen clock.
    time_machine.move_to(escape_hatch.time.time(), tick=True)
    visit = visits[0]

    def close_connections(**kwargs):
        connections.close_all()  # the worker thread's connection must not outlive the test

    def wait_until_sent(rows) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and rows.filter(sent_at=None).exists():
            time.sleep(0.2)

    task_postrun.connect(close_connections, weak=False)
    try:
        app.control.purge()
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
            with transaction.atomic():
                ids = raise_alert(  # the default dispatch: the reminders.send task
                    topic="ae:1",
                    kind="sae",
                    visit=visit,
                    payload=_payload(visit, 1),
                    escalate_after=timedelta(0),  # due at once, for the beat scan task
                )
            alert = Reminder.objects.filter(pk__in=ids, kind="sae")
            wait_until_sent(alert)
            escalation = Reminder.objects.filter(pk__in=ids, kind="sae_escalation")
            assert escalation.filter(claimed_at=None).count() == ESCALATION  # left to the scan
            tasks.scan_due_reminders.delay()
            tasks.scan_due_reminders.delay()  # a duplicated scan as well
            wait_until_sent(escalation)
            time.sleep(1)  # let the duplicate run too
    finally:
        task_postrun.disconnect(close_connections)
    assert alert.count() == IMMEDIATE and not alert.filter(sent_at=None).exists()
    assert escalation.count() == ESCALATION and not escalation.filter(sent_at=None).exists()
    # The scans also sent the participants' overdue visit reminders (real time); count the SAE's.
    sae_mails = [m for m in mail.outbox if "/adverse-events/1/" in m.body]
    assert len(sae_mails) == 3 + 2
    assert Notification.objects.filter(reminder__topic="ae:1").count() == 2 + 1
