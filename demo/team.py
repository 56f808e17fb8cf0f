"""The demo study team: one user per role at the Isfahan site, with printed passwords.

Only for development machines (`make run`); the command refuses when DEBUG is off.
"""

from __future__ import annotations

import base64

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from trials import permissions, services
from trials.models import Membership, Role, Site
from trials.protocols.nct02116634 import ISFAHAN

DEMO_USERS = [
    ("coordinator", Role.COORDINATOR, "Sara", "Coordinator"),
    ("investigator", Role.INVESTIGATOR, "Reza", "Investigator"),
    ("monitor", Role.MONITOR, "Mina", "Monitor"),
    ("datamanager", Role.DATA_MANAGER, "Ali", "Datamanager"),
    ("siteadmin", Role.SITE_ADMIN, "Nasrin", "Siteadmin"),
]


# The demo users whose role needs a second factor share this authenticator key (README): add it
# to any authenticator app, or print the current code with `manage.py demo_code`.
DEMO_TOTP_SECRET = "ECRFDEMOECRFDEMOECRFDEMOECRFDEMO"  # noqa: S105 (published: demo only)


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


def demo_authenticator(user) -> TOTPDevice:
    """The demo user's authenticator, with the documented key (kept if already there)."""
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    device, _created = TOTPDevice.objects.update_or_create(
        user=user, name="demo authenticator", defaults={"key": key, "confirmed": True}
    )
    return device


def demo_signature_code(user) -> str:
    """A single-use backup code for one signature the demo loader writes in `user`'s name (an
    authenticator's code may sign once per 30 seconds; the loader signs several at once)."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="demo loader")
    token = StaticToken.random_token()
    StaticToken.objects.create(device=device, token=token)
    return token


def load_demo_team() -> tuple[Site, list[tuple[str, str, str]]]:
    # The Isfahan team works in Persian: the site's pages are Persian for a user who chose no
    # language (before the browser's).
    site = services.create_site(**ISFAHAN, language="fa")
    logins = []
    for username, role, first, last in DEMO_USERS:
        user = services.ensure_user(
            username=username,
            password=demo_password(username),
            email=f"{username}@example.org",
            first_name=first,
            last_name=last,
        )
        Membership.objects.get_or_create(user=user, site=site, role=role)
        permissions.forget(user)
        if permissions.requires_second_factor(user):
            demo_authenticator(user)
        logins.append((username, demo_password(username), str(role.label)))
    return site, logins
