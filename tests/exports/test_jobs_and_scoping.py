"""The export page, jobs, downloads, log, retention, the command and the API: each
scoped to the sites where the user may export or see participants."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, AccessKind
from exports import services, tasks
from exports.models import ExportJob, ExportStatus
from participants.choices import ParticipantStatus
from tests.exports.conftest import all_options, csv_table, enter_alsfrs
from tests.factories import consent, member, register
from tests.storage import use_folder
from trials.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path, monkeypatch):
    folder = use_folder(settings, "exports", tmp_path / "exports")
    # The worker, in-process: the task body is the service.
    monkeypatch.setattr(tasks.run_export_job, "delay", lambda job_id: services.run_export(job_id))
    return folder


def _post_data(site_ids, **extra):
    data = {
        "forms": ["participants", "alsfrs_r"],
        "visits": ["SCR", "BL", "M06", "M12", "UNS"],
        "sites": [str(s) for s in site_ids],
        "statuses": list(ParticipantStatus.values),
        "fmt": "csv",
        "layout": "long",
        "date_mode": "shift",
        "derived": "on",
    }
    data.update(extra)
    return data


def test_an_investigator_exports_their_site_and_downloads_the_bundle(
    study, client_for, django_capture_on_commit_callbacks
):
    client = client_for(study.investigator_a)
    home = client.get(reverse("home")).text
    assert reverse("export-page") in home  # panel and menu
    page = client.get(reverse("export-page"))
    assert page.status_code == 200
    assert "ISF" in page.text and "THR ·" not in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("export-page"), _post_data([study.site_a.pk]))
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response.url == reverse("export-job", args=[job.pk])
    assert (job.status, job.progress, job.requested_by) == ("done", 100, study.investigator_a)
    # ISF's 2 participants: screening (needed for enrolment), baseline and M06 ALSFRS-R.
    assert job.row_counts == {"participants": 2, "alsfrs_r": 6}
    status = client.get(reverse("export-job-status", args=[job.pk])).text
    assert reverse("export-download", args=[job.pk]) in status and "hx-get" not in status
    download = client.get(reverse("export-download", args=[job.pk]))
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    people = csv_table(archive.read("data/participants.csv"))
    assert {p["site"] for p in people} == {"ISF"}
    log = client.get(reverse("export-log")).text
    assert f"<td>{job.pk}</td>" in log and "inv_a" in log
    # The site's access log shows who exported and who downloaded, and from where.
    access = AccessEvent.objects.filter(site=study.site_a).order_by("pk")
    assert [(a.kind, a.username) for a in access if a.kind.startswith("export")] == [
        (AccessKind.EXPORT_CREATED, "inv_a"),
        (AccessKind.EXPORT_DOWNLOADED, "inv_a"),
    ]
    assert access.last().address == "127.0.0.1"


def test_a_running_job_polls_its_progress(study, client_for):
    job = ExportJob.objects.create(
        requested_by=study.investigator_a,
        options=all_options(study, site_ids=(study.site_a.pk,)).to_json(),
        fmt="csv",
        deidentified=False,
        status=ExportStatus.RUNNING,
        progress=42,
    )
    job.sites.set([study.site_a])
    client = client_for(study.investigator_a)
    status = client.get(reverse("export-job-status", args=[job.pk])).text
    assert 'hx-trigger="every 1s"' in status and "42 %" in status
    assert client.get(reverse("export-download", args=[job.pk])).status_code == 404


def test_a_user_of_site_a_cannot_export_site_b_through_the_page(study, client_for):
    client = client_for(study.investigator_a)
    response = client.post(reverse("export-page"), _post_data([study.site_b.pk]))
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


def test_roles_without_the_export_right_get_404(study, client_for, monitor_a, coordinator_a):
    for user in (monitor_a, coordinator_a):
        client = client_for(user)
        assert client.get(reverse("export-page")).status_code == 404
        assert client.get(reverse("export-log")).status_code == 404
        assert reverse("export-page") not in client.get(reverse("home")).text


def test_a_data_manager_may_export_but_not_identities(study, client_for):
    manager = member(Role.DATA_MANAGER, study.site_a, "dm_a")
    client = client_for(manager)
    response = client.post(reverse("export-page"), _post_data([study.site_a.pk], identifiers="on"))
    assert response.status_code == 400
    assert "identity" in response.text


def test_someone_elses_job_is_not_found(study, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.create_export_job(
            user=study.investigator_a, options=all_options(study, site_ids=(study.site_a.pk,))
        )
    other = member(Role.INVESTIGATOR, study.site_a, "inv_a2")
    client = client_for(other)
    for name in ("export-job", "export-job-status", "export-download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    client = client_for(study.investigator_b)
    assert f"<td>{job.pk}</td>" not in client.get(reverse("export-log")).text


def test_the_command_is_scoped_to_the_users_sites(study, tmp_path):
    with pytest.raises(CommandError, match="THR"):
        call_command(
            "export_dataset", "--format", "csv", "--output", str(tmp_path / "b.zip"),
            "--user", "inv_a", "--site", "THR",
        )  # fmt: skip
    out = io.StringIO()
    call_command(
        "export_dataset", "--format", "csv", "--output", str(tmp_path / "a.zip"),
        "--user", "inv_a", "--deidentify", stdout=out,
    )  # fmt: skip
    archive = zipfile.ZipFile(tmp_path / "a.zip")
    assert {p["site"] for p in csv_table(archive.read("data/participants.csv"))} == {"ISF"}
    job = ExportJob.objects.get()
    assert job.requested_by == study.investigator_a and job.deidentified
    assert "alsfrs_r: 6" in out.getvalue()


def test_the_command_without_a_user_exports_every_site(study, tmp_path):
    call_command(
        "export_dataset", "--format", "sav", "--output", str(tmp_path / "all.zip"),
        "--layout", "wide", "--site", "THR",
    )  # fmt: skip
    names = zipfile.ZipFile(tmp_path / "all.zip").namelist()
    assert "data/alsfrs_r.sav" in names and "manifest.json" in names


def test_old_bundles_are_deleted_and_the_log_stays(
    study, export_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.create_export_job(
            user=study.investigator_a, options=all_options(study, site_ids=(study.site_a.pk,))
        )
    job.refresh_from_db()
    path = export_dir / job.file_path
    assert path.exists()
    assert services.purge_expired_exports() == 0
    later = timezone.now() + timedelta(days=31)
    assert services.purge_expired_exports(now=later) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not path.exists() and job.deleted_at


def test_beat_runs_the_purge():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-exports"]
    assert entry["task"] == tasks.purge_expired_exports.name


# --- API ---------------------------------------------------------------------------


def _token_client(client_for, user):
    client = client_for(user)
    client.post(reverse("api-token"), {"action": "create"})
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=user).key}")
    return api


def test_the_api_is_scoped_by_site(study, client_for):
    api = _token_client(client_for, study.investigator_a)
    participants = api.get(reverse("api-participants")).json()
    assert participants["count"] == 2
    assert {p["site"] for p in participants["results"]} == {"ISF"}
    outsider = study.participants[2]
    assert api.get(reverse("api-participant", args=[outsider.pk])).status_code == 404
    visits = api.get(reverse("api-visits")).json()
    assert {v["site"] for v in visits["results"]} == {"ISF"}
    records = api.get(reverse("api-form-alsfrs_r")).json()
    assert records["count"] == 6 and {r["site"] for r in records["results"]} == {"ISF"}
    bl = next(r for r in records["results"] if r["visit_code"] == "BL")
    assert bl["missing_reasons"] == {"q9_climbing_stairs": "not_done"} and bl["q1_speech"] == 3
    forms = api.get(reverse("api-forms")).json()
    assert forms[0]["code"] == "alsfrs_r"
    assert api.post(reverse("api-participants"), {}).status_code == 405  # read-only


def test_the_api_lists_only_your_exports(study, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.create_export_job(
            user=study.investigator_a, options=all_options(study, site_ids=(study.site_a.pk,))
        )
    mine = _token_client(client_for, study.investigator_a).get(reverse("api-exports")).json()
    assert [j["id"] for j in mine["results"]] == [job.pk]
    assert mine["results"][0]["download"].endswith(reverse("export-download", args=[job.pk]))
    theirs = _token_client(client_for, study.investigator_b)
    assert theirs.get(reverse("api-exports")).json()["count"] == 0
    assert theirs.get(reverse("api-export", args=[job.pk])).status_code == 404


def test_no_token_no_data_and_a_revoked_token_stops_working(study, client_for):
    from rest_framework.test import APIClient

    assert APIClient().get(reverse("api-participants")).status_code == 401
    api = _token_client(client_for, study.investigator_a)
    assert api.get(reverse("api-participants")).status_code == 200
    page = client_for(study.investigator_a).get(reverse("api-token")).text
    assert "Revoke the token" in page
    client_for(study.investigator_a).post(reverse("api-token"), {"action": "revoke"})
    assert api.get(reverse("api-participants")).status_code == 401


def test_the_openapi_schema_and_docs_are_served(study, client_for):
    client = client_for(study.investigator_a)
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/participants/" in text and "/api/v1/forms/alsfrs_r/records/" in text
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert "cdn" not in docs.text.lower()


# --- constant query counts -------------------------------------------------------------


def _more_participants(study, n):
    for i in range(n):
        person = register(
            study.investigator_a, study.site_a, study.participants[0].trial,
            screened_on=timezone.now().date() - timedelta(days=3), name=f"Extra {i}",
        )  # fmt: skip
        consent(study.investigator_a, person)  # no study form before consent
        screening = person.visits.get(code="SCR")
        enter_alsfrs(study.investigator_a, screening, {"q1_speech": 4}, complete=False)


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_pages_and_api_lists_run_a_constant_number_of_queries(
    study, client_for, django_capture_on_commit_callbacks
):
    client = client_for(study.investigator_a)
    api = _token_client(client_for, study.investigator_a)
    urls = [reverse("api-participants"), reverse("api-visits"), reverse("api-form-alsfrs_r")]
    with django_capture_on_commit_callbacks(execute=True):
        services.create_export_job(
            user=study.investigator_a, options=all_options(study, site_ids=(study.site_a.pk,))
        )
    small = [_count(client, reverse("export-page")), _count(client, reverse("export-log"))]
    small += [_count(api, url) for url in [*urls, reverse("api-exports")]]
    _more_participants(study, 3)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            services.create_export_job(
                user=study.investigator_a, options=all_options(study, site_ids=(study.site_a.pk,))
            )
    large = [_count(client, reverse("export-page")), _count(client, reverse("export-log"))]
    large += [_count(api, url) for url in [*urls, reverse("api-exports")]]
    assert api.get(reverse("api-participants")).json()["count"] == 5
    assert small == large
