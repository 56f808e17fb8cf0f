"""The coordinator's forms in progress on a site card (appended to trials.home.WORK)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from crfs import registry
from trials import permissions
from trials.home import Work
from trials.models import Site


def forms_work(user, site: Site, roles: list[str]) -> list[Work]:
    """Forms saved but not complete at the site: one UNION ALL count."""
    if not permissions.can(user, permissions.ENTER_DATA, site):
        return []
    first, *rest = [
        branch.values("pk") for branch in registry.in_progress(visit__participant__site=site)
    ]
    count = first.union(*rest, all=True).count()
    url = reverse("participant-list", args=[site.code]) + "?forms=in_progress"
    return [Work(_("Forms in progress"), count, url, "circle-half")]
