"""Export bundles through STORAGES["exports"] on both backends: a folder, and an S3 bucket
(moto's in-process mock of S3). The job stores the zip, the download streams it through the
permission-checked view, the purge deletes it; a job whose worker died is run once more and
finished once; a second delivery while the first run lives leaves the job alone."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse
from django.utils import timezone

from exports import files, services, tasks
from exports.models import ExportJob, ExportStatus
from tests.exports.conftest import all_options
from tests.storage import use_folder

pytestmark = pytest.mark.django_db

BUCKET = "ecrf-test-bundles"


def _s3_storage(alias: str) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "location": alias,
            "region_name": "us-east-1",
            "default_acl": None,
            "file_overwrite": True,
        },
    }


@pytest.fixture
def bucket(monkeypatch):
    """A private bucket in moto's in-process S3."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3


@pytest.fixture(params=["folder", "s3"])
def backend(request, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(tasks.run_export_job, "delay", lambda job_id: services.run_export(job_id))
    if request.param == "folder":
        use_folder(settings, "exports", tmp_path / "exports")
        return None
    s3 = request.getfixturevalue("bucket")
    settings.STORAGES = {**settings.STORAGES, "exports": _s3_storage("exports")}
    return s3


def _keys(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def _export(study, django_capture_on_commit_callbacks) -> ExportJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = services.create_export_job(
            user=study.investigator_a, options=all_options(study, site_ids=(study.site_a.pk,))
        )
    job.refresh_from_db()
    return job


def test_a_bundle_is_stored_downloaded_and_purged(
    backend, study, client_for, django_capture_on_commit_callbacks
):
    job = _export(study, django_capture_on_commit_callbacks)
    assert job.status == ExportStatus.DONE and job.attempts == 1 and job.claimed_by
    assert job.file_path == f"{job.created_at:%Y/%m}/export-{job.pk}.zip"
    storage = files.bundle_storage()
    assert storage.exists(job.file_path) and storage.size(job.file_path) == job.file_size
    if backend is not None:  # private objects under the alias's prefix, nothing else
        assert _keys(backend) == [f"exports/{job.file_path}"]
        acl = backend.get_object_acl(Bucket=BUCKET, Key=f"exports/{job.file_path}")
        assert not [g for g in acl["Grants"] if "URI" in g["Grantee"]]  # no AllUsers grant

    download = client_for(study.investigator_a).get(reverse("export-download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Length"] == str(job.file_size)
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == job.sha256
    # The other site's investigator is refused, as before.
    other = client_for(study.investigator_b).get(reverse("export-download", args=[job.pk]))
    assert other.status_code == 404

    assert services.purge_expired_exports() == 0
    assert services.purge_expired_exports(now=timezone.now() + timedelta(days=31)) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and job.file_path == "" and job.deleted_at
    assert not storage.exists(f"{job.created_at:%Y/%m}/export-{job.pk}.zip")
    if backend is not None:
        assert _keys(backend) == []


def test_a_bundle_missing_from_storage_is_not_found(
    backend, study, client_for, django_capture_on_commit_callbacks
):
    job = _export(study, django_capture_on_commit_callbacks)
    files.bundle_storage().delete(job.file_path)
    download = client_for(study.investigator_a).get(reverse("export-download", args=[job.pk]))
    assert download.status_code == 404


def test_a_job_left_running_by_a_dead_worker_is_run_again_and_finished_once(
    backend, study, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(tasks.run_export_job, "delay", lambda job_id: None)  # never delivered
    job = _export(study, django_capture_on_commit_callbacks)
    # What a killed worker leaves: running, its attempt counted, some progress, no bundle.
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING,
        attempts=1,
        progress=40,
        claimed_by="lost-host:1",
        started_at=timezone.now(),
    )
    first_start = ExportJob.objects.get(pk=job.pk).started_at
    done = services.run_export(job.pk)
    assert (done.status, done.attempts, done.progress) == (ExportStatus.DONE, 2, 100)
    assert done.started_at == first_start and done.claimed_by != "lost-host:1"
    stored = files.bundle_storage().open(done.file_path, "rb").read()
    assert hashlib.sha256(stored).hexdigest() == done.sha256
    # Delivered once more (the broker's copy): a finished job is left alone.
    again = services.run_export(job.pk)
    assert (again.attempts, again.sha256, again.finished_at) == (2, done.sha256, done.finished_at)


def test_a_second_delivery_while_the_first_run_lives_leaves_the_job_alone(
    backend, study, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(tasks.run_export_job, "delay", lambda job_id: None)
    job = _export(study, django_capture_on_commit_callbacks)
    holder = connections.create_connection(DEFAULT_DB_ALIAS)  # the first run's own connection
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [services._LOCK_CLASS, job.pk])
            assert cursor.fetchone()[0]
        with pytest.raises(services.JobBusy):
            services.run_export(job.pk)
        job.refresh_from_db()
        assert (job.status, job.attempts) == (ExportStatus.QUEUED, 0)
    finally:
        holder.close()  # the first run's worker dies: its lock goes with its connection
    assert services.run_export(job.pk).status == ExportStatus.DONE


def test_the_task_retries_later_when_the_job_is_busy(monkeypatch):
    def busy(job_id):
        raise services.JobBusy(job_id)

    retried = {}

    def retry(**kwargs):
        retried.update(kwargs)
        return RuntimeError("retry")

    monkeypatch.setattr(services, "run_export", busy)
    monkeypatch.setattr(tasks.run_export_job, "retry", retry)
    with pytest.raises(RuntimeError, match="retry"):
        tasks.run_export_job.run(7)
    assert retried == {"countdown": tasks.BUSY_RETRY_SECONDS}


def _storages_from(environment: dict[str, str]) -> dict:
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({k: settings.STORAGES[k] for k in ('exports', 'casebooks')}))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ECRF_", "AWS_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=keep | {"DJANGO_SETTINGS_MODULE": "config.settings"} | environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_environment_puts_bundles_and_casebooks_in_one_bucket(tmp_path):
    folders = _storages_from({"ECRF_VAR_DIR": str(tmp_path)})
    assert folders["exports"]["OPTIONS"]["location"] == str(tmp_path / "exports")
    assert folders["casebooks"]["OPTIONS"]["location"] == str(tmp_path / "casebooks")
    bucket = _storages_from(
        {
            "ECRF_VAR_DIR": str(tmp_path),
            "ECRF_S3_BUCKET": "trial-files",
            "ECRF_S3_ENDPOINT_URL": "http://s3.internal:9000",
            "ECRF_S3_REGION": "eu-central-1",
            "ECRF_S3_PREFIX": "/ecrf/",
            "AWS_ACCESS_KEY_ID": "key",
            "AWS_SECRET_ACCESS_KEY": "secret",
        }
    )
    for alias in ("exports", "casebooks"):
        assert bucket[alias]["BACKEND"] == "storages.backends.s3.S3Storage"
        options = bucket[alias]["OPTIONS"]
        assert options["location"] == f"ecrf/{alias}"
        assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
            "trial-files",
            "http://s3.internal:9000",
            "eu-central-1",
        )
        assert (options["access_key"], options["secret_key"]) == ("key", "secret")
        assert options["default_acl"] is None and options["querystring_auth"] is True


def test_casebooks_go_to_the_bucket_too(bucket, settings, study, client_for):
    from reports import casebook_services
    from reports.models import CasebookJob, CasebookStatus

    settings.STORAGES = {**settings.STORAGES, "casebooks": _s3_storage("casebooks")}
    participant = study.participants[0]
    job = CasebookJob.objects.create(
        participant=participant, requested_by=study.investigator_a, identifiers=True
    )
    done = casebook_services.run_casebook(job.pk)
    assert done.status == CasebookStatus.DONE
    key = f"casebooks/{done.file_name}"
    assert _keys(bucket) == [key]
    pdf = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(pdf).hexdigest() == done.sha256
    url = reverse("casebook-download", args=[participant.site.code, job.pk])
    download = client_for(study.investigator_a).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf
    later = timezone.now() + timedelta(days=settings.ECRF_CASEBOOK_RETENTION_DAYS + 1)
    assert casebook_services.purge_expired_casebooks(now=later) == 1
    assert _keys(bucket) == []
