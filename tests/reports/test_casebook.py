"""The casebook PDF of a participant, read back as text: an investigator asks for it on the
participant page, the worker writes it, and every visit, form, event, medication, query and
signature is in it, with page numbers and the footer; a monitor's copy names nobody; another
site's users see nothing of it."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AccessEvent, AccessKind
from crfs import registry
from crfs.alsfrs_r.models import AlsfrsR
from crfs.vitals.models import Vitals
from queries import services as query_services
from reports import casebook_services, tasks
from reports.charts import Marker, Point, Reference, Series, line_chart
from reports.models import CasebookJob, CasebookStatus
from reports.trajectory import participant_trajectory
from review import services as review_services
from safety import services as safety_services
from tests.conftest import TX_DAY
from tests.factories import (
    ALSFRS_NORMAL,
    PASSWORD,
    investigator_of,
    member,
    save_crf,
    transplanted_participant,
)
from trials import records
from trials.models import Role
from trials.protocols.forms import FORM_CATALOGUE
from visits.services import record_visit_date

pytestmark = pytest.mark.django_db

PERSIAN_NAME = "مریم حقیقی — Haghighi"
NATIONAL_ID = "1234567890-77"


@pytest.fixture(autouse=True)
def casebook_storage(settings, tmp_path, monkeypatch):
    """The casebooks' storage in a temporary folder, and the worker in-process: the task's
    body is the service (as tests/exports do)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "casebooks": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "casebooks")},
        },
    }
    monkeypatch.setattr(
        tasks.write_casebook, "delay", lambda job_id: casebook_services.run_casebook(job_id)
    )
    return tmp_path / "casebooks"


@pytest.fixture
def investigator_a(site_a):
    return investigator_of(site_a)


@pytest.fixture
def data_manager_a(site_a):
    return member(Role.DATA_MANAGER, site_a, "dm_a")


@pytest.fixture
def story(frozen, site_a, trial, coordinator_a, monitor_a, investigator_a, data_manager_a):
    """A participant transplanted on TX_DAY with a Persian name: screening forms, the
    month-6 ALSFRS-R and vital signs (one answer missing with its reason, then corrected),
    an adverse event and a medication, a monitor's query answered, a verification, and the
    investigator's signature of month 6."""
    from participants.models import ParticipantIdentity

    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=TX_DAY, name=PERSIAN_NAME
    )
    ParticipantIdentity.objects.filter(participant=participant).update(
        national_id=NATIONAL_ID, address="12 Chaharbagh → Isfahan"
    )
    m06 = participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=m06, actual_date=m06.target_date - timedelta(days=2)
    )
    m06.refresh_from_db()
    alsfrs = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q8_walking": 3})
    from crfs.entry import save_form

    vitals = save_form(
        record_class=Vitals,
        visit=m06,
        user=coordinator_a,
        answers={
            "weight_kg": Decimal("58.5"),
            "systolic_bp": 120,
            "diastolic_bp": 80,
            "heart_rate": 72,
        },
        missing_reasons={"temperature_c": "not_done"},
        expected_version=0,
        complete=False,
    )
    alsfrs = save_crf(
        coordinator_a,
        m06,
        AlsfrsR,
        ALSFRS_NORMAL | {"q8_walking": 2},
        reason="Transcription error: walking is 2 in the source",
    )
    ae = safety_services.save_adverse_event(
        actor=coordinator_a,
        participant=participant,
        visit=m06,
        event_id=None,
        answers={
            "verbatim_term": "Headache on standing — relieved lying down",
            "term_code": "post_lp_headache",
            "onset_date": TX_DAY + timedelta(days=1),
            "onset_precision": "day",
            "end_date": TX_DAY + timedelta(days=4),
            "end_precision": "day",
            "ongoing": False,
            "grade": 2,
            "serious": False,
            "related_procedure": "probable",
            "related_cells": "not",
            "action": "medication",
            "outcome": "recovered",
            "treatment": "Paracetamol",
        },
        expected_version=0,
        complete=True,
    )
    conmed = safety_services.save_conmed(
        actor=coordinator_a,
        participant=participant,
        visit=m06,
        conmed_id=None,
        answers={
            "medication": "other",
            "other_name": "Paracetamol 500",
            "indication": "Post-LP headache",
            "dose": Decimal("500"),
            "dose_unit": "mg",
            "route": "oral",
            "frequency": "qd",
            "start_date": TX_DAY + timedelta(days=1),
            "start_precision": "day",
            "stop_date": None,
            "stop_precision": "",
            "ongoing": True,
        },
        expected_version=0,
        complete=True,
    )
    query = query_services.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="q8_walking",
        text="Walking score differs from the source note",
    )
    query_services.post(
        actor=coordinator_a, query=query, action="answer", text="Checked: the source says 2"
    )
    review_services.verify(actor=monitor_a, record_type=records.get("vitals"), record=vitals)
    review_services.sign(
        actor=investigator_a, participant=participant, kind="visit", password=PASSWORD, visit=m06
    )
    participant.refresh_from_db()
    return {
        "participant": participant,
        "alsfrs": alsfrs,
        "vitals": vitals,
        "ae": ae,
        "conmed": conmed,
        "query": query,
    }


def _request_casebook(client, participant, django_capture_on_commit_callbacks):
    url = reverse("casebook-create", args=[participant.site.code, participant.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    return CasebookJob.objects.latest("pk"), response


def _text(pdf: bytes) -> tuple[list[str], str]:
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    return pages, "\n".join(pages)


def _download(client, job) -> bytes:
    response = client.get(reverse("casebook-download", args=[job.participant.site.code, job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    return b"".join(response.streaming_content)


def test_an_investigator_downloads_the_whole_casebook(
    story, client_for, investigator_a, django_capture_on_commit_callbacks
):
    participant = story["participant"]
    client = client_for(investigator_a)
    page = client.get(reverse("participant-detail", args=[participant.site.code, participant.pk]))
    assert 'data-testid="casebook-create"' in page.text
    job, response = _request_casebook(client, participant, django_capture_on_commit_callbacks)
    assert response.url == reverse("casebook-job", args=[participant.site.code, job.pk])
    assert (job.status, job.progress, job.identifiers) == (CasebookStatus.DONE, 100, True)
    status = client.get(reverse("casebook-status", args=[participant.site.code, job.pk])).text
    assert "hx-get" not in status and job.sha256 in status

    pdf = _download(client, job)
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == job.sha256 and len(pdf) == job.file_size
    pages, text = _text(pdf)
    flat = re.sub(r"\s+", " ", text)

    # Every page: "page n of N" and the footer with the study ID, version and generation time
    # in Tehran's time (08:00 UTC is 11:30 +0330).
    total = len(pages)
    assert total == job.pages and total > 3
    for number, page_text in enumerate(pages, start=1):
        one = re.sub(r"\s+", " ", page_text)
        assert f"Page {number} of {total}" in one
        assert participant.label in one and "2026-03-10 11:30 +0330" in one
        assert f"ALS eCRF {casebook_services.software_version()}" in one

    # Identity, in Persian, with the em dash and the arrow of the address.
    assert "مریم حقیقی" in flat and "Haghighi" in flat
    assert NATIONAL_ID in flat and "Chaharbagh → Isfahan" in flat
    assert "1970-01-15" in flat  # date of birth

    # Every visit, and every form recorded, with its values, labels and units.
    for visit in participant.visits.all():
        assert f"Visit {visit.display_code}" in flat, visit.display_code
    for spec in registry.entry_forms().values():
        label = FORM_CATALOGUE[spec.code].label
        for record in spec.model.objects.filter(visit__participant=participant):
            assert f"{label} ({record.visit.display_code})" in flat, (spec.code, record)
    assert "Weight (kg)" in flat and "58.5" in flat
    assert "Not done" in flat  # the temperature's missing-data reason
    assert "Derived values" in flat and "ALSFRS-R total" in flat
    assert "Demographics" in flat and "ALS history" in flat

    # Adverse event and medication, the query with its messages, the verification, signature.
    assert "Headache on standing — relieved lying down" in flat
    assert "Paracetamol 500" in flat
    assert f"Query {story['query'].pk}" in flat
    assert "Walking score differs from the source note" in flat
    assert "Checked: the source says 2" in flat
    assert "Source verified (whole record) by monitor_a" in flat
    assert "Signed (Visit) by investigator_" in flat
    assert "I confirm that the data are accurate and complete." in flat

    # The trajectory charts of the participant page, each with its title.
    trajectory = participant_trajectory(participant, participant.site.local_today())
    assert trajectory is not None and "Trajectories" in flat
    for chart in trajectory.charts:
        assert re.sub(r"\s+", " ", chart.title) in flat, chart.title

    # The audit summary: the ALSFRS-R changed once, with its reason.
    assert "Audit summary" in flat
    assert "Transcription error: walking is 2 in the source" in flat

    # The download is in the site's access log.
    downloads = AccessEvent.objects.filter(site=participant.site, kind=AccessKind.EXPORT_DOWNLOADED)
    assert [e.username for e in downloads] == [investigator_a.username]
    assert f"casebook {job.pk}" in downloads.get().detail


def test_a_monitors_casebook_names_nobody(
    story, client_for, monitor_a, django_capture_on_commit_callbacks
):
    participant = story["participant"]
    client = client_for(monitor_a)
    job, _response = _request_casebook(client, participant, django_capture_on_commit_callbacks)
    assert job.identifiers is False and job.status == CasebookStatus.DONE
    _pages, text = _text(_download(client, job))
    flat = re.sub(r"\s+", " ", text)
    assert participant.label in flat and "withheld" in flat
    for secret in ("حقیقی", "Haghighi", NATIONAL_ID, "Chaharbagh", "1970-01-15", "+98 31"):
        assert secret not in flat, secret
    # The data are all there still.
    assert "Headache on standing" in flat and f"Query {story['query'].pk}" in flat


def test_the_identified_casebook_is_the_investigators_only(
    story, client_for, investigator_a, monitor_a, django_capture_on_commit_callbacks
):
    participant = story["participant"]
    job, _ = _request_casebook(
        client_for(investigator_a), participant, django_capture_on_commit_callbacks
    )
    client = client_for(monitor_a)
    code = participant.site.code
    for name in ("casebook-job", "casebook-status", "casebook-download"):
        assert client.get(reverse(name, args=[code, job.pk])).status_code == 404, name


def test_a_coordinator_and_another_sites_users_see_nothing(
    story,
    client_for,
    investigator_a,
    coordinator_a,
    site_b,
    django_capture_on_commit_callbacks,
):
    participant = story["participant"]
    code = participant.site.code
    job, _ = _request_casebook(
        client_for(investigator_a), participant, django_capture_on_commit_callbacks
    )
    # Coordinators enter data but do not read the audit trail: no casebook.
    client = client_for(coordinator_a)
    page = client.get(reverse("participant-detail", args=[code, participant.pk]))
    assert page.status_code == 200 and "casebook-create" not in page.text
    create = reverse("casebook-create", args=[code, participant.pk])
    assert client.post(create).status_code == 404
    # An investigator of site B: 404 on site A's participant, job and download, under
    # either site's code.
    client = client_for(member(Role.INVESTIGATOR, site_b, "inv_b"))
    assert client.post(create).status_code == 404
    for name in ("casebook-job", "casebook-status", "casebook-download"):
        for site_code in (code, site_b.code):
            assert client.get(reverse(name, args=[site_code, job.pk])).status_code == 404
    assert CasebookJob.objects.count() == 1


def test_a_retried_task_writes_one_file(story, investigator_a, casebook_storage):
    participant = story["participant"]
    job = CasebookJob.objects.create(
        participant=participant, requested_by=investigator_a, identifiers=True
    )
    first = casebook_services.run_casebook(job.pk)
    assert first.status == CasebookStatus.DONE
    # Delivered again after the worker was lost mid-run (acks_late): the job is running again.
    CasebookJob.objects.filter(pk=job.pk).update(status=CasebookStatus.RUNNING)
    again = tasks.write_casebook(job.pk)
    assert again == CasebookStatus.DONE
    # And once more after it finished: left alone.
    assert tasks.write_casebook(job.pk) == CasebookStatus.DONE
    files = [p for p in casebook_storage.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [f"casebook-{job.pk}.pdf"]
    job.refresh_from_db()
    assert job.file_name.endswith(f"casebook-{job.pk}.pdf")


def test_the_visit_dates_are_the_sites_days(story):
    """The casebook prints clinical dates as stored calendar dates (not shifted by a zone)."""
    participant = story["participant"]
    job = CasebookJob.objects.create(participant=participant, identifiers=False)
    data, _pages = casebook_services.build(job)
    _pages_text, text = _text(data)
    m06 = participant.visits.get(code="M06")
    assert m06.actual_date is not None
    assert m06.actual_date.isoformat() in text
    assert date(2025, 8, 1).isoformat() in text  # the transplantation day


def test_the_charts_svg_text_is_drawn_in_the_pdf():
    """fpdf2 draws the SVG of reports.charts with its text (axis labels, ticks, lanes,
    legend) in the casebook's font: Persian and arrows included."""
    from reports.casebook_pdf import _Pdf

    chart = line_chart(
        "ALSFRS-R total",
        "Months from transplantation",
        "ALSFRS-R total (points)",
        [
            Series("Observed", [Point(-1, 40), Point(6, 38), Point(12, 35, hollow=True)]),
            Series("Expected → پیش‌بینی", [Point(-10, 48), Point(12, 30)]),
        ],
        markers=[Marker("Adverse events", 2, "Headache", text="G2")],
        references=[Reference(0, "Transplantation")],
    )
    pdf = _Pdf("footer")
    pdf.add_page()
    pdf.image(io.BytesIO(str(chart.svg).encode()), w=pdf.epw)
    _pages, text = _text(bytes(pdf.output()))
    for shown in (
        "ALSFRS-R total (points)",
        "Months from transplantation",
        "Transplantation",
        "Adverse events",
        "G2",
        "Observed",
        "Expected →",
        "40",
    ):
        assert shown in text, shown


def test_the_casebook_reads_in_the_same_number_of_queries_whatever_its_size(
    story, coordinator_a, monitor_a, site_a
):
    """Reads per record type, never per visit, record, query or child row: more visits,
    forms, events and queries cost no more queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports import casebook_selectors
    from visits.services import add_unscheduled_visit

    participant = story["participant"]

    def count() -> int:
        participant.refresh_from_db()
        with CaptureQueriesContext(connection) as captured:
            casebook_selectors.casebook(participant, identifiers=True, version="test")
        return len(captured)

    before = count()
    extra = add_unscheduled_visit(
        actor=coordinator_a,
        participant=participant,
        actual_date=date(2025, 9, 1),
        reason="Neck stiffness — seen again",
    )
    vitals = save_crf(coordinator_a, extra, Vitals, {"weight_kg": Decimal("59.0")}, complete=False)
    query = query_services.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="vitals",
        record_pk=vitals.pk,
        field_name="weight_kg",
        text="Scale calibrated?",
    )
    query_services.post(actor=coordinator_a, query=query, action="answer", text="Yes, on 1 Sept")
    review_services.verify(
        actor=monitor_a, record_type=records.get("alsfrs_r"), record=story["alsfrs"]
    )
    after = count()
    assert after == before


def test_casebooks_are_deleted_after_the_retention_period(
    frozen, settings, site_a, trial, coordinator_a, investigator_a, client_for, casebook_storage
):
    """As exports purge their bundles: a PDF written more than ECRF_CASEBOOK_RETENTION_DAYS
    ago is deleted by the hourly beat task, its job row stays (expired, with the deletion time
    and the sha256), the download answers 404 and the page says why; younger PDFs, failed
    and running jobs are left alone."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    settings.ECRF_CASEBOOK_RETENTION_DAYS = 10
    participant = transplanted_participant(coordinator_a, site_a, trial, on=TX_DAY)
    store = casebook_services.storage()
    now = timezone.now()

    def job(age_days: int, status=CasebookStatus.DONE):
        made = CasebookJob.objects.create(
            participant=participant, requested_by=investigator_a, identifiers=True
        )
        name = store.save(casebook_services.file_name(made), ContentFile(b"%PDF-1.4 test"))
        CasebookJob.objects.filter(pk=made.pk).update(
            status=status, file_name=name, sha256="ab" * 32, finished_at=now - timedelta(age_days)
        )
        made.refresh_from_db()
        return made

    old, young, failed = job(11), job(9), job(30, CasebookStatus.FAILED)
    assert casebook_services.purge_expired_casebooks(now=now) == 1
    assert casebook_services.purge_expired_casebooks(now=now) == 0  # once only
    for made in (old, young, failed):
        made.refresh_from_db()
    assert old.status == CasebookStatus.EXPIRED and old.deleted_at == now
    assert old.file_name == "" and old.sha256 == "ab" * 32
    assert young.status == CasebookStatus.DONE and store.exists(young.file_name)
    assert failed.status == CasebookStatus.FAILED and store.exists(failed.file_name)
    assert sorted(p.name for p in casebook_storage.rglob("*.pdf")) == sorted(
        [f"casebook-{young.pk}.pdf", f"casebook-{failed.pk}.pdf"]
    )

    client = client_for(investigator_a)
    download = reverse("casebook-download", args=[site_a.code, old.pk])
    assert client.get(download).status_code == 404
    page = client.get(reverse("casebook-status", args=[site_a.code, old.pk]))
    assert 'data-testid="casebook-expired"' in page.text and "hx-get" not in page.text

    # The beat runs the task (nothing more today); two days on, the younger one goes too.
    assert tasks.purge_expired_casebooks.apply(kwargs={}).get() == 0
    assert casebook_services.purge_expired_casebooks(now=now + timedelta(days=2)) == 1
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-casebooks"]
    assert entry["task"] == tasks.purge_expired_casebooks.name


def test_a_second_delivery_while_the_first_run_lives_writes_nothing(
    story, investigator_a, casebook_storage
):
    from django.db import DEFAULT_DB_ALIAS, connections

    job = CasebookJob.objects.create(
        participant=story["participant"], requested_by=investigator_a, identifiers=True
    )
    first_run = connections.create_connection(DEFAULT_DB_ALIAS)  # its worker is alive
    try:
        with first_run.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [casebook_services._LOCK_CLASS, job.pk]
            )
            assert cursor.fetchone()[0]
        with pytest.raises(casebook_services.CasebookBusy):
            casebook_services.run_casebook(job.pk)
        job.refresh_from_db()
        assert (job.status, job.started_at) == (CasebookStatus.QUEUED, None)
        assert not [p for p in casebook_storage.rglob("*") if p.is_file()]
    finally:
        first_run.close()  # its worker dies: the lock goes with its connection
    assert casebook_services.run_casebook(job.pk).status == CasebookStatus.DONE


def test_the_casebook_task_retries_later_when_the_job_is_busy(monkeypatch):
    def busy(job_id):
        raise casebook_services.CasebookBusy(job_id)

    retried = {}

    def retry(**kwargs):
        retried.update(kwargs)
        return RuntimeError("retry")

    monkeypatch.setattr(casebook_services, "run_casebook", busy)
    monkeypatch.setattr(tasks.write_casebook, "retry", retry)
    with pytest.raises(RuntimeError, match="retry"):
        tasks.write_casebook.run(7)
    assert retried == {"countdown": tasks.BUSY_RETRY_SECONDS}
