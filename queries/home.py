"""The queries panel of a site card (appended to trials.home.PANELS in ready())."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from trials import permissions
from trials.home import Action
from trials.models import Site


def queries_panel(user, site: Site, roles: list[str]) -> list[Action]:
    """Links only, no query: the home page's query count does not grow with panels."""
    if not permissions.can(user, permissions.VIEW_PARTICIPANTS, site):
        return []
    listing = reverse("query-list", args=[site.code])
    actions = []
    if permissions.can(user, permissions.ENTER_DATA, site):
        actions.append(Action(_("Queries to answer"), listing + "?status=open", "question-circle"))
    if permissions.can(user, permissions.RAISE_QUERIES, site):
        actions.append(Action(_("Queries to close"), listing + "?status=answered", "check2-circle"))
    if permissions.can(user, permissions.RUN_CHECKS, site):
        actions.append(Action(_("Edit checks"), reverse("check-list", args=[site.code]), "funnel"))
    if not actions:
        actions.append(Action(_("Queries"), listing, "question-circle"))
    return actions
