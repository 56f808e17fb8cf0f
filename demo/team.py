"""The demo study team: one user per role at the Isfahan site, with printed passwords.

Only for development machines (`make run`); the command refuses when DEBUG is off.
"""

from __future__ import annotations

from trials import services
from trials.models import Membership, Role, Site
from trials.protocols.nct02116634 import ISFAHAN

DEMO_USERS = [
    ("coordinator", Role.COORDINATOR, "Sara", "Coordinator"),
    ("investigator", Role.INVESTIGATOR, "Reza", "Investigator"),
    ("monitor", Role.MONITOR, "Mina", "Monitor"),
    ("datamanager", Role.DATA_MANAGER, "Ali", "Datamanager"),
    ("siteadmin", Role.SITE_ADMIN, "Nasrin", "Siteadmin"),
]


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


def load_demo_team() -> tuple[Site, list[tuple[str, str, str]]]:
    site = services.create_site(**ISFAHAN)
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
        logins.append((username, demo_password(username), str(role.label)))
    return site, logins
