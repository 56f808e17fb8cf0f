"""The reminders panel of a site card (appended to trials.home.PANELS in VisitsConfig.ready)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from participants import lifecycle
from trials import permissions
from trials.home import Action, Work
from trials.models import Site
from visits.models import Visit


def reminders_work(user, site: Site, roles: list[str]) -> list[Work]:
    """The coordinator's visits due: window open now or already closed (one query)."""
    if not permissions.can(user, permissions.ENTER_DATA, site):
        return []
    today = site.local_today()
    counts = (
        Visit.objects.open()
        .filter(participant__site=site, window_start__lte=today)
        .exclude(participant__status__in=lifecycle.TERMINAL)
        .aggregate(due=Count("pk"), overdue=Count("pk", filter=Q(window_end__lt=today)))
    )
    return [
        Work(
            _("Visits due"),
            counts["due"],
            reverse("site-reminders", args=[site.code]),
            "calendar-check",
            detail=_("%(n)d overdue") % {"n": counts["overdue"]},
        )
    ]


def reminders_panel(user, site: Site, roles: list[str]) -> list[Action]:
    if not permissions.can(user, permissions.VIEW_PARTICIPANTS, site):
        return []
    return [
        Action(_("Visits due and overdue"), reverse("site-reminders", args=[site.code]), "bell")
    ]
