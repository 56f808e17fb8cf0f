"""How many SQL statements the participant services take (seed_demo makes thousands of people
through them, and a web request one at a time): a regression shows here first.

Each count includes the SAVEPOINT and RELEASE of the service's own transaction (the test runs
inside one), and the statements are listed in the comments.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from participants import services
from tests.factories import consent, consent_version, register, screen_eligible
from trials import permissions

TODAY = date(2026, 3, 10)


@pytest.fixture
def actor(frozen, coordinator_a, site_a, trial):
    permissions.site_roles(coordinator_a)  # the request's membership query, made once
    consent_version(trial)
    return coordinator_a


@pytest.fixture
def participant(actor, site_a, trial):
    return register(actor, site_a, trial, screened_on=TODAY - timedelta(days=30))


def test_registration(actor, site_a, trial, django_assert_num_queries):
    # the trial's lock and the national ID already registered?, sequence, participant,
    # status change, identity, demographics and ALS history (each after its lock check:
    # trials.locking asks review before a record's save), the screening visit; the data
    # locks asked before the participant's insert and the visits' bulk insert
    with django_assert_num_queries(2 + 11 + 2):
        register(actor, site_a, trial, screened_on=TODAY - timedelta(days=3))


def test_enrolment(actor, participant, django_assert_num_queries):
    screen_eligible(actor, participant)
    # lock (with site and trial), consents signed, version in use, the eligibility check's
    # checklist, sequence, status change, participant, the baseline visit; the data locks
    # asked before the participant's save and the visit's bulk insert (trials.locking)
    with django_assert_num_queries(2 + 8 + 2):
        services.enrol_participant(actor=actor, participant=participant, enrolled_on=TODAY)


def test_a_lifecycle_event_makes_its_visits_once(actor, participant):
    """The hooks do not look for the event's visits (the status transition happens once);
    the unique constraint refuses a second set."""
    from visits.services import on_registered

    with pytest.raises(IntegrityError), transaction.atomic():
        on_registered(participant)
    assert participant.visits.filter(code="SCR").count() == 1


def test_consent(actor, participant, trial, django_assert_num_queries):
    version = consent_version(trial)
    # lock, already signed?, insert
    with django_assert_num_queries(2 + 3):
        services.record_consent(
            actor=actor,
            participant=participant,
            version=version,
            signed_on=participant.screened_on,
            taken_by=actor,
        )


def test_contact_attempt(actor, participant, django_assert_num_queries):
    # lock, insert
    with django_assert_num_queries(2 + 2):
        services.record_contact_attempt(
            actor=actor,
            participant=participant,
            attempted_on=TODAY,
            method="phone",
            outcome="no_answer",
        )


def test_screen_failure_by_hand(actor, participant, django_assert_num_queries):
    consent(actor, participant)
    # lock, status change, participant; the hooks: the visits (none to close), then the
    # reminders (participant, visits, reminders); the data locks asked before the
    # participant's save (trials.locking)
    with django_assert_num_queries(2 + 3 + 1 + 3 + 1):
        services.change_status(
            actor=actor,
            participant=participant,
            to_status="screen_failed",
            effective_date=TODAY,
            reason="Declined after screening",
        )
