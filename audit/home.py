"""The audit panel of a site card (appended to trials.home.PANELS in ready())."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from trials import permissions
from trials.home import Action
from trials.models import Site


def audit_panel(user, site: Site, roles: list[str]) -> list[Action]:
    actions = []
    if permissions.can(user, permissions.VIEW_AUDIT_LOG, site):
        actions.append(
            Action(_("Audit log"), reverse("audit-log", args=[site.code]), "clock-history")
        )
    if permissions.can(user, permissions.VIEW_ACCESS_LOG, site):
        actions.append(
            Action(_("Access log"), reverse("access-log", args=[site.code]), "shield-lock")
        )
    return actions
