"""An investigator writes and downloads a participant's casebook PDF from the participant
page: the card's button, the job page with its progress, then the download. The worker runs
in the server's thread (the task's body is the service). Screenshots go to
/tmp/casebook_*.png and the PDF to /tmp/casebook_e2e.pdf for a person to look at."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports import casebook_services, tasks
from tests.e2e.test_alsfrs_entry import log_in
from tests.reports.test_casebook import (  # noqa: F401 - the story and its fixtures
    casebook_storage,
    data_manager_a,
    investigator_a,
    story,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(tempfile.gettempdir())


def test_an_investigator_downloads_a_casebook(live_server, page, story, investigator_a):  # noqa: F811
    participant = story["participant"]
    assert tasks.write_casebook.delay.__name__ == "<lambda>"  # in-process worker (fixture)
    log_in(page, live_server.url, investigator_a.username)
    page.goto(f"{live_server.url}/sites/{participant.site.code}/participants/{participant.pk}/")
    card = page.get_by_test_id("casebook-card")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(SHOTS / "casebook_card.png"))
    card.get_by_test_id("casebook-create").click()
    page.wait_for_url(lambda url: "/casebooks/" in url)
    download_link = page.get_by_test_id("casebook-download")
    download_link.wait_for()
    page.screenshot(path=str(SHOTS / "casebook_job.png"), full_page=True)
    with page.expect_download() as info:
        download_link.click()
    target = SHOTS / "casebook_e2e.pdf"
    info.value.save_as(target)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
    assert f"Casebook of participant {participant.label}" in text
    assert "Headache on standing" in text
    assert casebook_services.software_version() in text
