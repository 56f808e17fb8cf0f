"""The review panel of a site card (appended to trials.home.PANELS in ready()): each role's
review work first, with its count."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from review import selectors
from trials import permissions
from trials.home import Action
from trials.models import Site


def review_panel(user, site: Site, roles: list[str]) -> list[Action]:
    """A constant number of queries per site card (selectors.queue_counts)."""
    held = {cap for role in roles for cap in permissions.CAPABILITIES.get(role, ())}
    wanted = held & {permissions.VERIFY_SOURCE, permissions.REVIEW_AND_SIGN, permissions.LOCK_DATA}
    if not wanted:
        return []
    counts = selectors.queue_counts(user, site, wanted)
    queue = reverse("review-queue", args=[site.code])
    actions = []
    if permissions.VERIFY_SOURCE in wanted:
        actions.append(
            Action(
                _("Records to verify: %(n)d") % {"n": counts.to_verify},
                queue + "#to-verify",
                "patch-check",
            )
        )
    if permissions.REVIEW_AND_SIGN in wanted:
        actions.append(
            Action(_("Records to sign: %(n)d") % {"n": counts.to_sign}, queue + "#to-sign", "pen")
        )
        actions.append(
            Action(
                _("Serious adverse events to sign: %(n)d") % {"n": counts.serious_to_sign},
                queue + "#serious-to-sign",
                "pen-fill",
            )
        )
    if permissions.LOCK_DATA in wanted:
        actions.append(
            Action(_("Active locks: %(n)d") % {"n": counts.locks}, queue + "#locks", "lock")
        )
    return actions
