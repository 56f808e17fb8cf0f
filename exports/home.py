"""The export panel of a site card (appended to trials.home.PANELS in ready())."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from trials import permissions
from trials.home import Action
from trials.models import Site


def exports_panel(user, site: Site, roles: list[str]) -> list[Action]:
    if not permissions.can(user, permissions.EXPORT_DATA, site):
        return []
    return [
        Action(_("Export datasets"), reverse("export-page") + f"?site={site.code}", "download"),
        Action(_("Export log"), reverse("export-log"), "journal-text"),
    ]
