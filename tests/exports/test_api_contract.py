"""The read API after a role is revoked, and its answers against its own OpenAPI schema
(nulls, filters, error bodies), checked with a JSON-schema validator."""

from __future__ import annotations

import pytest
from django.urls import reverse
from jsonschema import Draft7Validator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from exports import services, tasks
from exports.models import ExportJob
from tests.exports.conftest import all_options
from tests.storage import use_folder
from trials.models import Membership, Role

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def _job(user, *sites) -> ExportJob:
    job = ExportJob.objects.create(
        requested_by=user,
        options={"forms": ["participants"]},
        fmt="csv",
        deidentified=False,
    )
    job.sites.set(sites)
    return job


@pytest.fixture
def two_site_investigator(study):
    """inv_a, also investigator at THR: one job per site and one covering both."""
    user = study.investigator_a
    Membership.objects.create(user=user, site=study.site_b, role=Role.INVESTIGATOR)
    jobs = {
        "a": _job(user, study.site_a),
        "b": _job(user, study.site_b),
        "ab": _job(user, study.site_a, study.site_b),
    }
    return user, jobs


def test_a_revoked_role_takes_its_sites_exports_out_of_the_api(
    study, two_site_investigator, client_for
):
    user, jobs = two_site_investigator
    api = _api(user)
    listed = {j["id"] for j in api.get(reverse("api-exports")).json()["results"]}
    assert listed == {job.pk for job in jobs.values()}
    Membership.objects.filter(user=user, site=study.site_b).update(is_active=False)
    listed = {j["id"] for j in api.get(reverse("api-exports")).json()["results"]}
    assert listed == {jobs["a"].pk}
    for gone in (jobs["b"], jobs["ab"]):
        assert api.get(reverse("api-export", args=[gone.pk])).status_code == 404
    assert api.get(reverse("api-export", args=[jobs["a"].pk])).status_code == 200
    # The web pages agree: the log still lists the export of both sites (it touched ISF) but
    # offers no link into it, and the job page and download answer 404.
    client = client_for(user)
    log = client.get(reverse("export-log")).text
    assert f"<td>{jobs['ab'].pk}</td>" in log
    assert reverse("export-job", args=[jobs["ab"].pk]) not in log
    assert reverse("export-job", args=[jobs["a"].pk]) in log
    page = client.get(reverse("export-page")).text
    assert reverse("export-job", args=[jobs["ab"].pk]) not in page
    for name in ("export-job", "export-download"):
        assert client.get(reverse(name, args=[jobs["ab"].pk])).status_code == 404


def test_losing_every_export_role_empties_the_list(study, two_site_investigator):
    user, _jobs = two_site_investigator
    Membership.objects.filter(user=user).update(is_active=False)
    Membership.objects.create(user=user, site=study.site_a, role=Role.COORDINATOR)
    assert _api(user).get(reverse("api-exports")).json()["count"] == 0


# --- the schema ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node):
    """OpenAPI 3.0 → JSON Schema: `nullable: true` becomes an explicit null alternative."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/definitions/")
    if node.get("nullable"):
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _validate(openapi, path: str, status: int, body) -> None:
    content = openapi["paths"][path]["get"]["responses"][str(status)]["content"]
    schema = _json_schema(content["application/json"]["schema"])
    schema["definitions"] = _json_schema(openapi["components"]["schemas"])
    errors = sorted(Draft7Validator(schema).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def _parameters(openapi, path: str) -> dict[str, str]:
    return {
        p["name"]: p["schema"]["type"]
        for p in openapi["paths"][path]["get"].get("parameters", [])
        if p["in"] == "query"
    }


def test_the_schema_declares_filters_and_error_answers(openapi):
    records = "/api/v1/forms/alsfrs_r/records/"
    assert _parameters(openapi, "/api/v1/participants/") == {"page": "integer", "site": "string"}
    for path in ("/api/v1/visits/", records):
        assert _parameters(openapi, path) == {"page": "integer", "participant": "integer"}
        assert {"200", "400", "404"} <= set(openapi["paths"][path]["get"]["responses"])
    for path in ("/api/v1/participants/", "/api/v1/exports/", "/api/v1/exports/{id}/"):
        assert "404" in openapi["paths"][path]["get"]["responses"]
    schemas = openapi["components"]["schemas"]
    assert schemas["AlsfrsRRecord"]["properties"]["q9_climbing_stairs"].get("nullable")
    assert schemas["ExportJob"]["properties"]["finished_at"].get("nullable")
    assert schemas["ExportJob"]["properties"]["download"].get("nullable")


def test_real_answers_with_nulls_match_the_schema(
    openapi, study, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    use_folder(settings, "exports", tmp_path)
    monkeypatch.setattr(tasks.run_export_job, "delay", lambda job_id: services.run_export(job_id))
    user = study.investigator_a
    queued = _job(user, study.site_a)  # not finished: no finish time, no download link
    with django_capture_on_commit_callbacks(execute=True):
        with_file = services.create_export_job(
            user=user, options=all_options(study, site_ids=(study.site_a.pk,))
        )
    api = _api(user)
    participant = study.participants[0]
    answers = [
        ("/api/v1/participants/", reverse("api-participants"), 200),
        ("/api/v1/participants/", reverse("api-participants") + "?site=ISF", 200),
        ("/api/v1/participants/", reverse("api-participants") + "?site=THR", 404),
        ("/api/v1/participants/", reverse("api-participants") + "?page=9", 404),
        ("/api/v1/visits/", reverse("api-visits") + f"?participant={participant.pk}", 200),
        ("/api/v1/visits/", reverse("api-visits") + "?participant=x1", 400),
        (
            "/api/v1/visits/",
            reverse("api-visits") + f"?participant={study.participants[2].pk}",
            404,
        ),
        ("/api/v1/forms/alsfrs_r/records/", reverse("api-form-alsfrs_r"), 200),
        ("/api/v1/forms/alsfrs_r/records/", reverse("api-form-alsfrs_r") + "?participant=-1", 400),
        ("/api/v1/exports/", reverse("api-exports"), 200),
        ("/api/v1/exports/{id}/", reverse("api-export", args=[queued.pk]), 200),
        ("/api/v1/exports/{id}/", reverse("api-export", args=[with_file.pk]), 200),
        ("/api/v1/exports/{id}/", reverse("api-export", args=[10**9]), 404),
    ]
    for path, url, status in answers:
        response = api.get(url)
        assert response.status_code == status, (url, response.content)
        _validate(openapi, path, status, response.json())
    records = api.get(reverse("api-form-alsfrs_r")).json()["results"]
    assert any(r["q9_climbing_stairs"] is None for r in records)  # the nulls were tried
    assert api.get(reverse("api-export", args=[queued.pk])).json()["finished_at"] is None
    assert api.get(reverse("api-export", args=[with_file.pk])).json()["download"]
    visits = api.get(reverse("api-visits") + f"?participant={participant.pk}").json()["results"]
    assert {v["participant"] for v in visits} == {participant.pk}
