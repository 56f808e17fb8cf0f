"""Logging in, out, and the lock after repeated wrong passwords."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_monitor_logs_in_and_out(client, monitor_a):
    # A monitor needs no second factor; the roles that do: tests/accounts.
    page = client.get(reverse("login"))
    assert page.status_code == 200
    response = client.post(reverse("login"), {"username": "monitor_a", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_passwords_are_hashed_with_argon2(coordinator_a):
    assert identify_hasher(coordinator_a.password).algorithm == "argon2"


def test_account_locks_after_five_wrong_passwords(client, coordinator_a):
    for _ in range(5):
        client.post(reverse("login"), {"username": "coord_a", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "coord_a", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text


def test_password_reset_sends_a_link_by_email(client, coordinator_a):
    response = client.post(reverse("password_reset"), {"email": coordinator_a.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
    assert coordinator_a.username in mail.outbox[0].body


def test_password_change_needs_the_old_password(client_for, coordinator_a):
    client = client_for(coordinator_a)
    bad = client.post(
        reverse("password_change"),
        {
            "old_password": "nope",
            "new_password1": "a-new-long-pass-2026",
            "new_password2": "a-new-long-pass-2026",
        },
    )
    assert bad.status_code == 200
    assert "Your old password was entered incorrectly" in bad.text


@pytest.mark.parametrize("length", [151, 256, 10_000])
def test_a_username_longer_than_any_account_is_a_field_error_not_a_500(client, length):
    from axes.models import AccessAttempt, AccessFailureLog

    response = client.post(reverse("login"), {"username": "u" * length, "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].has_error("username", "max_length")
    assert "at most 150 characters" in response.text
    # Refused before authentication: no failed attempt was recorded (axes' column is 255).
    assert not AccessAttempt.objects.exists() and not AccessFailureLog.objects.exists()


def test_a_username_of_the_longest_allowed_length_still_logs_in(client, site_a):
    from tests.factories import member
    from trials.models import Role

    member(Role.COORDINATOR, site_a, "c" * 150)
    response = client.post(reverse("login"), {"username": "c" * 150, "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")


def test_the_admin_login_refuses_an_overlong_username_too(client):
    from axes.models import AccessAttempt

    response = client.post(reverse("admin:login"), {"username": "u" * 256, "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].has_error("username", "max_length")
    assert not AccessAttempt.objects.exists()
