"""Writes of the accounts app: enrolling and verifying the second factor, backup codes, the
reset of a lost device, and ending a user's sessions."""

from __future__ import annotations

from typing import Any

import django_otp
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AccessKind
from audit.services import log_access

BACKUP_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
BACKUP_NAME = "backup"


def _normalised(token: str) -> str:
    return "".join((token or "").split()).lower()


def pending_authenticator(user: Any) -> TOTPDevice:
    """The unconfirmed authenticator the enrolment page shows (made once, kept across reloads,
    so the QR code a user has scanned stays the one that is checked)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def new_backup_codes(user: Any) -> list[str]:
    """Replace the user's backup codes with BACKUP_CODE_COUNT new single-use ones."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def confirm_enrolment(request: Any, token: str) -> list[str]:
    """The first code from the app confirms the pending authenticator: the session is verified
    and the backup codes are made (returned once, to be shown once)."""
    user = request.user
    token = _normalised(token)
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(_("An authenticator is already set up for this account."))
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None or not token.isdigit() or not device.verify_token(token):
            raise ValidationError({"token": _("This code is not correct. Type the current one.")})
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = new_backup_codes(user)
    _verified(request, device)
    return codes


def verify_second_factor(request: Any, token: str) -> None:
    """A code from the app (or an unused backup code, spent) verifies this session."""
    token = _normalised(token)
    device = None
    if token and len(token) <= 16:
        with transaction.atomic():
            for candidate in devices_for_user(request.user, confirmed=True, for_verify=True):
                if candidate.verify_token(token):
                    device = candidate
                    break
    if device is None:
        log_access(
            AccessKind.LOGIN_FAILED,
            user=request.user,
            request=request,
            detail="second factor",
        )
        raise ValidationError({"token": _("This code is not correct (or was already used).")})
    _verified(request, device)


def _verified(request: Any, device: Any) -> None:
    # A new session key once the second factor is in: a key seen before it grants nothing more.
    request.session.cycle_key()
    django_otp.login(request, device)


def end_sessions(user: Any, *, keep: str | None = None) -> int:
    """Delete every live session of `user` (but the one whose key is `keep`): those browsers
    are signed out at their next request. Sessions are stored signed, not by user, so each
    live one is decoded; there are as many as people signed in."""
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep:
            continue
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def on_role_changed(membership: Any, *, actor: Any, granted: bool) -> None:
    """trials.hooks.ON_ROLE_CHANGED: a revoked role ends the user's sessions at once, rather
    than leaving open pages that still show what the role showed."""
    if not granted:
        end_sessions(membership.user)


def reset_second_factor(*, username: str, actor: Any, reason: str) -> int:
    """A lost device: delete the user's authenticators and backup codes and end their sessions;
    their next login asks them to enrol again. In the access log of each of their sites."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give the reason for the reset."))
    if not (actor.is_active and actor.is_superuser):
        raise ValidationError(_("Only a superuser may reset a second factor."))
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError(_("There is no account %(name)s.") % {"name": username})
    with transaction.atomic():
        deleted = 0
        for model in (TOTPDevice, StaticDevice):
            deleted += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
        end_sessions(user)
        sites = {m.site_id: m.site for m in user.memberships.active().select_related("site")}
        log_access(
            AccessKind.SECOND_FACTOR_RESET,
            user=actor,
            sites=sites.values(),
            detail=f"{user.get_username()}: {reason}",
        )
    return deleted
