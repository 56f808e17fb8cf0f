"""Serious adverse events saved at the same moment: each participant's SAE raises its own
alert once, and a form submitted twice at once saves one event (real transactions, one
database connection per thread)."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from django.db import connection

from reminders import tasks
from reminders.models import Reminder
from safety.models import AdverseEvent
from safety.services import save_adverse_event
from tests.factories import HEADACHE, transplanted_participant
from visits.services import record_visit_date

SERIOUS = HEADACHE | {
    "term_code": "meningitis",
    "grade": 3,
    "serious": True,
    "sae_hospitalisation": True,
}


@pytest.mark.django_db(transaction=True)
def test_parallel_sae_saves_alert_once_each(
    frozen, coordinator_a, investigator_a, site_a, trial, monkeypatch
):
    dispatched: list[int] = []
    monkeypatch.setattr(tasks, "dispatch_send", dispatched.append)
    visits = []
    for name in ("A", "B", "C"):
        participant = transplanted_participant(
            coordinator_a, site_a, trial, on=date(2025, 8, 1), name=name
        )
        visit = participant.visits.get(code="M06")
        record_visit_date(actor=coordinator_a, visit=visit, actual_date=date(2026, 1, 30))
        visit.refresh_from_db()
        visits.append(visit)
    double_click = uuid.uuid4()
    # Participant A's form is submitted twice at once; B and C once each.
    jobs = [
        (visits[0], double_click),
        (visits[0], double_click),
        (visits[1], None),
        (visits[2], None),
    ]
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def save(visit, token) -> None:
        try:
            start.wait()
            save_adverse_event(
                actor=coordinator_a,
                participant=visit.participant,
                visit=visit,
                event_id=None,
                answers=SERIOUS,
                expected_version=0,
                complete=True,
                form_token=token,
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AdverseEvent.objects.count() == 3
    sae_rows = Reminder.objects.filter(kind="sae")
    # One topic per SAE; the investigator's e-mail and in-app row each, never twice.
    assert sorted(sae_rows.values_list("topic", flat=True)) == sorted(
        f"sae:{pk}" for pk in AdverseEvent.objects.values_list("pk", flat=True) for _c in (1, 2)
    )
    assert sorted(dispatched) == sorted(sae_rows.values_list("pk", flat=True))
