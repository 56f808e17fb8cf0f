"""How many queries saving each instrument's form takes (save_form): seed_demo saves about
ten forms per person through it, so one more query per form shows in its run time.

The counts are taken inside the test's transaction: save_form's own transaction is a
savepoint (SAVEPOINT and RELEASE count as queries). Every save asks whether the participant
has consented, once (tests/crfs/test_consent_gate.py).
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from crfs.alsfrs_r.models import AlsfrsR
from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import Decision
from crfs.entry import StaleFormError, save_form
from crfs.fvc.models import Fvc
from crfs.vitals.models import Vitals
from participants.models import Participant
from tests.factories import (
    ALSFRS_NORMAL,
    SCREENING_FVC,
    checklist_answers,
    consent,
    member,
    register,
    save_crf,
)
from trials.models import Role
from visits.models import Visit

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)
VITALS = {
    "weight_kg": Decimal("60.0"),
    "height_cm": Decimal("165.0"),
    "systolic_bp": 118,
    "diastolic_bp": 76,
    "heart_rate": 72,
    "respiratory_rate": 16,
    "temperature_c": Decimal("36.8"),
    "spo2_percent": 97,
}


def loaded(participant):
    """The participant as the seeder holds it: site, trial, demographics and ALS history
    loaded."""
    related = ("site", "trial", "demographics", "als_history")
    return Participant.objects.select_related(*related).get(pk=participant.pk)


def visit_of(participant, code):
    visit = participant.visits.get(code=code)
    visit.participant = participant
    return visit


def save(user, visit, model, answers, *, version=0, reason=""):
    return save_form(
        record_class=model,
        visit=visit,
        user=user,
        answers=answers,
        expected_version=version,
        complete=True,
        reason=reason,
    )


@pytest.fixture
def colleague(site_a):
    """A second coordinator of the site, entering the same form."""
    return member(Role.COORDINATOR, site_a, "coord_a2")


@pytest.fixture
def scr(frozen, coordinator_a, site_a, trial):
    """The screening visit of a consented person."""
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))
    consent(coordinator_a, participant)
    return visit_of(loaded(participant), "SCR")


@pytest.fixture
def loaded_m06(m06, coordinator_a):
    """The month-6 visit (tests/conftest.py), its participant's baseline weight entered, as
    the seeder holds it."""
    save_crf(coordinator_a, m06.participant.visits.get(code="BL"), Vitals, VITALS)
    return visit_of(loaded(m06.participant), "M06")


# A first save: the consent gate's EXISTS, SAVEPOINT, the lock check (trials.locking: one
# UNION query for a lock covering the record, its visit, participant or site, and the
# signatures the save may invalidate), the INSERT (with the audit context in the same
# statement), RELEASE SAVEPOINT. The record is not looked up first: its unique visit refuses
# a second first save (test_a_first_save_of_a_form_saved_meanwhile_is_stale).
SAVE = 5
# A later save locks the record it changes (SELECT … FOR UPDATE) before its UPDATE.
LOCKED = 1
# An ALSFRS-R or FVC at the screening visit: the checklist locked to be re-derived (none yet).
CHECKLIST_LOOKED_UP = 1


@pytest.mark.parametrize(
    ("model", "answers", "expected"),
    [
        (AlsfrsR, ALSFRS_NORMAL, SAVE + CHECKLIST_LOOKED_UP),
        (Fvc, SCREENING_FVC, SAVE + CHECKLIST_LOOKED_UP),
        (Vitals, VITALS, SAVE),  # no baseline weight before the baseline
    ],
    ids=["alsfrs_r", "fvc", "vitals"],
)
def test_a_screening_form(scr, coordinator_a, django_assert_num_queries, model, answers, expected):
    with django_assert_num_queries(expected):
        save(coordinator_a, scr, model, answers)


def test_the_checklist_reads_its_sources_in_one_query(
    scr, coordinator_a, django_assert_num_queries
):
    save(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
    save(coordinator_a, scr, Fvc, SCREENING_FVC)
    answers = checklist_answers(scr.participant)
    with django_assert_num_queries(SAVE + 1):
        record = save(coordinator_a, scr, Eligibility, answers)
    assert record.decision == Decision.ELIGIBLE
    assert record.consent_version == "1.0" and record.alsfrs_cutting_item == "5a"
    assert record.fvc_percent_predicted is not None


def test_a_changed_source_re_derives_the_checklist(scr, coordinator_a, django_assert_num_queries):
    save(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
    save(coordinator_a, scr, Fvc, SCREENING_FVC)
    save(coordinator_a, scr, Eligibility, checklist_answers(scr.participant))
    record = AlsfrsR.objects.get(visit=scr)
    # The checklist locked, asked whether review locks it, its sources read, and its new
    # version saved (the lock check, made in the same transaction, stands for the save's);
    # the visit is the caller's, not read again for the ALSFRS-R record found nor for the
    # checklist's lock check.
    with django_assert_num_queries(SAVE + LOCKED + 4):
        save(
            coordinator_a,
            scr,
            AlsfrsR,
            ALSFRS_NORMAL | {"q3_swallowing": 2},
            reason="transcription error",
            version=record.version,
        )
    checklist = Eligibility.objects.get(visit=scr)
    assert checklist.decision == Decision.SCREEN_FAILURE
    assert checklist.failed_criteria == ["alsfrs_swallowing"]


@pytest.mark.parametrize(
    ("model", "answers", "expected"),
    [
        (AlsfrsR, ALSFRS_NORMAL, SAVE),  # no checklist at a follow-up: nothing looked up
        (Fvc, SCREENING_FVC, SAVE),
        (Vitals, VITALS | {"height_cm": None}, SAVE + 1),  # + the baseline weight
    ],
    ids=["alsfrs_r", "fvc", "vitals"],
)
def test_a_follow_up_form(
    loaded_m06, coordinator_a, django_assert_num_queries, model, answers, expected
):
    with django_assert_num_queries(expected):
        save(coordinator_a, loaded_m06, model, answers)


# --- a first save without looking first -------------------------------------------------


def test_a_first_save_of_a_form_saved_meanwhile_is_stale(scr, coordinator_a, colleague):
    first = save(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
    for answers, complete in (
        (ALSFRS_NORMAL | {"q1_speech": 2}, True),
        # Incomplete input too: the other person's save comes first, as when it was looked up.
        ({"q1_speech": 2}, True),
    ):
        with pytest.raises(StaleFormError) as stale:
            save_form(
                record_class=AlsfrsR,
                visit=scr,
                user=colleague,
                answers=answers,
                expected_version=0,
                complete=complete,
            )
        assert stale.value.record.pk == first.pk and stale.value.record.version == 1
        assert ("q1_speech", 4, 2) in [(c.field, c.saved, c.submitted) for c in stale.value.changes]
    kept = AlsfrsR.objects.get(visit=scr)
    assert (kept.version, kept.q1_speech, kept.updated_by) == (1, 4, coordinator_a)


def test_an_invalid_first_save_is_refused_for_itself(scr, coordinator_a):
    with pytest.raises(ValidationError) as refused:
        save(coordinator_a, scr, AlsfrsR, {"q1_speech": 2})
    assert "q2_salivation" in refused.value.error_dict
    assert not AlsfrsR.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_first_saves_at_once_the_second_is_stale_not_an_error(
    frozen, coordinator_a, site_a, trial, colleague
):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))
    consent(coordinator_a, participant)
    outcome = {}

    def second_person():
        visit = Visit.objects.select_related("participant").get(pk=scr_pk)
        try:
            save(colleague, visit, AlsfrsR, ALSFRS_NORMAL | {"q1_speech": 1})
        except Exception as error:
            outcome["error"] = error
        finally:
            connection.close()

    scr = visit_of(participant, "SCR")
    scr_pk = scr.pk
    with transaction.atomic():
        save(coordinator_a, scr, AlsfrsR, ALSFRS_NORMAL)
        other = threading.Thread(target=second_person)
        other.start()
        other.join(timeout=0.5)  # its INSERT waits for this transaction on the unique visit
    other.join(timeout=30)
    assert isinstance(outcome.get("error"), StaleFormError), outcome
    assert outcome["error"].record.updated_by == coordinator_a
    assert AlsfrsR.objects.get(visit=scr).q1_speech == 4
