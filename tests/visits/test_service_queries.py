"""How many SQL statements the transplantation, the end of study and the screen failure
take, with the visits read once and the changed ones saved in one statement (and still
audited).

Counts include the SAVEPOINT and RELEASE of the service's own transaction (the test runs
inside one). Where the reminders' sync is deferred (reminders.services.deferred_sync), it
runs after the count: its statements are counted in tests/reminders/test_reminders.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from crfs.screening import services as screening
from participants import services as participant_services
from participants.models import Participant
from reminders import services as reminders
from tests.conftest import NOW
from tests.factories import (
    TX_DATA,
    consent,
    enrol,
    register,
    screening_forms,
    transplant,
    transplanted_participant,
)
from trials import permissions
from visits.models import Visit
from visits.services import record_visit_date
from visits.transplantation import correct_transplantation

TODAY = date(2026, 3, 10)


@pytest.fixture
def actor(frozen, coordinator_a):
    permissions.site_roles(coordinator_a)  # the request's membership query, made once
    return coordinator_a


@pytest.fixture
def baseline_done(actor, site_a, trial):
    """Enrolled, baseline done a week ago: ready for the transplantation today."""
    participant = register(actor, site_a, trial, screened_on=TODAY - timedelta(days=40))
    participant = enrol(actor, participant, TODAY - timedelta(days=35))
    baseline = participant.visits.get(code="BL")
    record_visit_date(actor=actor, visit=baseline, actual_date=TODAY - timedelta(days=7))
    return participant


def test_transplantation(actor, baseline_done, django_assert_num_queries):
    # lock, visits, transplantation, status change, participant, new visits (TX dated),
    # baseline replanned; the data locks asked before the transplantation, the participant
    # and each of the two visit writes (trials.locking)
    with reminders.deferred_sync(), django_assert_num_queries(2 + 7 + 4):
        transplant(actor, baseline_done, TODAY)
    visits = {v.code: v for v in baseline_done.visits.all()}
    assert (visits["TX"].actual_date, visits["TX"].status) == (TODAY, "done")
    assert visits["BL"].target_date == TODAY  # placed against day 0
    assert visits["M06"].target_date == date(2026, 9, 10)


def test_replanned_visits_are_saved_with_their_time_and_audit(actor, baseline_done, time_machine):
    baseline = baseline_done.visits.get(code="BL")
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    transplant(actor, baseline_done, TODAY)
    replanned = Visit.objects.get(pk=baseline.pk)
    assert replanned.updated_at > baseline.updated_at
    event = replanned.events.order_by("pgh_id").last()
    assert (event.pgh_label, event.target_date) == ("update", TODAY)
    assert event.pgh_context["reason"] == "record transplantation"
    assert event.pgh_context["actor_id"] == actor.pk


def test_dating_a_visit_saves_its_date_status_and_update_time_only(
    actor, site_a, trial, time_machine
):
    participant = transplanted_participant(actor, site_a, trial, on=TODAY - timedelta(days=190))
    m06 = participant.visits.get(code="M06")
    before = Visit.objects.get(pk=m06.pk)
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    record_visit_date(actor=actor, visit=m06, actual_date=TODAY - timedelta(days=2))
    dated = Visit.objects.get(pk=m06.pk)
    assert (dated.actual_date, dated.status) == (TODAY - timedelta(days=2), "done")
    assert dated.days_from_target == (dated.actual_date - dated.target_date).days
    assert dated.updated_at > before.updated_at  # auto_now, named in the update
    assert (dated.target_date, dated.window_end) == (before.target_date, before.window_end)
    event = dated.events.order_by("pgh_id").last()
    assert (event.pgh_label, event.actual_date) == ("update", dated.actual_date)


def test_correcting_the_date(actor, site_a, trial, django_assert_num_queries):
    participant = transplanted_participant(actor, site_a, trial, on=TODAY - timedelta(days=10))
    transplantation = participant.transplantation
    # lock, visits, recorded_by (a raw id), transplantation, its status change,
    # participant, TX dated, open visits replanned; the data locks asked before the
    # transplantation, the participant and each of the two visit writes (trials.locking)
    with reminders.deferred_sync(), django_assert_num_queries(2 + 8 + 4):
        correct_transplantation(
            actor=actor,
            transplantation=transplantation,
            performed_at=datetime.combine(
                TODAY - timedelta(days=9), time(10, 0), tzinfo=site_a.zone
            ),
            data=TX_DATA,
            reason="Date typed wrong",
        )
    visits = {v.code: v for v in participant.visits.all()}
    assert visits["TX"].actual_date == TODAY - timedelta(days=9)
    assert visits["M06"].target_date == date(2026, 9, 1)


def test_death_closes_the_visits_still_expected_in_one_statement(
    actor, site_a, trial, django_assert_num_queries
):
    transplanted = transplanted_participant(actor, site_a, trial, on=TODAY - timedelta(days=10))
    participant = Participant.objects.select_related("site").get(pk=transplanted.pk)  # as a page
    # lock, status change, participant, end of study, visits, the future ones closed; the
    # data locks asked before the participant's save (closing visits is bookkeeping: not asked)
    with reminders.deferred_sync(), django_assert_num_queries(2 + 6 + 1):
        participant_services.change_status(
            actor=actor,
            participant=participant,
            to_status="died",
            effective_date=TODAY,
            reason="Respiratory failure",
            details={"death_cause": "Respiratory failure", "death_als_related": "yes"},
        )
    statuses = dict(participant.visits.values_list("code", "status"))
    assert statuses["TX"] == "done"
    assert {statuses[code] for code in ("M06", "M12", "M18", "M24")} == {"not_expected"}
    closed = Visit.objects.get(participant=participant, code="M06")
    assert closed.events.order_by("pgh_id").last().pgh_context["reason"] == ("Respiratory failure")


def test_screen_failure_from_the_checklist(actor, site_a, trial, django_assert_num_queries):
    participant = register(actor, site_a, trial, screened_on=TODAY - timedelta(days=5))
    consent(actor, participant)
    screening_forms(actor, participant, progression_6_months=False)
    # participant locked first (the order override_eligibility locks in); checklist,
    # checklist locked with its override; change_status (savepoint, lock, status change,
    # participant, visits, release); the reminders (participant, visits, reminders); the data
    # locks asked before the participant's save (trials.locking)
    with django_assert_num_queries(2 + 1 + 2 + 6 + 3 + 1):
        screening.record_screen_failure(actor=actor, participant=participant, effective_date=TODAY)
    participant.refresh_from_db()
    assert participant.status == "screen_failed"
