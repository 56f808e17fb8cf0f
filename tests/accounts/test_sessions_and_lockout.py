"""Accounts: lockout per account and per address, the idle timeout, and sessions ended by a
password change or a revoked role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from accounts.lockout import client_address
from audit.models import AccessEvent, AccessKind
from tests.factories import PASSWORD, member
from trials import services
from trials.models import Membership, Role

pytestmark = pytest.mark.django_db


def attempt(username: str, address: str, password: str = "wrong"):  # noqa: S107
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


def test_forty_failures_over_ten_user_names_lock_the_address(site_a):
    member(Role.MONITOR, site_a, "mina")
    # Four failures each: below the account limit (5), forty from the one address.
    for i in range(40):
        attempt(f"guess{i % 10}", "203.0.113.7")
    refused = attempt("mina", "203.0.113.7", PASSWORD)
    assert refused.status_code == 429
    assert "from this network address" in refused.text
    assert AccessEvent.objects.filter(kind=AccessKind.LOCKOUT, address="203.0.113.7").exists()
    # The account itself is not locked: from another address it logs in.
    assert attempt("mina", "198.51.100.2", PASSWORD).status_code == 302


def test_the_address_limit_is_reached_before_forty(site_a, settings):
    for i in range(settings.ECRF_ADDRESS_FAILURE_LIMIT - 1):
        attempt(f"guess{i}", "203.0.113.8")
    member(Role.MONITOR, site_a, "mina")
    assert attempt("mina", "203.0.113.8", PASSWORD).status_code == 302
    # mina's success does not wipe what the address tried on the other names.
    attempt("guess-last", "203.0.113.8")
    assert attempt("mina", "203.0.113.8", PASSWORD).status_code == 429


def test_one_account_failing_from_several_addresses_is_locked(site_a):
    member(Role.MONITOR, site_a, "mina")
    for i in range(4):
        assert attempt("mina", f"198.51.100.{i + 1}").status_code == 200
    assert attempt("mina", "198.51.100.5").status_code == 429  # the fifth failure locks
    refused = attempt("mina", "192.0.2.50", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.text
    assert AccessEvent.objects.filter(kind=AccessKind.LOCKOUT, username="mina").exists()
    # Other accounts from those addresses still log in.
    member(Role.MONITOR, site_a, "omid")
    assert attempt("omid", "198.51.100.1", PASSWORD).status_code == 302


def test_a_forwarded_address_is_believed_only_behind_a_trusted_proxy(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    with override_settings(DJANGO_TRUSTED_PROXY=False):
        assert client_address(request) == "10.0.0.2"
    with override_settings(DJANGO_TRUSTED_PROXY=True):
        # The proxy's own entry (the last): the client may have written the first.
        assert client_address(request) == "203.0.113.9"
    spoofed = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    with override_settings(DJANGO_TRUSTED_PROXY=True):
        assert client_address(spoofed) is None


def test_the_proxy_header_is_trusted_only_when_configured():
    import subprocess
    import sys

    code = (
        "import django, os; django.setup(); from django.conf import settings; "
        "print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    )

    def proxy_header(**env):
        import os

        environment = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings"} | env
        return subprocess.run(
            [sys.executable, "-c", code],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert proxy_header(DJANGO_TRUSTED_PROXY="false") == "None"
    assert proxy_header(DJANGO_TRUSTED_PROXY="true") == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_an_idle_session_ends_after_the_timeout_with_a_warning_before(
    client_for, coordinator_a, settings, time_machine
):
    settings.ECRF_IDLE_TIMEOUT_MINUTES = 30
    start = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    client = client_for(coordinator_a)
    page = client.get(reverse("home"))
    assert page.status_code == 200
    # The page tells static/js/idle.js how long is left (it warns a minute before).
    assert 'data-idle-seconds="1800"' in page.text and "js/idle.js" in page.text

    time_machine.move_to(start + timedelta(minutes=29), tick=False)
    assert client.get(reverse("home")).status_code == 200  # activity restarts the clock
    time_machine.move_to(start + timedelta(minutes=29 + 29, seconds=30), tick=False)
    kept = client.post(reverse("accounts-keep-alive"))
    assert kept.json() == {"seconds_left": 1800}

    time_machine.move_to(start + timedelta(minutes=29 + 29 + 31), tick=False)
    ended = client.get(reverse("site", args=["ISF"]))
    assert ended.status_code == 302 and ended.url.startswith(reverse("login"))
    assert "next=/sites/ISF/" in ended.url
    login_page = client.get(ended.url)
    assert "signed out after 30 minutes without activity" in login_page.text
    assert client.get(reverse("home")).status_code == 302
    assert AccessEvent.objects.filter(kind=AccessKind.LOGOUT, user=coordinator_a).exists()


def test_the_keep_alive_of_an_ended_session_says_so(client, coordinator_a, settings):
    settings.ECRF_IDLE_TIMEOUT_MINUTES = 30
    assert client.post(reverse("accounts-keep-alive")).status_code == 401


def test_a_password_change_ends_the_other_sessions(coordinator_a):
    here, elsewhere = Client(), Client()
    here.force_login(coordinator_a)
    elsewhere.force_login(coordinator_a)
    changed = here.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-pass-2026",
            "new_password2": "a-new-long-pass-2026",
        },
    )
    assert changed.status_code == 302
    assert here.get(reverse("home")).status_code == 200
    response = elsewhere.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_revoked_role_ends_that_users_sessions_at_once(site_a, coordinator_a):
    admin = member(Role.SITE_ADMIN, site_a, "nasrin")
    colleague = member(Role.MONITOR, site_a, "mina")
    phone, desktop, other = Client(), Client(), Client()
    phone.force_login(coordinator_a)
    desktop.force_login(coordinator_a)
    other.force_login(colleague)
    assert Session.objects.count() == 3

    membership = Membership.objects.get(user=coordinator_a, site=site_a)
    services.revoke_role(actor=admin, membership=membership)

    assert Session.objects.count() == 1
    for client in (phone, desktop):
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert other.get(reverse("home")).status_code == 200
    # A grant ends nothing.
    services.grant_role(actor=admin, site=site_a, user=colleague, role=Role.COORDINATOR)
    assert other.get(reverse("home")).status_code == 200


def test_pages_without_a_timeout_carry_no_idle_clock(client, client_for, monitor_a, settings):
    settings.ECRF_IDLE_TIMEOUT_MINUTES = 30
    assert "data-idle-seconds" not in client.get(reverse("login")).text
    settings.ECRF_IDLE_TIMEOUT_MINUTES = 0
    assert "data-idle-seconds" not in client_for(monitor_a).get(reverse("home")).text
