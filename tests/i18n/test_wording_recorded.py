"""A saved instrument records the wording its answers were given in (issue 16: validated
wording "with its source and version recorded"): the validated translation's source and
version, or the published English original, in the audit event of the saved version."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from crfs.fvc.models import Fvc
from tests.i18n.test_instrument_wording import ALSFRS_R_FILE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    yield
    translation.deactivate()


def post(client, visit, form_code, data, language):
    p = visit.participant
    response = client.post(
        reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code]),
        data,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302, response.context["form"].errors
    return response


def last_context(model, visit) -> dict:
    record = model.objects.get(visit=visit)
    event = model.pgh_event_model.objects.filter(pgh_obj_id=record.pk).order_by("pgh_id").last()
    return event.pgh_context


def test_each_saved_version_records_the_wording_it_was_answered_in(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    post(client, m06, "alsfrs_r", {"version": 0, FIELD_BY_CODE["1"]: 4}, "fa")
    assert last_context(AlsfrsR, m06)["wording"] == {
        "instrument": "alsfrs_r",
        "language": "en",
        "version": "published original",
    }
    call_command("load_instrument_wording", str(ALSFRS_R_FILE), stdout=io.StringIO())
    post(client, m06, "alsfrs_r", {"version": 1, FIELD_BY_CODE["1"]: 3}, "fa")
    wording = last_context(AlsfrsR, m06)["wording"]
    assert wording["language"] == "fa" and wording["version"] == "test-fixture-1"
    assert wording["source"] == "Test fixture of the ALS eCRF tests (not a validated translation)"
    assert len(wording["sha256"]) == 64
    # An English page shows the published original, whatever translation is loaded.
    post(client, m06, "alsfrs_r", {"version": 2, FIELD_BY_CODE["1"]: 2}, "en")
    assert last_context(AlsfrsR, m06)["wording"]["version"] == "published original"


def test_a_form_that_is_no_instrument_records_no_wording(client_for, coordinator_a, m06):
    post(client_for(coordinator_a), m06, "fvc", {"version": 0, "trial_1_litres": "3.1"}, "en")
    assert "wording" not in last_context(Fvc, m06)
