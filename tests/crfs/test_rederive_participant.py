"""A corrected height or date of birth reaches every stored value that reads it, at every visit:
FVC % predicted (age at test too), BMI where the visit measured no height; a locked
checklist is left alone and said to be; forms without context are not touched."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crfs.base import FormStatus
from crfs.eligibility.models import Eligibility
from crfs.fvc.models import Fvc
from crfs.rederive import rederive_participant
from crfs.vitals.models import Vitals
from participants import corrections
from participants.models import Demographics
from review import services as review
from tests.factories import SCREENING_FVC, member, save_crf
from trials.models import Role

pytestmark = pytest.mark.django_db

VITALS_WITHOUT_HEIGHT = {
    "weight_kg": Decimal("60.0"),
    "systolic_bp": 118,
    "diastolic_bp": 76,
    "heart_rate": 72,
    "respiratory_rate": 16,
    "temperature_c": Decimal("36.8"),
    "spo2_percent": 97,
}


def test_a_corrected_height_reaches_fvc_and_bmi_at_every_visit(coordinator_a, tx_participant, m06):
    scr = tx_participant.visits.get(code="SCR")
    at_m06 = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    vitals = save_crf(
        coordinator_a, m06, Vitals, VITALS_WITHOUT_HEIGHT, complete=False
    )  # BMI from the demographics' height
    assert vitals.height_source == "demographics" and vitals.bmi == Decimal("22.0")
    at_scr = Fvc.objects.get(visit=scr)  # saved by the factory's screening
    before = {at_scr.pk: at_scr.percent_predicted, at_m06.pk: at_m06.percent_predicted}

    corrected = corrections.correct_demographics(
        actor=coordinator_a,
        participant=tx_participant,
        changes={"height_cm": Decimal("175.0")},
        expected_version=1,
        reason="Height re-measured",
    )

    for record in (at_scr, at_m06):
        record.refresh_from_db()
        assert record.percent_predicted < before[record.pk]
    vitals.refresh_from_db()
    assert (vitals.height_cm_used, vitals.bmi) == (Decimal("175.0"), Decimal("19.6"))
    assert vitals.version == 1 and vitals.status == FormStatus.IN_PROGRESS  # answers untouched
    visits = [line.split(":")[0] for line in corrected.rederived]
    assert "FVC (spirometry) at SCR" in visits and "FVC (spirometry) at M06" in visits
    assert "vital signs and weight at M06" in visits


def test_a_corrected_date_of_birth_moves_the_age_at_test(coordinator_a, tx_participant, m06):
    fvc = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    age = fvc.age_at_test
    corrections.correct_demographics(
        actor=coordinator_a,
        participant=tx_participant,
        changes={"date_of_birth": date(1960, 1, 15)},
        expected_version=1,
        reason="Year of birth misread",
    )
    fvc.refresh_from_db()
    assert float(fvc.age_at_test) == pytest.approx(float(age) + 10, abs=0.1)


def test_a_locked_checklist_is_left_alone_and_reported(coordinator_a, site_a, tx_participant):
    checklist = Eligibility.objects.get(visit__participant=tx_participant)
    data_manager = member(Role.DATA_MANAGER, site_a, "dm")
    review.lock_record(actor=data_manager, record=checklist, reason="eligibility reviewed")
    Demographics.objects.filter(participant=tx_participant).update(height_cm=Decimal("175.0"))
    tx_participant.refresh_from_db()

    result = rederive_participant(tx_participant, actor=coordinator_a, cause="test")

    assert result.checklist_locked and not result.checklist_changed
    assert Eligibility.objects.get(pk=checklist.pk).version == checklist.version
    assert "The eligibility checklist is locked: not re-derived (Eligible)." in result.messages()
    # The forms that read the height still follow it.
    assert [r.form_code for r in result.forms.changed] == ["fvc"]


def test_nothing_to_re_derive_says_so(coordinator_a, tx_participant):
    result = rederive_participant(tx_participant, actor=coordinator_a, cause="test")
    assert result.messages() == [
        "No stored derived value of the forms changed.",
        "Eligibility unchanged: Eligible.",
    ]


def test_a_corrected_el_escorial_category_points_at_the_checklists_own_answer(
    coordinator_a, tx_participant
):
    corrected = corrections.correct_als_history(
        actor=coordinator_a,
        participant=tx_participant,
        changes={"el_escorial": "definite"},
        expected_version=1,
        reason="Category revised by the neurologist",
    )
    assert (
        "The checklist's El Escorial category (Probable) is its own answer and differs from the "
        "ALS history: correct it on the checklist if it is wrong too."
    ) in corrected.rederived
    assert Eligibility.objects.get(visit__participant=tx_participant).el_escorial == "probable"
