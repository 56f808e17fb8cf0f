"""Every page a coordinator walks through meets WCAG 2.1 AA as axe-core checks it in the
browser (the rules vendored in tests/e2e/vendor/axe-core: no CDN)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crfs.alsfrs_r.models import AlsfrsR
from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import ALSFRS_NORMAL, save_crf, transplanted_participant
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page) -> list[str]:
    # Evaluated through the DevTools protocol: the page's CSP (no inline script) stays on.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {node['target'][0]}: "
        + node["failureSummary"].splitlines()[-1].strip()
        for v in result["violations"]
        for node in v["nodes"]
    ]


def test_the_coordinators_pages_have_no_axe_violations(
    live_server, page, coordinator_a, site_a, trial
):
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=site_a.local_today() - timedelta(days=200)
    )
    m06 = participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=m06, actual_date=site_a.local_today() - timedelta(days=10)
    )
    m06.refresh_from_db()
    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    base = live_server.url
    log_in(page, base, coordinator_a.username)
    here = f"{base}/sites/{site_a.code}/participants"
    pages = {
        "home": f"{base}/",
        "participant list": f"{here}/",
        "participant": f"{here}/{participant.pk}/",
        "visit": f"{here}/{participant.pk}/visits/{m06.pk}/",
    }
    found = {}
    for name, url in pages.items():
        page.goto(url)
        found[name] = violations(page)
    page.goto(pages["visit"])
    forms = page.locator("a[href*='/forms/']").evaluate_all("els => els.map(e => e.href)")
    for url in dict.fromkeys(forms):
        page.goto(url)
        found[url.rstrip("/").rsplit("/", 1)[-1]] = violations(page)
    assert {name: found_ for name, found_ in found.items() if found_} == {}


def test_the_reviewers_pages_have_no_axe_violations(
    live_server, page, coordinator_a, site_a, trial
):
    from tests.factories import member
    from trials.models import Role

    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=site_a.local_today() - timedelta(days=400)
    )
    m06 = participant.visits.get(code="M06")
    record_visit_date(actor=coordinator_a, visit=m06, actual_date=m06.target_date)
    m06.refresh_from_db()
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    reviewer = member(Role.INVESTIGATOR, site_a, "reviewer")
    member(Role.DATA_MANAGER, site_a, "reviewer")
    member(Role.MONITOR, site_a, "reviewer")
    base = live_server.url
    log_in(page, base, reviewer.username)
    code = site_a.code
    pages = {
        "dashboard": f"{base}/reports/dashboard/",
        "cohort": f"{base}/reports/cohort/",
        "review queue": f"{base}/sites/{code}/review/",
        "queries": f"{base}/sites/{code}/queries/",
        "checks": f"{base}/sites/{code}/checks/",
        "audit log": f"{base}/sites/{code}/audit/",
        "access log": f"{base}/sites/{code}/access-log/",
        "record history": f"{base}/sites/{code}/audit/records/alsfrs_r/{record.pk}/",
        "participant": f"{base}/sites/{code}/participants/{participant.pk}/",
        "exports": f"{base}/exports/",
    }
    found = {}
    for name, url in pages.items():
        response = page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        found[name] = violations(page)
    assert {name: found_ for name, found_ in found.items() if found_} == {}


def test_a_persian_keyboard_types_the_scores(live_server, page, coordinator_a, site_a, trial):
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=site_a.local_today() - timedelta(days=200)
    )
    m06 = participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=m06, actual_date=site_a.local_today() - timedelta(days=10)
    )
    log_in(page, live_server.url, coordinator_a.username)
    page.goto(
        f"{live_server.url}/sites/{site_a.code}/participants/{participant.pk}"
        f"/visits/{m06.pk}/forms/alsfrs_r/"
    )
    page.wait_for_load_state("domcontentloaded")
    page.locator("#id_q1_speech_0").focus()
    # Playwright's keyboard knows US keys only: the key events a Persian layout sends.
    for key in ("۳", "٢"):  # Extended Arabic-Indic three, Arabic-Indic two
        page.evaluate(
            "key => document.activeElement.dispatchEvent("
            "new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true}))",
            key,
        )
    assert page.locator("input[name=q1_speech]:checked").get_attribute("value") == "3"
    assert page.locator("input[name=q2_salivation]:checked").get_attribute("value") == "2"
