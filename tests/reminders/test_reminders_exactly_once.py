"""Exactly once against real PostgreSQL: concurrent scans claim disjoint sets, a duplicated send
task sends one e-mail, a lost dispatch is late but not lost, and (with Redis) the whole path
runs through a real Celery worker."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from celery.signals import task_postrun
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections, transaction
from kombu.exceptions import OperationalError

from reminders import services
from reminders.models import Reminder
from tests.factories import transplanted_participant
from trials.models import Membership, Role
from visits.schedule import add_months

pytestmark = pytest.mark.django_db(transaction=True)
EXTRA_COORDINATORS = 30
DUE_AT_SCAN = (EXTRA_COORDINATORS + 1) * 2  # before_window of M06: e-mail + in-app each
SCAN_TIME = datetime(2026, 1, 17, 5, 0, tzinfo=UTC)


def _in_thread(target, results: dict, key: str):
    def run():
        try:
            results[key] = target()
        except BaseException as error:  # surfaced by the test thread
            results[key] = error
        finally:
            connections.close_all()  # each thread had its own connection

    return threading.Thread(target=run)


@pytest.fixture
def many_due(time_machine, coordinator_a, site_a, trial):
    """31 coordinators at ISF; at SCAN_TIME 62 reminders (one M06 kind) are due."""
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"extra{i}", email=f"extra{i}@example.org")
        for i in range(EXTRA_COORDINATORS)
    )
    Membership.objects.bulk_create(
        Membership(user=u, site=site_a, role=Role.COORDINATOR) for u in users
    )
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31))
    time_machine.move_to(SCAN_TIME, tick=False)
    due = set(
        Reminder.objects.filter(due_at__lte=SCAN_TIME, sent_at=None).values_list("pk", flat=True)
    )
    assert len(due) == DUE_AT_SCAN
    return participant, due


def test_two_parallel_scans_claim_disjoint_sets(many_due):
    _, due = many_due
    dispatched: list[int] = []
    start = threading.Barrier(2)

    def scan():
        start.wait()
        return services.claim_due(dispatch=dispatched.append, now=SCAN_TIME, batch_size=5)

    results: dict = {}
    threads = [_in_thread(scan, results, name) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    a, b = results["a"], results["b"]
    assert not isinstance(a, BaseException) and not isinstance(b, BaseException), results
    assert set(a).isdisjoint(b)
    assert set(a) | set(b) == due
    assert sorted(dispatched) == sorted(due)  # one dispatch per id, after each commit


def test_a_scan_skips_rows_another_scan_holds(many_due):
    """Deterministic interleaving: A has claimed 10 rows and not committed; B runs meanwhile."""
    _, due = many_due
    held, release = threading.Event(), threading.Event()

    def slow_scan():
        with transaction.atomic():
            ids = services.claim_batch(now=SCAN_TIME, size=10, dispatch=lambda pk: None)
            held.set()
            assert release.wait(30)
        return ids

    results: dict = {}
    thread_a = _in_thread(slow_scan, results, "a")
    thread_a.start()
    assert held.wait(30)
    thread_b = _in_thread(
        lambda: services.claim_due(dispatch=lambda pk: None, now=SCAN_TIME), results, "b"
    )
    thread_b.start()
    thread_b.join(30)
    release.set()
    thread_a.join(30)
    a, b = results["a"], results["b"]
    assert len(a) == 10 and len(b) == DUE_AT_SCAN - 10
    assert set(a) | set(b) == due and set(a).isdisjoint(b)


def test_the_send_task_run_twice_at_once_sends_one_email(many_due):
    _, due = many_due
    email = Reminder.objects.filter(pk__in=due, channel="email").first()
    start = threading.Barrier(2)

    def send():
        start.wait()
        return services.send_reminder(email.pk)

    results: dict = {}
    threads = [_in_thread(send, results, name) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted([results["a"], results["b"]]) == ["already_sent", "sent"]
    assert len(mail.outbox) == 1
    assert services.send_reminder(email.pk) == "already_sent"  # a retry, later
    assert len(mail.outbox) == 1


def test_a_lost_dispatch_is_sent_once_after_the_claim_timeout(many_due, time_machine):
    _, due = many_due

    def broker_down(pk: int) -> None:
        raise OperationalError("Error 111 connecting to broker. Connection refused.")

    claimed = services.claim_due(dispatch=broker_down)  # the scan itself does not fail
    assert set(claimed) == due
    assert Reminder.objects.filter(pk__in=due, claimed_at=SCAN_TIME).count() == DUE_AT_SCAN
    assert mail.outbox == []

    sent: list[int] = []

    def worker(pk: int) -> None:  # the broker is back: dispatch runs the task at once
        if services.send_reminder(pk) == "sent":
            sent.append(pk)

    time_machine.move_to(SCAN_TIME + timedelta(minutes=14), tick=False)
    assert services.claim_due(dispatch=worker) == []  # claims still fresh: not re-dispatched
    time_machine.move_to(SCAN_TIME + timedelta(minutes=16), tick=False)
    assert set(services.claim_due(dispatch=worker)) == due
    assert sorted(sent) == sorted(due)
    assert len(mail.outbox) == DUE_AT_SCAN // 2  # one e-mail per e-mail reminder
    time_machine.move_to(SCAN_TIME + timedelta(hours=2), tick=False)
    assert services.claim_due(dispatch=worker) == []
    assert len(mail.outbox) == DUE_AT_SCAN // 2


BROKER = os.environ.get("CELERY_BROKER_URL", "")


@pytest.mark.skipif(
    not BROKER.startswith("redis://"), reason="CELERY_BROKER_URL (Redis) is not set"
)
def test_scan_and_send_through_a_real_worker_on_redis(coordinator_a, site_a, trial):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from reminders import tasks

    # Real time (a worker's timers do not like a frozen clock): M06 is overdue today.
    today = site_a.local_today()
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=add_months(today, -7) - timedelta(days=10)
    )
    due = list(
        Reminder.objects.filter(visit__participant=participant, due_at__lte=datetime.now(UTC))
    )
    assert {r.kind for r in due} == {"overdue"} and len(due) == 2

    def close_connections(**kwargs):
        connections.close_all()  # the worker thread's connection must not outlive the test

    task_postrun.connect(close_connections, weak=False)
    try:
        app.control.purge()
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
            tasks.scan_due_reminders.delay()
            tasks.send_reminder.delay(due[0].pk)  # a duplicated send task as well
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if Reminder.objects.filter(pk__in=[r.pk for r in due], sent_at=None).count() == 0:
                    break
                time.sleep(0.2)
            time.sleep(1)  # let the duplicate run too
    finally:
        task_postrun.disconnect(close_connections)
    assert Reminder.objects.filter(pk__in=[r.pk for r in due], sent_at__isnull=False).count() == 2
    assert len(mail.outbox) == 1
    assert "overdue" in mail.outbox[0].body
