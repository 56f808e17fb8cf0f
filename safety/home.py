"""The safety panel of a site card (appended to trials.home.PANELS in ready())."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from trials import permissions
from trials.home import Action
from trials.models import Site


def safety_panel(user, site: Site, roles: list[str]) -> list[Action]:
    """Links only, no query: the home page makes the same queries with or without it."""
    if not permissions.can(user, permissions.VIEW_PARTICIPANTS, site):
        return []
    listing = reverse("ae-listing", args=[site.code])
    actions = [Action(_("Adverse events"), listing, "clipboard2-pulse")]
    if permissions.can(user, permissions.REVIEW_AND_SIGN, site):
        actions.append(
            Action(
                _("Serious adverse events to acknowledge"),
                listing + "?unacknowledged=1",
                "exclamation-triangle",
            )
        )
    return actions
