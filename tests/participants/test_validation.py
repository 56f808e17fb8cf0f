"""What the services leave out of `full_clean` loses no error a person could be shown: the
held relations and constraints they exclude are ones they have established, and the check
constraints they skip repeat field validators."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from participants import services
from participants.models import Consent, ConsentVersion, Demographics
from tests.factories import CONSENT_VERSION, consent, consent_version, register
from visits.models import Transplantation

TODAY = date(2026, 3, 10)


@pytest.fixture
def participant(frozen, coordinator_a, site_a, trial):
    return register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=3))


def _demographics(**changes) -> dict:
    return {
        "date_of_birth": date(1970, 1, 15),
        "sex": "female",
        "height_cm": Decimal("165.0"),
        "weight_kg": Decimal("60.0"),
        "ethnicity": "iranian",
    } | changes


@pytest.mark.parametrize("model", [Demographics, Transplantation])
def test_every_constraint_skipped_in_python_repeats_a_validator(model):
    # The services validate these models with validate_constraints=False: a constraint
    # added later without a validator behind it must be noticed here.
    assert {c.name for c in model._meta.constraints} == model.checks_repeating_validators


@pytest.mark.parametrize(
    ("height", "weight", "errors"),
    [
        ("100.0", "25.0", set()),  # the bounds themselves pass the validators and the checks
        ("230.0", "250.0", set()),
        ("99.9", "60.0", {"height_cm"}),
        ("165.0", "250.1", {"weight_kg"}),
    ],
)
def test_range_checks_answer_as_field_errors_from_the_validators(
    participant, height, weight, errors, django_assert_num_queries
):
    participant.demographics.delete()
    demographics = Demographics(
        participant=participant,
        **_demographics(height_cm=Decimal(height), weight_kg=Decimal(weight)),
    )
    with django_assert_num_queries(0):  # as the registration validates it
        try:
            demographics.full_clean(exclude=("participant",), validate_constraints=False)
            found = set()
        except ValidationError as error:
            found = set(error.message_dict)
    assert found == errors
    if not errors:  # and the database agrees with the checks left out
        demographics.save(force_insert=True)


def test_registration_gives_the_field_error_of_a_value_out_of_range(
    frozen, coordinator_a, site_a, trial
):
    with pytest.raises(ValidationError) as refused:
        services.register_participant(
            actor=coordinator_a,
            site=site_a,
            trial=trial,
            screened_on=TODAY,
            identity={
                "full_name": "Test Person",
                "national_id": "1234567890",
                "phone": "+98 31 1234 5678",
            },
            demographics=_demographics(height_cm=Decimal("99.9")),
            als_history={
                "onset_date": date(2025, 3, 1),
                "onset_precision": "month",
                "onset_region": "lower_limb",
                "diagnosis_date": TODAY - timedelta(days=30),
                "el_escorial": "probable",
                "family_history": "no",
                "riluzole": True,
                "edaravone": False,
            },
        )
    assert "height_cm" in refused.value.message_dict


def test_a_second_signature_of_a_version_is_refused_with_the_services_message(
    participant, coordinator_a
):
    signed = consent(coordinator_a, participant)
    with pytest.raises(ValidationError) as refused:
        consent(coordinator_a, participant, on=signed.signed_on)
    assert refused.value.message_dict == {
        "version": ["The participant has already signed this version."]
    }
    assert Consent.objects.filter(participant=participant).count() == 1


def test_a_consent_version_number_used_twice_is_a_validation_error(trial, frozen):
    # Nothing is excluded here: the trial is in hand, but excluding it would skip the
    # (trial, version) uniqueness, which no service check establishes.
    version = consent_version(trial)
    with pytest.raises(ValidationError) as refused:
        services.add_consent_version(
            trial=trial,
            version=CONSENT_VERSION,
            approval_date=version.approval_date,
            active_from=version.active_from + timedelta(days=1),
            retire_previous=False,
        )
    assert refused.value.messages
    assert ConsentVersion.objects.filter(trial=trial).count() == 1
