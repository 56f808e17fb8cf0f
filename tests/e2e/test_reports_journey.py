"""Issue 15's 'Done when', in a real browser on the demo study `make run` loads: the demo
investigator signs in with her password and the demo authenticator's code, opens the study
dashboard, a transplanted participant's trajectory with the pre-treatment line, the cohort
view with its change-from-baseline table, and downloads the participant's casebook PDF.
Screenshots go to /tmp/reports_journey_*.png for a person to look at."""

from __future__ import annotations

import base64
import io
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from pypdf import PdfReader

from demo.team import DEMO_TOTP_SECRET, demo_password
from participants.choices import ParticipantStatus
from participants.models import Participant
from reports import casebook_services, tasks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def in_process_worker(settings, tmp_path, monkeypatch):
    """The casebook's storage in a temporary folder and its task run in the server's thread
    (the task's body is the service)."""
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


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"reports_journey_{name}.png"), full_page=True)


def test_the_investigator_reads_the_study_in_pictures(live_server, page, in_process_worker):
    call_command("setup_demo", force=True)
    base = live_server.url
    # The demo site's language is Persian; this investigator reads in English (the language
    # switch's choice, which comes before the site's).
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("investigator")
    page.get_by_label("Password").fill(demo_password("investigator"))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/two-factor/" in url)
    code = totp(base64.b32decode(DEMO_TOTP_SECRET))
    page.get_by_label("Code from your authenticator app").fill(f"{code:06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/")

    # The dashboard: every figure with its title and a link to the list behind it.
    page.get_by_role("link", name="Reports").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("figure svg").count() >= 5
    shot(page, "dashboard")

    # A transplanted participant's trajectory, read against the pre-treatment line.
    person = (
        Participant.objects.filter(site__code="ISF", status=ParticipantStatus.TRANSPLANTED)
        .order_by("transplantation__performed_on")
        .first()
    )
    assert person is not None
    page.goto(f"{base}/sites/ISF/participants/{person.pk}/")
    assert page.get_by_text("Pre-treatment", exact=False).count() >= 1
    shot(page, "trajectory")

    # The cohort view with its table of change from baseline.
    page.goto(f"{base}/reports/cohort/")
    assert page.get_by_text("Change from baseline", exact=False).count() >= 1
    shot(page, "cohort")

    # The casebook PDF, read back.
    page.goto(f"{base}/sites/ISF/participants/{person.pk}/")
    page.get_by_test_id("casebook-create").click()
    page.wait_for_url(lambda url: "/casebooks/" in url)
    link = page.get_by_test_id("casebook-download")
    link.wait_for()
    shot(page, "casebook")
    with page.expect_download() as info:
        link.click()
    target = SHOTS / "reports_journey.pdf"
    info.value.save_as(target)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
    assert f"Casebook of participant {person.label}" in text
    assert "ALSFRS-R" in text
