"""participants.validation: full_clean's answers, without the queries that cannot fail."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from participants.models import (
    Consent,
    ContactAttempt,
    Demographics,
    Participant,
    ParticipantIdentity,
)
from participants.validation import validate
from tests.factories import consent, register
from visits.models import Transplantation

TODAY = date(2026, 3, 10)


@pytest.fixture
def participant(frozen, coordinator_a, site_a, trial):
    return register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=3))


def _attempt(**relation) -> ContactAttempt:
    return ContactAttempt(attempted_on=TODAY, method="phone", outcome="no_answer", **relation)


def test_a_related_instance_in_hand_is_not_looked_up_again(
    participant, coordinator_a, django_assert_num_queries
):
    with django_assert_num_queries(0):
        validate(_attempt(participant=participant, recorded_by=coordinator_a))


def test_a_raw_id_is_still_looked_up_and_a_missing_row_is_a_field_error(
    participant, coordinator_a, django_assert_num_queries
):
    missing = Participant.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    with django_assert_num_queries(2), pytest.raises(ValidationError) as refused:
        validate(_attempt(participant_id=missing, recorded_by_id=coordinator_a.pk))
    assert set(refused.value.message_dict) == {"participant"}


def test_field_errors_are_the_ones_full_clean_gives(participant):
    identity = ParticipantIdentity(
        participant_id=participant.pk, full_name="", phone="call me", national_id="?"
    )
    with pytest.raises(ValidationError) as ours:
        validate(identity)
    with pytest.raises(ValidationError) as djangos:
        identity.full_clean()
    assert ours.value.message_dict == djangos.value.message_dict
    assert {"full_name", "phone", "national_id", "participant"} <= set(ours.value.message_dict)


def test_only_what_the_caller_established_is_skipped(participant, coordinator_a):
    signed = consent(coordinator_a, participant)
    again = Consent(
        participant=participant,
        version=signed.version,
        signed_on=signed.signed_on,
        taken_by=coordinator_a,
        recorded_by=coordinator_a,
    )
    with pytest.raises(ValidationError) as duplicate:
        validate(again)
    assert NON_FIELD_ERRORS in duplicate.value.message_dict
    validate(again, established=("consent_once_per_version",))
    # The one-to-one of an existing participant is still checked unless established.
    with pytest.raises(ValidationError) as taken:
        validate(Demographics(participant=participant, **_demographics()))
    assert "participant" in taken.value.message_dict
    validate(Demographics(participant=participant, **_demographics()), established=("participant",))


def _demographics(**changes) -> dict:
    return {
        "date_of_birth": date(1970, 1, 15),
        "sex": "female",
        "height_cm": Decimal("165.0"),
        "weight_kg": Decimal("60.0"),
        "ethnicity": "iranian",
    } | changes


@pytest.mark.parametrize("model", [Demographics, Transplantation])
def test_checks_repeating_validators_name_real_check_constraints(model):
    checks = {c.name for c in model._meta.constraints if hasattr(c, "condition")}
    assert model.checks_repeating_validators <= checks


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
    with django_assert_num_queries(0):
        try:
            validate(demographics, established=("participant",))
            found = set()
        except ValidationError as error:
            found = set(error.message_dict)
    assert found == errors
    if not errors:  # and the database agrees with the checks left out
        demographics.save(force_insert=True)
