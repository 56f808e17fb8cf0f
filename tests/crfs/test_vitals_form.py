"""A coordinator enters vital signs and weight: BMI from the measured or the demographics
height, weight change from the baseline weight, and refusals of implausible values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crfs.vitals import scoring as vitals
from crfs.vitals.models import Vitals

pytestmark = pytest.mark.django_db

NORMAL = {
    "systolic_bp": 118,
    "diastolic_bp": 76,
    "heart_rate": 72,
    "respiratory_rate": 16,
    "temperature_c": "36.8",
    "spo2_percent": 97,
}


def url(visit):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, "vitals"])


def post(client, visit, answers, *, version=0, complete=False, reason="", missing=None):
    data = {"version": version, "reason_for_change": reason}
    if complete:
        data["mark_complete"] = "on"
    data.update({k: v for k, v in answers.items() if v is not None})
    data.update({f"{k}__missing": v for k, v in (missing or {}).items()})
    return client.post(url(visit), data)


def test_partial_save_then_completion_with_bmi_and_weight_change(
    client_for, coordinator_a, tx_participant, m06
):
    client = client_for(coordinator_a)
    baseline = tx_participant.visits.get(code="BL")
    page = client.get(url(baseline))
    assert page.status_code == 200 and "165.0 cm" in page.text  # demographics height shown
    answers = NORMAL | {"weight_kg": "60.0", "height_cm": "165.0"}
    assert post(client, baseline, answers, complete=True).status_code == 302
    at_baseline = Vitals.objects.get(visit=baseline)
    assert at_baseline.bmi == Decimal("22.0") and at_baseline.bmi_category == "normal"
    assert at_baseline.weight_change_percent is None  # the baseline itself

    assert post(client, m06, {"weight_kg": "57.0"}).status_code == 302
    record = Vitals.objects.get(visit=m06)
    assert record.status == "in_progress"
    assert record.weight_change_percent == pytest.approx(-5.0)
    assert record.baseline_weight_kg == Decimal("60.0")
    # No height at follow-up: BMI uses the demographics height, and says so.
    assert (record.height_cm_used, record.height_source) == (Decimal("165.0"), "demographics")
    assert float(record.bmi) == pytest.approx(round(vitals.bmi(57, 165).value, 1))

    assert (
        post(client, m06, NORMAL | {"weight_kg": "57.0"}, version=1, complete=True).status_code
        == 302
    )
    record.refresh_from_db()
    assert record.status == "complete" and record.height_cm is None
    shown = client.get(url(m06)).text
    assert "-5.0" in shown and "From the demographics" in shown


def test_measured_height_is_used_when_given(client_for, coordinator_a, m06):
    answers = NORMAL | {"weight_kg": "80.0", "height_cm": "160.0"}
    assert post(client_for(coordinator_a), m06, answers, complete=True).status_code == 302
    record = Vitals.objects.get(visit=m06)
    assert record.height_source == "measured" and record.bmi == Decimal("31.3")
    assert record.bmi_category == "obese"
    assert record.weight_change_percent is None  # no baseline weight recorded


def test_height_is_required_at_baseline_but_not_at_follow_up(
    client_for, coordinator_a, tx_participant, m06
):
    client = client_for(coordinator_a)
    baseline = tx_participant.visits.get(code="BL")
    refused = post(client, baseline, NORMAL | {"weight_kg": "60.0"}, complete=True)
    assert refused.status_code == 400
    assert "Answer this, or give a reason it is missing." in refused.text
    assert not Vitals.objects.filter(visit=baseline).exists()
    ok = post(
        client,
        baseline,
        NORMAL | {"weight_kg": "60.0"},
        complete=True,
        missing={"height_cm": "not_done"},
    )
    assert ok.status_code == 302
    assert post(client, m06, NORMAL | {"weight_kg": "60.0"}, complete=True).status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", "300", "outside the plausible range 20-250 kg"),
        ("weight_kg", "12", "outside the plausible range 20-250 kg"),
        ("weight_kg", "60.25", "no more than 1 decimal place"),
        ("height_cm", "90", "outside the plausible range 100-230 cm"),
        ("systolic_bp", "300", "outside the plausible range 60-260 mmHg"),
        ("diastolic_bp", "130", "must be below the systolic"),
        ("heart_rate", "8", "outside the plausible range 30-220 /min"),
        ("respiratory_rate", "90", "outside the plausible range 6-60 /min"),
        ("temperature_c", "45.0", "outside the plausible range 34-42 °C"),
        ("spo2_percent", "101", "outside the plausible range 50-100 %"),
        ("spo2_percent", "ninety", "Enter a whole number"),
    ],
)
def test_bad_input_answers_400_with_a_field_error_and_saves_nothing(
    client_for, coordinator_a, m06, field, value, message
):
    data = NORMAL | {"weight_kg": "60.0", "systolic_bp": 120} | {field: value}
    response = post(client_for(coordinator_a), m06, data)
    assert response.status_code == 400
    assert message in response.text
    at_field = response.text.split(f'id="item-{field}"')[1][:2500]
    assert message.split(" ")[0] in at_field and "invalid-feedback" in at_field
    assert not Vitals.objects.exists()


def test_the_service_refuses_implausible_values_too(coordinator_a, m06):
    from django.core.exceptions import ValidationError

    from crfs.entry import save_form

    with pytest.raises(ValidationError) as refused:
        save_form(
            record_class=Vitals,
            visit=m06,
            user=coordinator_a,
            answers={"weight_kg": Decimal("400.0")},
            expected_version=0,
            complete=False,
        )
    assert "weight_kg" in refused.value.message_dict
    assert not Vitals.objects.exists()


def test_vitals_expected_at_every_visit(tx_participant):
    codes = {v.code for v in tx_participant.visits.all() if "vitals" in v.expected_forms()}
    assert codes == {"SCR", "BL", "TX", "M06", "M12", "M18", "M24"}


def test_entry_page_queries_are_constant(
    client_for, coordinator_a, m06, django_assert_max_num_queries
):
    client = client_for(coordinator_a)
    page = url(m06)
    # As the FVC page, with the navbar's unread-notification count and the lock check
    # (consent: with the visit).
    with django_assert_max_num_queries(11):
        assert client.get(page).status_code == 200
    assert post(client, m06, NORMAL | {"weight_kg": "60.0"}, complete=True).status_code == 302
    with django_assert_max_num_queries(12):  # + the saved record's queries, as the FVC page
        assert client.get(page).status_code == 200


def test_correcting_the_baseline_weight_updates_the_weight_change_already_stored_later(
    client_for, coordinator_a, tx_participant, m06
):
    client = client_for(coordinator_a)
    baseline = tx_participant.visits.get(code="BL")
    answers = NORMAL | {"weight_kg": "60.0", "height_cm": "165.0"}
    assert post(client, baseline, answers, complete=True).status_code == 302
    assert post(client, m06, NORMAL | {"weight_kg": "57.0"}, complete=True).status_code == 302
    later = Vitals.objects.get(visit=m06)
    assert later.weight_change_percent == pytest.approx(-5.0)

    # The baseline weight was mistyped: 61.0, not 60.0 (a complete form: with a reason).
    corrected = answers | {"weight_kg": "61.0"}
    response = post(
        client, baseline, corrected, version=1, complete=True, reason="transcription error"
    )
    assert response.status_code == 302

    later.refresh_from_db()
    assert later.baseline_weight_kg == Decimal("61.0")
    assert later.weight_change_percent == pytest.approx(round((57 - 61) / 61 * 100, 2))
    assert (later.version, later.status) == (1, "complete")  # answers and status untouched
