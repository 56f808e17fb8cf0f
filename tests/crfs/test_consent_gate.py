"""The consent gate of save_form asks the database on every save (one EXISTS), so a form never
goes through without a signed consent, not even one seen before it was rolled back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crfs.alsfrs_r.models import AlsfrsR
from crfs.entry import has_consent
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


@pytest.mark.django_db(transaction=True)
def test_a_yes_is_asked_on_every_save(person, coordinator_a):
    """Nothing is remembered between saves, not even by the instance that recorded the
    consent: one EXISTS per form is the price of never trusting a consent rolled back."""
    consent(coordinator_a, person)
    scr = screening_visit(person)
    for model, answers in ((AlsfrsR, ALSFRS_NORMAL), (Fvc, SCREENING_FVC)):
        with CaptureQueriesContext(connection) as asked:
            save_crf(coordinator_a, scr, model, answers)
        assert consent_queries(asked.captured_queries) == 1


@pytest.mark.django_db
def test_inside_a_transaction_each_save_asks_again(person, coordinator_a):
    consent(coordinator_a, person)
    scr = screening_visit(person)
    with transaction.atomic():
        for model, answers in ((AlsfrsR, ALSFRS_NORMAL), (Fvc, SCREENING_FVC)):
            with CaptureQueriesContext(connection) as asked:
                save_crf(coordinator_a, scr, model, answers)
            assert consent_queries(asked.captured_queries) == 1


@pytest.mark.django_db(transaction=True)
def test_a_consent_rolled_back_to_a_savepoint_closes_the_gate_again(person, coordinator_a):
    with transaction.atomic():
        with pytest.raises(Rollback), transaction.atomic():  # a savepoint
            consent(coordinator_a, person)
            assert has_consent(person.pk)  # seen inside the savepoint that made it
            save_crf(coordinator_a, screening_visit(person), AlsfrsR, ALSFRS_NORMAL)
            raise Rollback
        assert not has_consent(person.pk)
        with pytest.raises(ValidationError, match=REFUSED):
            save_crf(coordinator_a, screening_visit(person), Fvc, SCREENING_FVC)
    assert not person.consents.exists()
    assert not AlsfrsR.objects.exists() and not Fvc.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_consent_rolled_back_never_lets_a_form_through(person, coordinator_a):
    with pytest.raises(Rollback), transaction.atomic():
        consent(coordinator_a, person)
        assert has_consent(person.pk)  # seen inside the transaction that made it
        save_crf(coordinator_a, screening_visit(person), Fvc, SCREENING_FVC)
        raise Rollback
    assert not person.consents.exists()
    assert not has_consent(person.pk)
    with pytest.raises(ValidationError, match=REFUSED):
        save_crf(coordinator_a, screening_visit(person), AlsfrsR, ALSFRS_NORMAL)
    assert not AlsfrsR.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_participants_consent_does_not_open_the_gate_for_another(
    person, coordinator_a, site_a, trial
):
    consent(coordinator_a, person)
    assert has_consent(person.pk)
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
