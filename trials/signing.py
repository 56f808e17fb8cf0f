"""Re-authentication for an electronic signature (eligibility override, AE assessment, the
review's signatures): one place, so the second factor (step 12) joins every signature."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device

TOKEN_FIELD = "token"  # noqa: S105 (a form field's name)
TOKEN_REFUSED = _("The code from your authenticator app is not correct (or was already used).")


def has_second_factor(actor: Any) -> bool:
    """Whether the signer has a confirmed authenticator (then a signature asks for its code).
    Those who must have one cannot reach a page before enrolling (accounts' middleware)."""
    return bool(getattr(actor, "is_authenticated", False)) and user_has_device(actor)


def identity_errors(actor: Any, password: str, token: str = "") -> set[str]:
    """The fields ("password", "token") that did not confirm the signer, empty when both did.
    The code is tried only after the password is right: a wrong password spends no code and
    counts no failure against the device."""
    if not (password and actor.check_password(password)):
        return {"password"}
    if not has_second_factor(actor):
        return set()
    token = "".join((token or "").split())
    if not token or len(token) > 16:
        return {TOKEN_FIELD}
    # One device at a time (the authenticator app, then the backup codes), each locked while it
    # checks the code, so a code is accepted once even by two signatures at the same moment.
    with transaction.atomic():
        for device in devices_for_user(actor, confirmed=True, for_verify=True):
            if device.verify_token(token):
                return set()
    return {TOKEN_FIELD}


def confirms_identity(actor: Any, password: str, token: str = "") -> bool:
    """Whether the signer typed their own password again now, and the current code of their
    authenticator app (or an unused backup code) when they have one."""
    return not identity_errors(actor, password, token)


def ask_second_factor(form: forms.Form, actor: Any) -> None:
    """Add the authenticator code to a signature form when the signer has a device."""
    if has_second_factor(actor):
        form.fields[TOKEN_FIELD] = forms.CharField(
            label=_("Code from your authenticator app"),
            required=False,
            max_length=16,
            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
            help_text=_("Six digits from the app, or one of your unused backup codes."),
        )
