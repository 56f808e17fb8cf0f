"""Two-factor sign-in: who must have it, enrolment at the first login, codes and backup codes,
the second factor of every signature, and the superuser's reset of a lost device.

These stories log in through the login page: `force_login` stands for a user who passed both
factors (tests/conftest.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AccessEvent, AccessKind
from tests.factories import PASSWORD, UserFactory, authenticator_code, member, with_authenticator
from trials import permissions, signing
from trials.models import Role

pytestmark = pytest.mark.django_db


def log_in(client: Client, username: str, password: str = PASSWORD):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.text[:500]
    return response


@pytest.mark.parametrize(
    ("role", "required"),
    [
        (Role.COORDINATOR, True),  # sees identifiers
        (Role.INVESTIGATOR, True),
        (Role.DATA_MANAGER, True),
        (Role.SITE_ADMIN, True),
        (Role.MONITOR, False),
    ],
)
def test_who_must_sign_in_with_a_second_factor(site_a, role, required):
    assert permissions.requires_second_factor(member(role, site_a)) is required


def test_superusers_need_it_and_people_without_a_role_do_not(db):
    assert permissions.requires_second_factor(UserFactory(is_superuser=True, is_staff=True))
    assert not permissions.requires_second_factor(UserFactory())


def test_an_investigator_enrols_at_first_login_and_reaches_nothing_before(client, site_a):
    investigator = member(Role.INVESTIGATOR, site_a, "reza")
    log_in(client, "reza")

    # Every page sends her to enrol first, keeping where she was going.
    for url in (
        reverse("home"),
        reverse("site", args=["ISF"]),
        reverse("participant-list", args=["ISF"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts-enrol"))
    page = client.get(response.url)
    assert page.status_code == 200
    assert "<svg" in page.text and 'class="segno"' in page.text  # the QR code, drawn here
    assert "<script>" not in page.text.replace(" ", "")
    secret = page.context["secret"].replace(" ", "")
    device = TOTPDevice.objects.get(user=investigator, confirmed=False)
    assert f"secret={secret}" in device.config_url

    wrong = client.post(reverse("accounts-enrol"), {"token": "000000", "next": "/"})
    assert wrong.status_code == 400
    assert wrong.context["form"].has_error("token")
    assert not TOTPDevice.objects.filter(user=investigator, confirmed=True).exists()

    done = client.post(
        reverse("accounts-enrol"), {"token": authenticator_code(device), "next": "/sites/ISF/"}
    )
    assert done.status_code == 302 and done.url.startswith(reverse("accounts-backup-codes"))
    codes_page = client.get(done.url)
    codes = codes_page.context["codes"]
    assert len(codes) == 10 and all(code in codes_page.text for code in codes)
    assert 'href="/sites/ISF/"' in codes_page.text
    # Shown once.
    assert client.get(done.url).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("site", args=["ISF"])).status_code == 200


def test_a_second_login_asks_for_the_code_and_a_backup_code_works_once(
    client, site_a, time_machine
):
    coordinator = member(Role.COORDINATOR, site_a, "sara")
    device = with_authenticator(coordinator)
    log_in(client, "sara")
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts-verify"))
    # With a device, enrolling another one needs the device first.
    assert client.get(reverse("accounts-enrol")).url.startswith(reverse("accounts-verify"))

    wrong = client.post(reverse("accounts-verify"), {"token": "123456"})
    assert wrong.status_code == 400 and wrong.context["form"].has_error("token")
    failed = AccessEvent.objects.get(kind=AccessKind.LOGIN_FAILED, username="sara")
    assert failed.detail == "second factor" and failed.address == "127.0.0.1"
    assert client.get(reverse("home")).status_code == 302

    # A wrong code holds the device back a moment (django-otp's throttle doubles each time).
    time_machine.move_to(timezone.now() + timedelta(seconds=2))
    ok = client.post(reverse("accounts-verify"), {"token": authenticator_code(device), "next": "/"})
    assert ok.status_code == 302 and ok.url == "/"
    assert client.get(reverse("home")).status_code == 200

    # The phone is lost: a backup code instead, once.
    codes_response = client.post(reverse("accounts-backup-codes"), {"next": "/"})
    code = client.get(codes_response.url).context["codes"][0]
    for attempt in range(2):
        other = Client()
        log_in(other, "sara")
        answer = other.post(reverse("accounts-verify"), {"token": code.upper(), "next": "/"})
        assert answer.status_code == (302 if attempt == 0 else 400)
    assert StaticToken.objects.filter(device__user=coordinator).count() == 9


def test_a_monitor_needs_none_but_once_enrolled_is_asked_for_it(client, site_a):
    monitor = member(Role.MONITOR, site_a, "mina")
    log_in(client, "mina")
    assert client.get(reverse("home")).status_code == 200
    security = client.get(reverse("accounts-security"))
    assert 'data-testid="status"' in security.text and reverse("accounts-enrol") in security.text

    client.get(reverse("accounts-enrol"))
    device = TOTPDevice.objects.get(user=monitor)
    client.post(reverse("accounts-enrol"), {"token": authenticator_code(device)})
    assert client.get(reverse("home")).status_code == 200

    again = Client()
    log_in(again, "mina")
    assert again.get(reverse("home")).url.startswith(reverse("accounts-verify"))


def test_next_never_leaves_the_site(client, site_a):
    device = with_authenticator(member(Role.INVESTIGATOR, site_a, "reza"))
    log_in(client, "reza")
    response = client.post(
        reverse("accounts-verify"),
        {"token": authenticator_code(device), "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response.url == reverse("home")


def test_a_signature_asks_for_the_code_once_the_signer_has_a_device(site_a, time_machine):
    investigator = member(Role.INVESTIGATOR, site_a, "reza")
    assert signing.identity_errors(investigator, PASSWORD) == set()
    device = with_authenticator(investigator)
    assert signing.identity_errors(investigator, "wrong", "") == {"password"}
    assert signing.identity_errors(investigator, PASSWORD, "") == {"token"}
    assert signing.identity_errors(investigator, PASSWORD, "12345678901234567890") == {"token"}
    code = authenticator_code(device)
    assert signing.confirms_identity(investigator, PASSWORD, code)
    # The same code is not accepted twice (a replayed signature).
    assert signing.identity_errors(investigator, PASSWORD, code) == {"token"}


def test_the_signature_forms_gain_the_code_field(client_for, site_a):
    from review.forms import SignForm

    investigator = member(Role.INVESTIGATOR, site_a, "reza")
    form = SignForm(record_choices=None)
    signing.ask_second_factor(form, investigator)
    assert "token" not in form.fields
    with_authenticator(investigator)
    signing.ask_second_factor(form, investigator)
    assert form.fields["token"].label == "Code from your authenticator app"


def test_the_override_service_refuses_a_missing_code(frozen, site_a, trial):
    from django.core.exceptions import ValidationError

    from crfs.screening import services as screening
    from tests.factories import consent, register, screening_forms

    coordinator = member(Role.COORDINATOR, site_a, "sara")
    investigator = member(Role.INVESTIGATOR, site_a, "reza")
    participant = register(
        coordinator, site_a, trial, screened_on=frozen.date() - timedelta(days=5)
    )
    consent(coordinator, participant)
    screening_forms(coordinator, participant, alsfrs={"q8_walking": 1})
    device = with_authenticator(investigator)
    with pytest.raises(ValidationError) as refused:
        screening.override_eligibility(
            actor=investigator, participant=participant, reason="PI decision", password=PASSWORD
        )
    assert "token" in refused.value.message_dict
    override = screening.override_eligibility(
        actor=investigator,
        participant=participant,
        reason="PI decision",
        password=PASSWORD,
        token=authenticator_code(device),
    )
    assert override.pk


def test_a_superuser_resets_a_lost_device_and_it_is_in_the_access_log(site_a):
    coordinator = member(Role.COORDINATOR, site_a, "sara")
    device = with_authenticator(coordinator)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    signed_in = Client()
    log_in(signed_in, "sara")
    signed_in.post(reverse("accounts-verify"), {"token": authenticator_code(device)})
    assert signed_in.get(reverse("home")).status_code == 200

    with pytest.raises(CommandError, match="reason"):
        call_command("reset_second_factor", "sara", "--by", "root", "--reason", " ")
    with pytest.raises(CommandError, match="superuser"):
        call_command("reset_second_factor", "sara", "--by", "sara", "--reason", "lost phone")
    with pytest.raises(CommandError, match="no account"):
        call_command("reset_second_factor", "nobody", "--by", "root", "--reason", "lost phone")
    call_command("reset_second_factor", "sara", "--by", "root", "--reason", "lost phone")

    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    assert not StaticToken.objects.filter(device__user=coordinator).exists()
    # Her open session ended; her next login enrols anew.
    assert signed_in.get(reverse("home")).url.startswith(reverse("login"))
    log_in(signed_in, "sara")
    assert signed_in.get(reverse("home")).url.startswith(reverse("accounts-enrol"))
    event = AccessEvent.objects.get(kind=AccessKind.SECOND_FACTOR_RESET)
    assert (event.user_id, event.site_id, event.detail) == (root.pk, site_a.pk, "sara: lost phone")


def test_sessions_of_other_users_survive_a_reset(site_a):
    member(Role.COORDINATOR, site_a, "sara")
    UserFactory(username="root", is_superuser=True)
    other = Client()
    other.force_login(member(Role.MONITOR, site_a, "mina"))
    call_command("reset_second_factor", "sara", "--by", "root", "--reason", "lost phone")
    assert Session.objects.count() == 1
    assert other.get(reverse("home")).status_code == 200


def test_the_qr_code_and_key_are_the_same_secret(client, site_a):
    member(Role.DATA_MANAGER, site_a, "ali")
    log_in(client, "ali")
    first = client.get(reverse("accounts-enrol"))
    # A reload shows the same key (the app scanned before still matches).
    assert client.get(reverse("accounts-enrol")).context["secret"] == first.context["secret"]
    assert re.fullmatch(r"[A-Z2-7 ]+", first.context["secret"])


def test_signing_a_visit_on_its_page_needs_the_code_of_the_signers_app(
    client_for, coordinator_a, m06
):
    from crfs.alsfrs_r.models import AlsfrsR
    from review.models import Signature
    from tests.factories import ALSFRS_NORMAL, investigator_of, save_crf

    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    investigator = investigator_of(participant.site)
    device = with_authenticator(investigator)
    url = reverse("review-sign", args=["ISF", participant.pk, "visit"]) + f"?visit={m06.pk}"
    client = client_for(investigator)
    page = client.get(url)
    assert "Code from your authenticator app" in page.text and 'name="token"' in page.text

    missing = client.post(url, {"password": PASSWORD})
    assert missing.status_code == 400 and missing.context["form"].has_error("token")
    wrong_password = client.post(url, {"password": "nope", "token": authenticator_code(device)})
    assert wrong_password.context["form"].has_error("password")
    assert not Signature.objects.exists()
    assert (
        client.post(url, {"password": PASSWORD, "token": authenticator_code(device)}).status_code
        == 302
    )
    assert Signature.objects.count() == 1
