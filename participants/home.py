"""The participants panel of a site card (appended to trials.home.PANELS in ready())."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from trials import permissions
from trials.home import Action
from trials.models import Site


def participants_panel(user, site: Site, roles: list[str]) -> list[Action]:
    actions = []
    if permissions.can(user, permissions.VIEW_PARTICIPANTS, site):
        actions.append(
            Action(_("Participants"), reverse("participant-list", args=[site.code]), "people-fill")
        )
    if permissions.can(user, permissions.ENROL, site):
        actions.append(
            Action(
                _("Register a participant"),
                reverse("participant-register", args=[site.code]),
                "person-plus",
            )
        )
    return actions
