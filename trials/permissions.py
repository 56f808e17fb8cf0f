"""Who may do what, where: the one place that decides.

Every view and every list query asks this module. A capability is held at a
site through a role; nothing is granted globally (superusers run the Django
admin, they do not see clinical pages unless they are members of a site).
"""

from __future__ import annotations

from collections.abc import Iterable

import rules
from django.db.models import QuerySet
from django.http import Http404

from trials.models import Membership, Role, Site

VIEW_SITE = "view_site"
VIEW_PARTICIPANTS = "view_participants"
VIEW_IDENTIFIERS = "view_identifiers"
ENTER_DATA = "enter_data"
ENROL = "enrol"
REVIEW_AND_SIGN = "review_and_sign"
VERIFY_SOURCE = "verify_source"
RAISE_QUERIES = "raise_queries"
# Run an edit check over a whole site and open its queries in bulk.
RUN_CHECKS = "run_checks"
LOCK_DATA = "lock_data"
EXPORT_DATA = "export_data"
MANAGE_TEAM = "manage_team"
# The site's audit log (every change, by whom, through which path) and its CSV.
VIEW_AUDIT_LOG = "view_audit_log"
# The site's access log (logins, lockouts, exports, role changes).
VIEW_ACCESS_LOG = "view_access_log"

_EVERYONE = {VIEW_SITE, VIEW_PARTICIPANTS}
CAPABILITIES: dict[str, frozenset[str]] = {
    Role.COORDINATOR: frozenset(_EVERYONE | {VIEW_IDENTIFIERS, ENTER_DATA, ENROL}),
    Role.INVESTIGATOR: frozenset(
        _EVERYONE
        | {VIEW_IDENTIFIERS, ENTER_DATA, ENROL, REVIEW_AND_SIGN, EXPORT_DATA, VIEW_AUDIT_LOG}
    ),
    Role.MONITOR: frozenset(_EVERYONE | {VERIFY_SOURCE, RAISE_QUERIES, VIEW_AUDIT_LOG}),
    Role.DATA_MANAGER: frozenset(
        _EVERYONE
        | {RAISE_QUERIES, RUN_CHECKS, LOCK_DATA, EXPORT_DATA, VIEW_AUDIT_LOG, VIEW_ACCESS_LOG}
    ),
    Role.SITE_ADMIN: frozenset(_EVERYONE | {MANAGE_TEAM, VIEW_ACCESS_LOG}),
}
ALL_CAPABILITIES = frozenset().union(*CAPABILITIES.values())


def roles_with(capability: str) -> list[str]:
    return [role for role, caps in CAPABILITIES.items() if capability in caps]


def _site_of(obj) -> Site | None:
    """A Site, or any record that belongs to one (has `.site`)."""
    if obj is None or isinstance(obj, Site):
        return obj
    return getattr(obj, "site", None)


def site_roles(user) -> dict[int, set[str]]:
    """{site id: roles} for the user's active memberships, cached on the user object per request."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_ecrf_site_roles", None)
    if cached is None:
        cached = {}
        zones: dict[str, str] = {}
        languages: dict[str, str] = {}
        # The sites' codes, zones and languages come with the roles, so a page learns its
        # time zone and default language from the query every page makes anyway (the
        # navigation asks for the roles).
        for site_id, role, code, zone, language, active in (
            Membership.objects.active()
            .filter(user=user)
            .values_list(
                "site_id",
                "role",
                "site__code",
                "site__time_zone",
                "site__language",
                "site__is_active",
            )
        ):
            cached.setdefault(site_id, set()).add(role)
            if active:
                zones[code] = zone
                languages[code] = language
        user._ecrf_site_roles = cached
        user._ecrf_site_zones = zones
        user._ecrf_site_languages = languages
    return cached


def site_time_zones(user) -> dict[str, str]:
    """{site code: IANA time zone} of the active sites the user may see (a member sees a site)."""
    if not site_roles(user):
        return {}
    return getattr(user, "_ecrf_site_zones", {})


def site_languages(user) -> dict[str, str]:
    """{site code: language ("" for none)} of the active sites the user may see."""
    if not site_roles(user):
        return {}
    return getattr(user, "_ecrf_site_languages", {})


def can(user, capability: str, obj=None) -> bool:
    """True if the user holds `capability` at the site of `obj` (or at any site if obj is None)."""
    if capability not in ALL_CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    roles_by_site = site_roles(user)
    if obj is None:
        role_sets: Iterable[set[str]] = roles_by_site.values()
    else:
        site = _site_of(obj)
        role_sets = [roles_by_site.get(site.pk, set())] if site is not None else []
    return any(capability in CAPABILITIES[role] for roles in role_sets for role in roles)


def sites_where(user, capability: str) -> QuerySet[Site]:
    """The sites at which the user holds `capability`: the scope of every list query."""
    site_ids = [
        sid
        for sid, roles in site_roles(user).items()
        if any(capability in CAPABILITIES[r] for r in roles)
    ]
    return Site.objects.filter(pk__in=site_ids, is_active=True)


def get_site_or_404(user, code: str, capability: str = VIEW_SITE) -> Site:
    """A site the user may act on; 404 (not 403) for any other, so site codes do not leak."""
    site = Site.objects.filter(code=code, is_active=True).first()
    if site is None or not can(user, capability, site):
        raise Http404
    return site


# Roles whose holders sign, manage a team or clean the data: a stolen password alone must not
# act for them. Anyone who may see identifiers or export is added by capability below.
_SECOND_FACTOR_ROLES = frozenset({Role.INVESTIGATOR, Role.DATA_MANAGER, Role.SITE_ADMIN})
_SECOND_FACTOR_CAPABILITIES = frozenset({VIEW_IDENTIFIERS, EXPORT_DATA})


def requires_second_factor(user) -> bool:
    """Whether the user must sign in with a second factor (step 12): investigators, data
    managers, site admins, anyone who may see identifiers or export at any site, and the
    superusers and staff of the Django admin (which shows every record)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return any(
        role in _SECOND_FACTOR_ROLES or CAPABILITIES[role] & _SECOND_FACTOR_CAPABILITIES
        for roles in site_roles(user).values()
        for role in roles
    )


def may_hold_roles(user) -> bool:
    """Whom a site administrator may give a role. Superusers are left out: their memberships
    are set in the Django admin, next to their other powers, not by a site's administrator."""
    return bool(user.is_active) and not user.is_superuser


def forget(user) -> None:
    """Drop the per-request cache after memberships change."""
    if hasattr(user, "_ecrf_site_roles"):
        del user._ecrf_site_roles
        del user._ecrf_site_zones


def _predicate_for(capability: str) -> rules.Predicate:
    @rules.predicate(name=f"can_{capability}")
    def holds(user, obj=None) -> bool:
        return can(user, capability, obj)

    return holds


# Rules integration: `user.has_perm("ecrf.enter_data", record)` works everywhere, templates included.
for _capability in ALL_CAPABILITIES:
    rules.add_perm(f"ecrf.{_capability}", _predicate_for(_capability))
