"""The read API's adverse events and concomitant medication: scoped to the user's sites like
every endpoint, filtered by participant and site, answers matching the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.exports import test_safety_export
from tests.exports.test_api_contract import _json_schema, _parameters, _validate
from tests.exports.test_safety_export import (
    FREE_TEXT,
    RILUZOLE,
    _headache_answers,
    _medicate,
    _report,
)
from tests.factories import member
from trials.models import Role

pytestmark = pytest.mark.django_db

safety_study = test_safety_export.safety_study  # the export tests' fixture, shared

AE_PATH = "/api/v1/adverse-events/"
CONMED_PATH = "/api/v1/conmeds/"


def _api(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_an_investigator_reads_the_sae_with_its_assessment(safety_study, openapi):
    s = safety_study
    api = _api(s.study.investigator_a)
    response = api.get(reverse("api-adverse-events"))
    assert response.status_code == 200
    body = response.json()
    _validate(openapi, AE_PATH, 200, body)
    # Only ISF's events: THR's headache is not among them.
    assert body["count"] == 2
    sae = body["results"][0]
    assert (sae["study_id"], sae["site"], sae["visit_code"], sae["number"]) == (
        s.m06.participant.study_id,
        "ISF",
        "M06",
        1,
    )
    assert (sae["term_code"], sae["term_label"], sae["grade"], sae["serious"]) == (
        "meningitis",
        "Meningitis",
        3,
        True,
    )
    assert sae["sae_hospitalisation"] is True and sae["end_date"] is None
    assert sae["onset_precision"] == "month" and sae["verbatim_term"] == FREE_TEXT[0]
    [assessment] = sae["assessments"]
    assert (assessment["related_procedure"], assessment["investigator"]) == (
        "probable",
        s.study.investigator_a.username,
    )
    headache = body["results"][1]
    assert headache["related_cells"] is None  # a null the schema must allow
    assert headache["missing_reasons"] == {"related_cells": "unknown"}
    assert headache["assessments"] == []


def test_another_sites_user_sees_none_of_it(safety_study):
    s = safety_study
    outsider = member(Role.COORDINATOR, s.study.site_b, "coord_b")
    api = _api(outsider)
    events = api.get(reverse("api-adverse-events")).json()["results"]
    assert {e["site"] for e in events} == {"THR"}
    assert api.get(reverse("api-conmeds")).json()["count"] == 0
    isf_participant = s.m06.participant_id
    for name in ("api-adverse-events", "api-conmeds"):
        assert api.get(reverse(name) + f"?participant={isf_participant}").status_code == 404
        assert api.get(reverse(name) + "?site=ISF").status_code == 404
    # A user with no role at all gets an empty list, not an error.
    nobody = member(Role.COORDINATOR, s.study.site_b, "coord_b2")
    nobody.memberships.update(is_active=False)
    assert _api(nobody).get(reverse("api-adverse-events")).json()["count"] == 0


def test_filters_by_participant_and_site_and_bad_input_answers_400(safety_study, openapi):
    s = safety_study
    user = s.study.investigator_a
    user.memberships.create(site=s.study.site_b, role=Role.INVESTIGATOR)
    api = _api(user)
    third = s.study.participants[2]
    answers = [
        (AE_PATH, reverse("api-adverse-events") + f"?participant={third.pk}", 200),
        (AE_PATH, reverse("api-adverse-events") + "?site=THR", 200),
        (AE_PATH, reverse("api-adverse-events") + "?participant=x1", 400),
        (AE_PATH, reverse("api-adverse-events") + "?site=NOPE", 404),
        (CONMED_PATH, reverse("api-conmeds") + f"?participant={s.m06.participant_id}", 200),
        (CONMED_PATH, reverse("api-conmeds") + "?participant=-3", 400),
        (CONMED_PATH, reverse("api-conmeds") + "?page=9", 404),
    ]
    for path, url, status in answers:
        response = api.get(url)
        assert response.status_code == status, (url, response.content)
        _validate(openapi, path, status, response.json())
    by_participant = api.get(reverse("api-adverse-events") + f"?participant={third.pk}").json()
    assert [e["participant"] for e in by_participant["results"]] == [third.pk]
    by_site = api.get(reverse("api-adverse-events") + "?site=THR").json()
    assert [e["site"] for e in by_site["results"]] == ["THR"]
    both = api.get(reverse("api-adverse-events") + f"?site=ISF&participant={third.pk}").json()
    assert both["count"] == 0
    meds = api.get(reverse("api-conmeds")).json()["results"]
    assert [(m["medication"], m["name"]) for m in meds] == [
        ("riluzole", "Riluzole"),
        ("other", FREE_TEXT[2]),
    ]
    assert meds[0]["stop_date"] is None and meds[0]["dose"] == "50.000"


def test_the_schema_declares_the_filters_and_nullable_fields(openapi):
    for path in (AE_PATH, CONMED_PATH):
        assert _parameters(openapi, path) == {
            "page": "integer",
            "participant": "integer",
            "site": "string",
        }
        assert {"200", "400", "404"} <= set(openapi["paths"][path]["get"]["responses"])
    schemas = openapi["components"]["schemas"]
    event = schemas["AdverseEvent"]["properties"]
    for name in ("grade", "serious", "related_cells", "onset_date", "end_date", "term_code"):
        assert event[name].get("nullable"), name
    assert event["grade"]["type"] == "integer" and not event["ongoing"].get("nullable")
    assert event["assessments"]["readOnly"]
    medication = schemas["ConcomitantMedication"]["properties"]
    for name in ("medication", "dose", "stop_date", "indication"):
        assert medication[name].get("nullable"), name
    assert _json_schema(event["grade"])["anyOf"][1] == {"type": "null"}


def test_a_page_of_events_costs_the_same_queries_at_any_length(
    safety_study, django_assert_num_queries
):
    s = safety_study
    api = _api(s.study.investigator_a)
    url = reverse("api-adverse-events")
    api.get(url)  # the token's first use
    with CaptureQueriesContext(connection) as first:
        api.get(url)
        api.get(reverse("api-conmeds"))
    m06 = s.m06
    for day in range(4):
        _report(
            s.study.investigator_a,
            m06,
            {
                **_headache_answers(m06),
                "onset_date": m06.actual_date - timedelta(days=5 + day),
                "end_date": m06.actual_date - timedelta(days=4 + day),
            },
        )
        _medicate(s.study.investigator_a, m06, RILUZOLE)
    with django_assert_num_queries(len(first)):
        assert api.get(url).json()["count"] == 6
        assert api.get(reverse("api-conmeds")).json()["count"] == 6
