"""Registration answers every field at once: the page's own checks and the service's (dates
against each other, plausible ranges, the national ID already registered) in one round, and a
measurement out of range is told its plausible range, not the column's digit limits."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from participants import services
from participants.models import Participant
from tests.factories import register
from tests.participants.test_pages import REGISTRATION

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


def _post(client, trial, **changes):
    return client.post(
        reverse("participant-register", args=["ISF"]), REGISTRATION | {"trial": trial.pk} | changes
    )


def test_every_field_in_error_is_reported_in_the_first_round(
    frozen, client_for, coordinator_a, site_a, trial
):
    earlier = register(coordinator_a, site_a, trial, screened_on=TODAY, national_id="1234567890")
    response = _post(
        client_for(coordinator_a),
        trial,
        screened_on="2026-03-11",  # the service's check: in the future at the site
        email="not-an-address",  # the form's own checks
        sex="unknown",
        weight_kg="9999",
        height_cm="2",  # the model's validators
        onset="2027-01",  # the service's check: after screening (and so after diagnosis)
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {
        "screened_on",
        "email",
        "sex",
        "weight_kg",
        "height_cm",
        "onset",
        "diagnosis_date",
        "national_id",
    }
    assert errors["screened_on"] == ["This date is in the future at the site."]
    assert errors["height_cm"] == ["Height must be between 100 and 230 cm."]
    assert errors["weight_kg"] == ["Weight must be between 25 and 250 kg."]
    assert errors["onset"] == ["Symptom onset cannot be after the screening date."]
    assert earlier.screening_number in errors["national_id"][0]
    link = reverse("participant-detail", args=["ISF", earlier.pk])
    assert f'<a href="{link}">' in response.text
    assert "digits before the decimal point" not in response.text
    assert Participant.objects.count() == 1


def test_the_services_checks_answer_together_when_the_form_itself_is_valid(
    frozen, client_for, coordinator_a, site_a, trial
):
    response = _post(
        client_for(coordinator_a),
        trial,
        screened_on="2026-03-11",
        height_cm="2",
        diagnosis_date="2024-01-01",  # before the onset (2025-03): the model's clean()
        date_of_birth="2026-03-12",  # after screening, and after the onset
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {
        "screened_on",
        "height_cm",
        "diagnosis_date",
        "date_of_birth",
        "onset",
    }
    assert not Participant.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("height_cm", "2", "Height must be between 100 and 230 cm."),
        ("height_cm", "99999", "Height must be between 100 and 230 cm."),
        ("weight_kg", "9999", "Weight must be between 25 and 250 kg."),
        ("weight_kg", "-1", "Weight must be between 25 and 250 kg."),
        ("weight_kg", "12345678901234567890123456789", "Weight must be between 25 and 250 kg."),
    ],
)
def test_a_measurement_out_of_range_is_told_its_plausible_range(
    frozen, client_for, coordinator_a, site_a, trial, field, value, message
):
    response = _post(client_for(coordinator_a), trial, **{field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]


def test_the_service_refuses_with_every_problem_at_once(frozen, coordinator_a, site_a, trial):
    with pytest.raises(services.RegistrationRefused) as refused:
        services.register_participant(
            actor=coordinator_a,
            site=site_a,
            trial=trial,
            screened_on=TODAY + timedelta(days=1),
            identity={"full_name": "Test Person", "national_id": "x", "phone": "12"},
            demographics={
                "date_of_birth": date(1970, 1, 15),
                "sex": "female",
                "height_cm": Decimal("2.0"),
                "weight_kg": Decimal("60.0"),
                "ethnicity": "iranian",
            },
            als_history={
                "onset_date": date(2025, 3, 1),
                "onset_precision": "month",
                "onset_region": "lower_limb",
                "diagnosis_date": date(2024, 1, 1),
                "el_escorial": "probable",
                "family_history": "no",
                "riluzole": True,
                "edaravone": False,
            },
        )
    assert set(refused.value.message_dict) == {
        "screened_on",
        "national_id",
        "phone",
        "height_cm",
        "diagnosis_date",
    }
    assert not Participant.objects.exists()


def test_height_and_weight_typed_on_a_persian_keyboard_are_read(
    frozen, client_for, coordinator_a, site_a, trial
):
    """162.5 in Persian digits and decimal separator is 162.5; the inputs are text with a
    decimal keyboard, as a browser's number input would submit nothing for it."""
    client = client_for(coordinator_a)
    page = client.get(reverse("participant-register", args=["ISF"])).content.decode()
    assert 'name="height_cm"' in page and 'inputmode="decimal"' in page
    response = _post(
        client,
        trial,
        height_cm="\u06f1\u06f6\u06f2\u066b\u06f5",
        weight_kg="\u06f5\u06f8\u066b\u06f4",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    demographics = Participant.objects.get().demographics
    assert (demographics.height_cm, demographics.weight_kg) == (Decimal("162.5"), Decimal("58.4"))
