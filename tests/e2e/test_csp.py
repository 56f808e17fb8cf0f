"""Under the strict Content-Security-Policy the pages work in a real browser: an investigator
walks the home page, a participant, a visit, a form, the reports and the API docs without a
single violation reported, and the export job page still polls its status through htmx
until the download appears."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from exports.models import ExportJob, ExportStatus
from exports.options import ExportOptions
from participants.choices import ParticipantStatus
from tests.e2e.second_factor import pass_second_factor
from tests.factories import PASSWORD, SiteFactory, member, transplanted_participant
from trials import services
from trials.models import Role
from trials.protocols import PROTOCOLS
from visits.services import record_visit_date

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The browser's own report of every violation (the console message may be worded differently
# from one chromium to the next); installed before any page script runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor(page, base)
    page.wait_for_url(f"{base}/")


def watch(page, console: list[str], errors: list[str]) -> None:
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(RECORD_VIOLATIONS)


def visit(page, base: str, path: str) -> None:
    response = page.goto(f"{base}{path}")
    assert response is not None and response.status == 200, path
    assert "script-src 'self'" in response.headers["content-security-policy"]
    violations = page.evaluate("window.__violations")
    assert violations == [], (path, violations)


def refused(console: list[str]) -> list[str]:
    return [text for text in console if "Content Security Policy" in text or "Refused to" in text]


def test_pages_run_under_the_policy_and_htmx_still_polls(live_server, browser, page):
    base = live_server.url
    site = SiteFactory(code="ISF", name="Neurosciences Research Center, Isfahan")
    trial = services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    coordinator = member(Role.COORDINATOR, site, "sara")
    investigator = member(Role.INVESTIGATOR, site, "reza")
    today = site.local_today()
    participant = transplanted_participant(coordinator, site, trial, on=today - timedelta(days=190))
    m06 = participant.visits.get(code="M06")
    record_visit_date(actor=coordinator, visit=m06, actual_date=today)

    console: list[str] = []
    errors: list[str] = []
    watch(page, console, errors)

    visit(page, base, reverse("login"))
    log_in(page, base, "reza")
    code = site.code
    visit(page, base, reverse("home"))
    visit(page, base, reverse("participant-list", args=[code]))
    visit(page, base, reverse("participant-detail", args=[code, participant.pk]))
    visit(page, base, reverse("visit-detail", args=[code, participant.pk, m06.pk]))
    visit(page, base, reverse("crf-entry", args=[code, participant.pk, m06.pk, "alsfrs_r"]))
    visit(page, base, reverse("reports-dashboard"))
    visit(page, base, reverse("reports-dashboard-site", args=[code]))
    visit(page, base, reverse("reports-cohort"))
    visit(page, base, reverse("export-page"))

    # The API docs: Swagger UI draws the schema from its init script, a separate file.
    visit(page, base, reverse("api-docs"))
    page.locator(".swagger-ui .info").wait_for()
    assert page.locator(".opblock").count() > 0
    assert page.evaluate("window.__violations") == []

    # The export job page polls its status every second (hx-get); the job finishes meanwhile.
    options = ExportOptions(
        forms=("participants",),
        visits=("SCR",),
        site_ids=(site.pk,),
        statuses=tuple(ParticipantStatus.values),
    )
    job = ExportJob.objects.create(
        requested_by=investigator,
        options=options.to_json(),
        fmt="csv",
        deidentified=False,
        status=ExportStatus.RUNNING,
        progress=42,
    )
    job.sites.set([site])
    page.goto(f"{base}{reverse('export-job', args=[job.pk])}")
    page.locator("#export-status progress").wait_for()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error="stopped by test")
    page.get_by_text("The export failed.").wait_for()
    assert page.evaluate("window.__violations") == []

    # The second factor's enrolment: the QR code is server-side SVG with no style attribute.
    visit(page, base, reverse("accounts-enrol"))
    assert page.locator("svg").count() > 0

    assert refused(console) == []
    assert errors == []

    # The admin, as a superuser in a browser of their own.
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    context = browser.new_context(locale="en-GB")
    admin = context.new_page()
    admin_console: list[str] = []
    watch(admin, admin_console, errors)
    log_in(admin, base, "root")
    visit(admin, base, reverse("admin:index"))
    visit(admin, base, reverse("admin:trials_site_changelist"))
    visit(admin, base, reverse("admin:trials_site_change", args=[site.pk]))
    context.close()
    assert refused(admin_console) == []
    assert errors == []
