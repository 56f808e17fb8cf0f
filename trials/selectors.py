"""Reads for sites and teams, always scoped through trials.permissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from trials import permissions
from trials.models import Membership, Role, Site


def sites_for_home(user) -> list[tuple[Site, list[str]]]:
    """The user's sites with the roles held there, in site-code order (one query)."""
    roles_by_site = permissions.site_roles(user)
    sites = Site.objects.filter(pk__in=roles_by_site, is_active=True).order_by("code")
    return [(site, sorted(roles_by_site[site.pk])) for site in sites]


def team_of(site: Site) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(site=site)
        .select_related("user")
        .order_by("-is_active", "user__username", "role")
    )


@dataclass(frozen=True)
class TeamChange:
    """One grant or revocation of a role at a site, read from the memberships' audit trail."""

    at: datetime
    user: Any
    role: str
    granted: bool
    by: Any  # None when the change was made outside a page (the demo loader, a migration)


def team_history(site: Site) -> list[TeamChange]:
    """Every grant and revocation at the site, newest first (two queries however long).

    A membership is never deleted, only deactivated, so its audit events say it all: an
    event that leaves it active is a grant (or a renewed grant), one that leaves it
    inactive is a revocation."""
    events = list(
        apps.get_model("trials", "MembershipEvent")
        .objects.filter(site_id=site.pk)
        .select_related("user")
        .order_by("-pgh_created_at", "-pgh_id")
    )

    def actor_id(event) -> Any:
        # Services name their actor; a page request without one still names its user.
        metadata = event.pgh_context or {}
        return metadata.get("actor_id", metadata.get("user"))

    actors = get_user_model().objects.in_bulk(
        {pk for event in events if (pk := actor_id(event)) is not None}
    )
    return [
        TeamChange(
            at=event.pgh_created_at,
            user=event.user,
            role=str(Role(event.role).label),
            granted=event.is_active,
            by=actors.get(actor_id(event)),
        )
        for event in events
    ]
