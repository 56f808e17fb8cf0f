"""Reminder e-mails link to where the app is served: ECRF_SITE_URL when given, else the
HOST and PORT that `make run` serves on (a link to port 8000 of another run's port is dead)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reminders import channels
from reminders.models import Reminder
from tests.factories import transplanted_participant

ROOT = Path(__file__).resolve().parent.parent.parent


def _site_url(tmp_path: Path, **variables: str) -> str:
    """settings.SITE_URL as a fresh process with these variables reads it."""
    env = {k: v for k, v in os.environ.items() if k not in {"ECRF_SITE_URL", "HOST", "PORT"}}
    env |= {
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": "postgres://ecrf@127.0.0.1:5432/ecrf",
        "ECRF_VAR_DIR": str(tmp_path),
        **variables,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.SITE_URL)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_site_url_follows_make_runs_host_and_port_unless_given(tmp_path):
    assert _site_url(tmp_path) == "http://127.0.0.1:8000"
    assert _site_url(tmp_path, PORT="8123") == "http://127.0.0.1:8123"
    assert _site_url(tmp_path, HOST="10.0.0.5", PORT="8123") == "http://10.0.0.5:8123"
    wildcard = "0.0.0.0"  # noqa: S104 (a bind address make run may be given)
    assert _site_url(tmp_path, HOST=wildcard, PORT="8123") == "http://127.0.0.1:8123"
    assert _site_url(tmp_path, HOST="::1", PORT="8123") == "http://[::1]:8123"
    given = {"ECRF_SITE_URL": "https://ecrf.example.org", "PORT": "8123"}
    assert _site_url(tmp_path, **given) == "https://ecrf.example.org"


@pytest.mark.django_db
def test_the_reminder_email_links_to_the_site_url(
    settings, time_machine, coordinator_a, site_a, trial
):
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31))
    reminder = Reminder.objects.filter(visit__participant=participant, channel="email").first()
    assert reminder is not None
    settings.SITE_URL = "http://127.0.0.1:8123/"
    message = channels.render(reminder, "en")
    visit = reminder.visit
    link = f"http://127.0.0.1:8123/sites/ISF/participants/{visit.participant.pk}/visits/{visit.pk}/"
    assert link in message.text and link in message.html
    assert "http://127.0.0.1:8123/reminders/preferences/" in message.text
