"""Hostile input to the read API (issue 20).

1. Every API filter: each operation of /api/schema/ gets hostile values for each parameter the
   description declares, plus the ones DRF reads without declaring (page) and some it ignores:
   never a 500, and a refusal is a JSON error (`detail` or a field error).
2. Schema-driven: schemathesis reads /api/schema/ from the Django app in-process (WSGI, the
   test's database), generates requests for every operation (a bounded number each) and checks
   every answer: no server error, and the status code, content type and body as the description
   says.

Both signed in with an API token, as investigators' scripts are.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
import yaml
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import ignored_auth

from tests.factories import member
from tests.security.strategies import FUZZ, field_value, hostile_value
from trials.models import Role

pytestmark = pytest.mark.django_db


# Parameters DRF reads though the description may not name them, and some it must ignore.
UNDECLARED = ["page", "page_size", "site", "participant", "format", "ordering", "search", "limit"]


@pytest.fixture
def api_user(m06, site_a):
    """An investigator of the site with a transplanted participant, a month-6 visit and an
    export, who has made an API token (as on the token page)."""
    from crfs import registry
    from exports.options import ExportOptions
    from exports.services import create_export_job

    investigator = member(Role.INVESTIGATOR, site_a, "inv_api")
    create_export_job(
        user=investigator,
        options=ExportOptions(
            forms=tuple(registry.entry_forms()),
            visits=("M06",),
            site_ids=(site_a.pk,),
            statuses=("transplanted",),
        ),
    )
    return investigator


@pytest.fixture
def wsgi_in_the_test_transaction():
    """The raw WSGI app closes the database connection at each request's start and end (the
    test client turns that off): off here too, so requests see the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(api_user):
    return Token.objects.create(user=api_user).key


def _schema(client, token) -> dict:
    response = client.get(reverse("api-schema"), HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_needs_a_login(client):
    assert client.get(reverse("api-schema")).status_code in (401, 403)


def test_hostile_filters_on_every_api_operation(client, token, m06):
    spec = _schema(client, token)
    ids = {"pk": m06.participant_id, "id": m06.participant_id}
    operations = [
        (path, [p["name"] for p in op.get("parameters", []) if p["in"] == "query"])
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if method == "get"
    ]
    assert len(operations) >= 10  # participants, visits, forms, every form's records, safety

    for path, declared in operations:
        url = path
        for name, value in ids.items():
            url = url.replace("{" + name + "}", str(value))

        @FUZZ
        @given(data=st.data())
        def hostile(data, url: str, declared: list[str]):
            params = {}
            for name in declared + UNDECLARED:
                value = data.draw(field_value([]))
                if value is not None:
                    params[name] = value
            if data.draw(st.booleans()):
                params[data.draw(hostile_value.filter(bool))] = data.draw(hostile_value)
            response = client.get(url, params, HTTP_AUTHORIZATION=f"Token {token}")
            assert response.status_code < 500, (url, params)
            if response.status_code >= 400 and "json" in response["Content-Type"]:
                assert json.loads(response.content), (url, params, response.status_code)
            elif response.status_code >= 400:  # a NUL byte: refused before DRF (plain text)
                assert response.status_code == 400 and "NUL" in response.text, (url, params)

        hostile(url=url, declared=declared)


def test_schemathesis_finds_no_failure_in_the_api(token, m06, wsgi_in_the_test_transaction):
    """Every operation of /api/schema/, a bounded number of generated requests each."""
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/", get_wsgi_application(), headers={"Authorization": f"Token {token}"}
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def call(case):
            response = case.call(headers={"Authorization": f"Token {token}"})
            # Signed in on purpose (the token above), so the "generated auth ignored" check,
            # which expects a refusal of the generated credentials, does not apply.
            case.validate_response(response, excluded_checks=[ignored_auth])

        call()


def test_the_participant_filter_is_described_as_a_positive_id(client, token):
    """Found by schemathesis: the description said `participant` is any integer, and the API
    refuses a negative one with a 400 (ST202, a valid request refused): described as >= 1."""
    spec = _schema(client, token)
    parameters = spec["paths"]["/api/v1/adverse-events/"]["get"]["parameters"]
    participant = next(p for p in parameters if p["name"] == "participant")
    assert participant["schema"] == {"type": "integer", "minimum": 1}
    response = client.get(
        reverse("api-adverse-events"), {"participant": "-3"}, HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 400
