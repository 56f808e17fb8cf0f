"""Screening through the services: consent gating, the eligibility checklist and its derived
criteria, screen failure, the investigator's override and enrolment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crfs.alsfrs_r.models import AlsfrsR
from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import Decision
from crfs.fvc.models import Fvc
from crfs.screening import services as screening
from participants import services as participant_services
from participants.choices import ParticipantStatus as S
from tests.factories import (
    ALSFRS_NORMAL,
    PASSWORD,
    SCREENING_FVC,
    checklist_answers,
    consent,
    consent_version,
    investigator_of,
    register,
    save_crf,
    screening_forms,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


@pytest.fixture
def screened(frozen, coordinator_a, site_a, trial):
    """Registered 5 days ago and consented: ready for the screening forms."""
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))
    consent(coordinator_a, participant)
    return participant


def scr(participant):
    return participant.visits.get(code="SCR")


# --- Consent --------------------------------------------------------------------


def test_no_study_form_is_saved_before_consent(frozen, coordinator_a, site_a, trial):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY)
    with pytest.raises(ValidationError) as refused:
        save_crf(coordinator_a, scr(participant), AlsfrsR, ALSFRS_NORMAL)
    assert not hasattr(refused.value, "error_dict")  # field-less: about the whole form
    assert "Informed consent is not recorded" in refused.value.messages[0]
    assert not AlsfrsR.objects.exists()

    consent(coordinator_a, participant)
    record = save_crf(coordinator_a, scr(participant), AlsfrsR, ALSFRS_NORMAL)
    assert record.total == 48


def test_consent_rules(frozen, coordinator_a, coordinator_b, site_a, trial):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=2))
    version = consent_version(trial)
    kwargs = {"actor": coordinator_a, "participant": participant, "version": version}
    with pytest.raises(ValidationError) as future:
        participant_services.record_consent(
            **kwargs, signed_on=TODAY + timedelta(days=1), taken_by=coordinator_a
        )
    assert "future" in future.value.message_dict["signed_on"][0]
    with pytest.raises(ValidationError) as outsider:
        participant_services.record_consent(**kwargs, signed_on=TODAY, taken_by=coordinator_b)
    assert "taken_by" in outsider.value.message_dict
    with pytest.raises(ValidationError) as before_version:
        participant_services.record_consent(
            **kwargs, signed_on=date(2013, 12, 31), taken_by=coordinator_a
        )
    assert "not in use" in before_version.value.message_dict["signed_on"][0]
    participant_services.record_consent(**kwargs, signed_on=TODAY, taken_by=coordinator_a)
    with pytest.raises(ValidationError) as twice:
        participant_services.record_consent(**kwargs, signed_on=TODAY, taken_by=coordinator_a)
    assert "already signed" in twice.value.message_dict["version"][0]


def test_a_new_consent_version_retires_the_old_and_blocks_enrolment_until_re_consent(
    screened, coordinator_a, trial
):
    assert screening_forms(coordinator_a, screened).decision == Decision.ELIGIBLE
    new = participant_services.add_consent_version(
        trial=trial, version="2.0", approval_date=TODAY - timedelta(days=10), active_from=TODAY
    )
    old = consent_version(trial)
    assert old.active_to == TODAY - timedelta(days=1)
    with pytest.raises(ValidationError, match=r"version 2\.0"):
        participant_services.enrol_participant(
            actor=coordinator_a, participant=screened, enrolled_on=TODAY
        )
    participant_services.record_consent(
        actor=coordinator_a,
        participant=screened,
        version=new,
        signed_on=TODAY,
        taken_by=coordinator_a,
    )
    enrolled = participant_services.enrol_participant(
        actor=coordinator_a, participant=screened, enrolled_on=TODAY
    )
    assert enrolled.status == S.ENROLLED


# --- The checklist and its derived criteria ---------------------------------------


def test_an_eligible_checklist_shows_where_each_derived_answer_comes_from(screened, coordinator_a):
    record = screening_forms(coordinator_a, screened)
    assert record.outcomes["alsfrs_swallowing"] == "pass"
    assert record.alsfrs_swallowing == 4 and record.alsfrs_cutting_item == "5a"
    assert record.source_text("alsfrs_walking") == "Screening ALSFRS-R item 8 = 4"
    assert record.source_text("onset_under_3_years") == (
        "ALS history: onset 2025-03; screening 2026-03-05"
    )
    assert record.source_text("consent") == "Version 1.0 signed 2026-03-05"
    spirometry = Fvc.objects.get(visit=scr(screened))
    assert record.outcomes["fvc_50"] == "pass"
    assert record.fvc_percent_predicted == spirometry.percent_predicted == 82.79
    assert record.source_text("fvc_50") == (
        "Screening spirometry: 82.8 % predicted (GLI Global 2022)"
    )
    assert (record.decision, record.failed_criteria, record.unknown_criteria) == (
        Decision.ELIGIBLE,
        [],
        [],
    )


def test_without_the_screening_spirometry_the_fvc_criterion_is_unknown(screened, coordinator_a):
    record = screening_forms(coordinator_a, screened, fvc=None)
    assert record.outcomes["fvc_50"] == "unknown"
    assert record.source_text("fvc_50") == "unknown — FVC not entered"
    assert (record.decision, record.unknown_criteria) == (Decision.INCOMPLETE, ["fvc_50"])


def enter_screening_fvc(actor, visit, best: str) -> Fvc:
    """The screening spirometry through the entry service: three acceptable, repeatable
    manoeuvres whose best is `best` litres; % predicted is what the form computes."""
    litres = (best, f"{float(best) - 0.03:.2f}", f"{float(best) - 0.05:.2f}")
    answers = {"measure": "FVC", "position": "sitting"}
    for n, value in enumerate(litres, start=1):
        answers |= {f"trial_{n}_litres": Decimal(value), f"trial_{n}_acceptable": True}
    return save_crf(actor, visit, Fvc, answers)


# Female, 165.0 cm, 56.1 years at screening (GLI Global 2022): predicted FVC 3.20 L.
@pytest.mark.parametrize(
    ("best", "percent", "outcome"), [("1.61", 50.30, "pass"), ("1.60", 49.99, "fail")]
)
def test_fvc_criterion_comes_from_the_screening_spirometry(
    screened, coordinator_a, best, percent, outcome
):
    spirometry = enter_screening_fvc(coordinator_a, scr(screened), best)
    assert spirometry.percent_predicted == percent
    record = screening_forms(coordinator_a, screened, fvc=None)
    assert record.outcomes["fvc_50"] == outcome
    assert record.fvc_percent_predicted == percent
    assert record.fvc_equation == "GLI Global 2022"


def _registered_with(coordinator, site, trial, **history):
    participant = register(
        coordinator, site, trial, screened_on=TODAY - timedelta(days=5), **history
    )
    consent(coordinator, participant)
    return participant


# (criterion, ALS history at registration, ALSFRS-R changes, checklist changes)
FAILING_ALONE = [
    ("sporadic", {"family_history": "yes"}, {}, {}),
    ("spinal_onset", {"onset_region": "bulbar"}, {}, {}),
    (
        "onset_under_3_years",
        {"onset_date": date(2022, 1, 1), "onset_precision": "year"},
        {},
        {},
    ),
    ("progression_6_months", {}, {}, {"progression_6_months": False}),
    ("alsfrs_swallowing", {}, {"q3_swallowing": 2}, {}),
    ("alsfrs_cutting", {}, {"q5a_cutting_no_gastrostomy": 1}, {}),
    (
        "alsfrs_cutting",
        {},
        {"q5a_cutting_no_gastrostomy": None, "q5b_cutting_gastrostomy": 1},
        {},
    ),
    ("alsfrs_walking", {}, {"q8_walking": 1}, {}),
    ("polysomnography", {}, {}, {"polysomnography_result": "abnormal"}),
    ("pregnancy_lactation", {}, {}, {"ex_pregnancy_lactation": True}),
    ("vascular_disease", {}, {}, {"ex_vascular_disease": True}),
    ("diabetes", {}, {}, {"ex_diabetes": True}),
    ("systemic_disease", {}, {}, {"ex_systemic_disease": True}),
    ("recent_hospitalisation", {}, {}, {"ex_recent_hospitalisation": True}),
    ("short_survival", {}, {}, {"ex_short_survival": True}),
    ("cell_culture_hypersensitivity", {}, {}, {"ex_cell_culture_hypersensitivity": True}),
]


@pytest.mark.parametrize(("code", "history", "alsfrs", "answers"), FAILING_ALONE)
def test_each_criterion_failing_alone_gives_a_screen_failure_naming_it(
    frozen, coordinator_a, site_a, trial, code, history, alsfrs, answers
):
    participant = _registered_with(coordinator_a, site_a, trial, **history)
    record = screening_forms(coordinator_a, participant, alsfrs=alsfrs, **answers)
    assert (record.decision, record.failed_criteria) == (Decision.SCREEN_FAILURE, [code])
    with pytest.raises(ValidationError, match="not eligible"):
        participant_services.enrol_participant(
            actor=coordinator_a, participant=participant, enrolled_on=TODAY
        )
    failed = screening.record_screen_failure(
        actor=coordinator_a, participant=participant, effective_date=TODAY
    )
    assert failed.status == S.SCREEN_FAILED and failed.exited_on == TODAY
    label = str(record.failed_labels()[0])
    assert failed.status_changes.last().reason == f"Screen failure: {label}"


def test_a_corrected_alsfrs_r_item_flips_eligibility_with_an_audit_entry(screened, coordinator_a):
    record = screening_forms(coordinator_a, screened, alsfrs={"q3_swallowing": 2})
    assert record.failed_criteria == ["alsfrs_swallowing"]
    version = record.version

    save_crf(
        coordinator_a,
        scr(screened),
        AlsfrsR,
        ALSFRS_NORMAL | {"q3_swallowing": 3},
        reason="Item 3 misread from the source",
    )
    record.refresh_from_db()
    assert record.failed_criteria == [] and record.alsfrs_swallowing == 3
    assert record.outcomes["alsfrs_swallowing"] == "pass"
    assert record.version == version + 1
    event = record.events.order_by("pgh_id").last()
    assert event.alsfrs_swallowing == 3
    assert event.pgh_context["reason"] == (
        "eligibility re-derived: alsfrs_r saved (Item 3 misread from the source)"
    )
    assert event.pgh_context["actor_id"] == coordinator_a.pk

    # An unrelated correction (item 1) changes no criterion: no new checklist version.
    save_crf(
        coordinator_a,
        scr(screened),
        AlsfrsR,
        ALSFRS_NORMAL | {"q3_swallowing": 3, "q1_speech": 3},
        reason="Speech item corrected",
    )
    record.refresh_from_db()
    assert record.version == version + 1


def test_checklist_completion_needs_every_recorded_answer(screened, coordinator_a):
    answers = checklist_answers(screened)
    del answers["ex_diabetes"]
    with pytest.raises(ValidationError) as refused:
        save_crf(coordinator_a, scr(screened), Eligibility, answers)
    assert "ex_diabetes" in refused.value.message_dict
    assert not Eligibility.objects.exists()


# --- Override and enrolment ------------------------------------------------------------


def test_enrolment_needs_consent_and_a_complete_eligible_checklist(
    frozen, coordinator_a, site_a, trial
):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))

    def enrol():
        return participant_services.enrol_participant(
            actor=coordinator_a, participant=participant, enrolled_on=TODAY
        )

    with pytest.raises(ValidationError, match="Informed consent is not recorded"):
        enrol()
    consent(coordinator_a, participant)
    with pytest.raises(ValidationError, match="checklist of the screening visit is not complete"):
        enrol()
    save_crf(coordinator_a, scr(participant), AlsfrsR, ALSFRS_NORMAL)
    save_crf(
        coordinator_a,
        scr(participant),
        Eligibility,
        checklist_answers(participant),
        complete=False,
    )
    with pytest.raises(ValidationError, match="not complete"):
        enrol()
    save_crf(coordinator_a, scr(participant), Eligibility, checklist_answers(participant))
    with pytest.raises(ValidationError, match="FVC ≥ 50 % of predicted"):
        enrol()  # the spirometry is not entered yet: the checklist is incomplete
    participant.refresh_from_db()
    assert participant.status == S.SCREENING and participant.study_id is None

    # Entering the screening FVC re-derives the checklist, which is now eligible.
    save_crf(coordinator_a, scr(participant), Fvc, SCREENING_FVC)
    assert Eligibility.objects.get(visit__participant=participant).decision == Decision.ELIGIBLE
    enrolled = enrol()
    assert enrolled.status == S.ENROLLED and enrolled.study_id


def test_override_needs_an_investigator_a_reason_and_the_password(screened, coordinator_a):
    screening_forms(coordinator_a, screened, alsfrs={"q8_walking": 1})
    investigator = investigator_of(screened.site)
    with pytest.raises(PermissionDenied):
        screening.override_eligibility(
            actor=coordinator_a, participant=screened, reason="x", password=PASSWORD
        )
    with pytest.raises(ValidationError) as refused:
        screening.override_eligibility(
            actor=investigator, participant=screened, reason="  ", password="wrong"
        )
    assert set(refused.value.message_dict) == {"reason", "password"}
    record = Eligibility.objects.get()
    assert not hasattr(record, "override") or record.current_override() is None

    override = screening.override_eligibility(
        actor=investigator,
        participant=screened,
        reason="Walking limited by a recent ankle fracture, not by ALS",
        password=PASSWORD,
    )
    assert set(override.criteria) >= {"alsfrs_walking"}
    event = override.events.last()
    assert event.pgh_context["reason"].startswith("eligibility override: Walking")
    enrolled = participant_services.enrol_participant(
        actor=coordinator_a, participant=screened, enrolled_on=TODAY
    )
    assert enrolled.status == S.ENROLLED and enrolled.study_id


def test_an_override_stops_covering_when_another_criterion_fails(screened, coordinator_a):
    screening_forms(coordinator_a, screened, alsfrs={"q8_walking": 1})
    screening.override_eligibility(
        actor=investigator_of(screened.site),
        participant=screened,
        reason="Ankle fracture",
        password=PASSWORD,
    )
    save_crf(
        coordinator_a,
        scr(screened),
        AlsfrsR,
        ALSFRS_NORMAL | {"q8_walking": 1, "q3_swallowing": 1},
        reason="Swallowing re-assessed",
    )
    record = Eligibility.objects.get()
    assert record.current_override() is None
    with pytest.raises(ValidationError, match="not eligible"):
        participant_services.enrol_participant(
            actor=coordinator_a, participant=screened, enrolled_on=TODAY
        )


def test_nothing_to_override_when_eligible_and_no_screen_failure_when_not_failed(
    screened, coordinator_a
):
    screening_forms(coordinator_a, screened)
    with pytest.raises(ValidationError, match="no failed criterion"):
        screening.record_screen_failure(
            actor=coordinator_a, participant=screened, effective_date=TODAY
        )
