"""The consent gate of save_form remembers a committed consent on the participant instance
(one question per participant, not one per form) and never lets a form through without one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from participants.models import Participant
from tests.factories import ALSFRS_NORMAL, SCREENING_FVC, consent, register, save_crf

TODAY = date(2026, 3, 10)
REFUSED = "Informed consent is not recorded"


class Rollback(Exception):
    pass


def consent_queries(queries) -> int:
    return sum('FROM "participants_consent"' in q["sql"] for q in queries)


def screening_visit(participant):
    visit = participant.visits.get(code="SCR")
    visit.participant = participant  # as the seeder and the entry page pass it
    return visit


@pytest.fixture
def person(frozen, coordinator_a, site_a, trial):
    return register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))


@pytest.mark.django_db
def test_a_no_is_asked_again_every_time(person, coordinator_a):
    scr = screening_visit(person)
    for _attempt in range(2):
        with (
            CaptureQueriesContext(connection) as asked,
            pytest.raises(ValidationError, match=REFUSED),
        ):
            save_crf(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
        assert consent_queries(asked.captured_queries) == 1
    assert not AlsfrsR.objects.exists()

    consent(coordinator_a, Participant.objects.get(pk=person.pk))  # another instance records it
    assert save_crf(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL).total == 48


@pytest.mark.django_db
def test_inside_a_transaction_a_yes_holds_until_the_transaction_ends(
    person, coordinator_a, django_capture_on_commit_callbacks
):
    consent(coordinator_a, person)
    scr = screening_visit(person)
    fresh = Participant.objects.get(pk=person.pk)
    scr.participant = fresh  # an instance that has not seen the consent yet
    with django_capture_on_commit_callbacks(execute=False) as pending:
        with CaptureQueriesContext(connection) as first:
            save_crf(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
        with CaptureQueriesContext(connection) as second:
            save_crf(coordinator_a, scr, Fvc, SCREENING_FVC)
    assert consent_queries(first.captured_queries) == 1
    assert consent_queries(second.captured_queries) == 0  # same transaction: still true
    assert pending  # remembered for good only if the transaction commits
    assert not fresh._consent_committed


@pytest.mark.django_db(transaction=True)
def test_a_committed_consent_is_asked_once_per_instance(person, coordinator_a):
    consent(coordinator_a, person)
    scr = screening_visit(person)
    with CaptureQueriesContext(connection) as first:
        save_crf(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
    # The instance the consent was recorded with knows it: no question at all.
    assert consent_queries(first.captured_queries) == 0

    fresh = Participant.objects.get(pk=person.pk)
    assert not fresh._consent_committed  # a new instance asks the database again
    scr.participant = fresh
    with CaptureQueriesContext(connection) as asked:
        save_crf(coordinator_a, scr, Fvc, SCREENING_FVC)
    assert consent_queries(asked.captured_queries) == 1
    with CaptureQueriesContext(connection) as again:
        assert fresh.has_signed_consent()
    assert consent_queries(again.captured_queries) == 0


@pytest.mark.django_db(transaction=True)
def test_a_consent_rolled_back_to_a_savepoint_closes_the_gate_again(person, coordinator_a):
    with transaction.atomic():
        with pytest.raises(Rollback), transaction.atomic():  # a savepoint
            consent(coordinator_a, person)
            assert person.has_signed_consent()  # seen inside the savepoint that made it
            raise Rollback
        assert not person.has_signed_consent()  # asked again, and the answer is no
        with pytest.raises(ValidationError, match=REFUSED):
            save_crf(coordinator_a, screening_visit(person), AlsfrsR, ALSFRS_NORMAL)
    assert not person.consents.exists()
    assert not person._consent_committed


@pytest.mark.django_db(transaction=True)
def test_a_consent_rolled_back_never_lets_a_form_through(person, coordinator_a):
    with pytest.raises(Rollback), transaction.atomic():
        consent(coordinator_a, person)
        assert person.has_signed_consent()  # seen inside the transaction that made it
        raise Rollback
    assert not person.consents.exists()
    assert not person.has_signed_consent()
    with pytest.raises(ValidationError, match=REFUSED):
        save_crf(coordinator_a, screening_visit(person), AlsfrsR, ALSFRS_NORMAL)
    assert not AlsfrsR.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_participants_consent_does_not_open_the_gate_for_another(
    person, coordinator_a, site_a, trial
):
    consent(coordinator_a, person)
    assert person.has_signed_consent() and person._consent_committed
    other = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))
    with pytest.raises(ValidationError, match=REFUSED):
        save_crf(coordinator_a, screening_visit(other), AlsfrsR, ALSFRS_NORMAL)


@pytest.mark.django_db
def test_a_visit_without_its_participant_loaded_is_checked_by_id(person, coordinator_a):
    consent(coordinator_a, person)
    scr = person.visits.get(code="SCR")
    scr = type(scr).objects.get(pk=scr.pk)  # participant not loaded
    with CaptureQueriesContext(connection) as asked:
        save_crf(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
    assert consent_queries(asked.captured_queries) == 1
