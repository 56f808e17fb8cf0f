"""Every page, download and API answer carries the strict Content-Security-Policy, the
Permissions-Policy, the Referrer-Policy and `Cache-Control: no-store`; static files stay
cacheable; the API description is for signed-in users only; the templates hold nothing the
policy would refuse (inline scripts, style attributes, event-handler attributes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from exports import services, tasks
from exports.models import ExportJob
from participants.choices import ParticipantStatus
from tests.factories import member
from tests.storage import use_folder
from trials.models import Role

pytestmark = pytest.mark.django_db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)


def assert_secure_headers(response, *, label: str) -> None:
    assert response["Content-Security-Policy"] == CSP, label
    assert "unsafe-inline" not in response["Content-Security-Policy"], label
    assert "unsafe-eval" not in response["Content-Security-Policy"], label
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions, label
    assert "no-store" in response["Cache-Control"], label
    assert response["Pragma"] == "no-cache", label
    assert response["Referrer-Policy"] == "same-origin", label
    assert response["X-Content-Type-Options"] == "nosniff", label


@pytest.fixture
def investigator(site_a):
    return member(Role.INVESTIGATOR, site_a, "inv_a")


def test_every_kind_of_page_and_download_carries_the_headers(
    investigator,
    site_a,
    m06,
    client_for,
    settings,
    tmp_path,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    use_folder(settings, "exports", tmp_path / "exports")
    monkeypatch.setattr(tasks.run_export_job, "delay", lambda job_id: services.run_export(job_id))
    participant = m06.participant
    client = client_for(investigator)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("export-page"),
            {
                "forms": ["participants", "alsfrs_r"],
                "visits": ["SCR", "BL", "M06"],
                "sites": [str(site_a.pk)],
                "statuses": list(ParticipantStatus.values),
                "fmt": "csv",
                "layout": "long",
                "date_mode": "shift",
            },
        )
    assert created.status_code == 302
    job = ExportJob.objects.get()
    code = site_a.code
    pages = {
        "home": reverse("home"),
        "participant list": reverse("participant-list", args=[code]),
        "participant": reverse("participant-detail", args=[code, participant.pk]),
        "visit": reverse("visit-detail", args=[code, participant.pk, m06.pk]),
        "form": reverse("crf-entry", args=[code, participant.pk, m06.pk, "alsfrs_r"]),
        "queries": reverse("query-list", args=[code]),
        "audit log": reverse("audit-log", args=[code]),
        "exports": reverse("export-page"),
        "export job": reverse("export-job", args=[job.pk]),
        "export status (htmx)": reverse("export-job-status", args=[job.pk]),
        "screening log CSV": reverse("screening-log-csv", args=[code]),
        "reports dashboard": reverse("reports-dashboard"),
        "API list": reverse("api-participants"),
        "API schema": reverse("api-schema"),
        "API docs": reverse("api-docs"),
        "API docs script": reverse("api-docs") + "?script=",
    }
    for label, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (label, response.status_code)
        assert_secure_headers(response, label=label)

    download = client.get(reverse("export-download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert_secure_headers(download, label="export download")
    download.close()


def test_the_admin_and_the_login_page_carry_the_headers(client, site_a):
    login = client.get(reverse("login"))
    assert login.status_code == 200
    assert_secure_headers(login, label="login (anonymous)")

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 20)
    client.force_login(admin)
    for label, url in {
        "admin index": reverse("admin:index"),
        "admin change list": reverse("admin:trials_site_changelist"),
    }.items():
        response = client.get(url)
        assert response.status_code == 200, label
        assert_secure_headers(response, label=label)


def test_the_api_description_is_refused_to_anonymous_visitors(client, investigator, client_for):
    for url in (reverse("api-schema"), reverse("api-docs"), reverse("api-docs") + "?script="):
        response = client.get(url)
        assert response.status_code in (401, 403), url
        assert b"openapi" not in response.content and b"SwaggerUIBundle" not in response.content
    signed_in = client_for(investigator)
    assert b"openapi" in signed_in.get(reverse("api-schema")).content


def test_the_api_docs_page_has_no_inline_script(client_for, investigator):
    html = client_for(investigator).get(reverse("api-docs")).text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts)
    assert "<style" not in html and " style=" not in html


def test_static_files_stay_cacheable(client, investigator):
    settings_override = {"WHITENOISE_USE_FINDERS": True, "WHITENOISE_AUTOREFRESH": True}
    from django.test import override_settings

    with override_settings(**settings_override):
        static = Client()  # a new handler: WhiteNoise reads its settings when it starts
        static.force_login(investigator)
        response = static.get(settings.STATIC_URL + "css/ecrf.css")
        assert response.status_code == 200
        assert "no-store" not in response.get("Cache-Control", "")
        assert "Pragma" not in response
        response.close()


# E-mails are not web pages: no CSP applies in a mail client, and most mail clients keep only
# inline styles, so the reminder and alert e-mails keep their style attributes.
ALLOWED = {"reminders/email/"}
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
FORBIDDEN = {
    "inline script": INLINE_SCRIPT,
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "htmx inline handler": re.compile(r"\s(?:data-)?hx-on", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_templates_hold_nothing_the_policy_refuses():
    root = Path(settings.BASE_DIR) / "templates"
    found = []
    for path in sorted(root.rglob("*.html")):
        name = path.relative_to(root).as_posix()
        if any(name.startswith(prefix) for prefix in ALLOWED):
            continue
        text = path.read_text(encoding="utf-8")
        for kind, pattern in FORBIDDEN.items():
            found += [f"{name}: {kind}: {m.group(0)!r}" for m in pattern.finditer(text)]
    assert found == []


def test_the_scan_finds_what_it_looks_for():
    samples = {
        "inline script": '<script>alert(1)</script><script src="/static/x.js"></script>',
        "style attribute": '<div class="a" style="width: 4%">',
        "event-handler attribute": '<button onclick="go()">',
        "htmx inline handler": '<form hx-on::after-request="x()">',
    }
    for kind, sample in samples.items():
        assert len(FORBIDDEN[kind].findall(sample)) == 1, kind
