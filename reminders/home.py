"""The reminders panel of a site card (appended to trials.home.PANELS in VisitsConfig.ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from trials import permissions
from trials.home import Action
from trials.models import Site


def reminders_panel(user, site: Site, roles: list[str]) -> list[Action]:
    if not permissions.can(user, permissions.VIEW_PARTICIPANTS, site):
        return []
    return [
        Action(_("Visits due and overdue"), reverse("site-reminders", args=[site.code]), "bell")
    ]
