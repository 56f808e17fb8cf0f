"""Stored derived values follow inputs kept outside their form: a study that changes its
spirometry equation sees every FVC recomputed (audited, answers untouched), except locked
forms, which are reported and keep their values."""

from __future__ import annotations

from datetime import timedelta

import pghistory.models
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from crfs.fvc import scoring as fvc
from crfs.fvc.models import Fvc
from crfs.rederive import rederive_trial_spirometry
from review import services as review
from tests.factories import SCREENING_FVC, member, save_crf
from trials.choices import SpirometryEquation
from trials.models import Role
from visits.services import record_visit_date

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root-admin", "root@example.org", "x")


def change_equation(client_for, superuser, trial, equation: str):
    data = {
        "title": trial.title,
        "phase": trial.phase,
        "sponsor": trial.sponsor,
        "spirometry_equation": equation,
    }
    return client_for(superuser).post(
        reverse("admin:trials_trial_change", args=[trial.pk]), data, follow=True
    )


def test_changing_the_studys_equation_recomputes_every_fvc_with_an_audit_reason(
    client_for, coordinator_a, superuser, trial, m06
):
    record = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    assert record.equation == "GLI Global 2022"
    before = (record.version, record.status, record.updated_by_id, record.trial_2_litres)

    page = change_equation(client_for, superuser, trial, SpirometryEquation.GLI_2012)
    assert page.status_code == 200
    assert "FVC results recomputed with the new equation" in page.text

    record.refresh_from_db()
    assert record.equation == "GLI-2012"
    assert (record.version, record.status, record.updated_by_id, record.trial_2_litres) == before
    reference = fvc.predict(
        "2.65",
        sex="female",
        age_years=float(record.age_at_test),
        height_cm=165.0,
        equation=fvc.Equation.GLI_2012,
        ethnicity=fvc.Ethnicity.CAUCASIAN,  # Iranian: GLI-2012 Caucasian group
    )
    assert float(record.percent_predicted) == pytest.approx(reference.percent_predicted, abs=0.01)
    reasons = [
        (event.pgh_context or {}).get("reason") or ""
        for event in pghistory.models.Events.objects.filter(
            pgh_obj_model="crfs.Fvc", pgh_obj_id=record.pk
        )
    ]
    assert any(reason.startswith("spirometry equation of NCT02116634") for reason in reasons)


def test_a_locked_fvc_keeps_its_values_and_is_reported(
    coordinator_a, site_a, superuser, trial, m06
):
    record = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    data_manager = member(Role.DATA_MANAGER, site_a, "dm")
    review.lock_record(actor=data_manager, record=record, reason="FVC reviewed")
    trial.spirometry_equation = SpirometryEquation.GLI_2012
    trial.save()

    result = rederive_trial_spirometry(trial, actor=superuser)

    assert [r.pk for r in result.locked] == [record.pk]
    assert record.pk not in [r.pk for r in result.changed]  # the screening FVC did change
    record.refresh_from_db()
    assert record.equation == "GLI Global 2022"


def test_an_unchanged_equation_saves_nothing(coordinator_a, superuser, trial, m06):
    record = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    updated = record.updated_at
    result = rederive_trial_spirometry(trial, actor=superuser)
    assert result.changed == [] and result.locked == []
    record.refresh_from_db()
    assert record.updated_at == updated


def test_correcting_a_visit_date_re_derives_the_forms_that_read_it(
    coordinator_a, superuser, trial, m06
):
    record = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    age_before, percent_before = record.age_at_test, record.percent_predicted
    earlier = m06.actual_date - timedelta(days=20)  # still in the window

    record_visit_date(actor=coordinator_a, visit=m06, actual_date=earlier, reason="typo")

    record.refresh_from_db()
    assert float(record.age_at_test) == pytest.approx(float(age_before) - 20 / 365.25, abs=0.01)
    assert record.percent_predicted != percent_before
    assert record.version == 1  # the answers did not change
    reasons = [
        (event.pgh_context or {}).get("reason") or ""
        for event in pghistory.models.Events.objects.filter(
            pgh_obj_model="crfs.Fvc", pgh_obj_id=record.pk
        )
    ]
    assert any("visit date of M06" in r and "(typo)" in r for r in reasons)


def test_dating_a_visit_without_forms_costs_one_query_more(
    coordinator_a, m06, django_assert_num_queries
):
    from crfs.rederive import rederive_visit

    with django_assert_num_queries(1):
        result = rederive_visit(m06, actor=coordinator_a, cause="test")
    assert result.changed == [] and result.locked == []
