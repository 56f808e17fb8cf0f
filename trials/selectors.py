"""Reads for sites and teams, always scoped through trials.permissions."""

from __future__ import annotations

from django.db.models import QuerySet

from trials import permissions
from trials.models import Membership, Site


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
