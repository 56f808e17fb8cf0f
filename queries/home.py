"""The queries of a site card (appended to trials.home.WORK and PANELS in ready()): the
coordinator's queries to answer, the monitor's and data manager's queries to close, and for
the data manager the unresolved queries by age and the edit checks with open findings."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from queries.models import Query, QueryStatus
from trials import permissions
from trials.home import Action, Work
from trials.models import Site

# The age bands of the data manager's line; the list's age filter has the same lower bounds.
FRESH_DAYS = 7
OLD_DAYS = 30


def queries_work(user, site: Site, roles: list[str]) -> list[Work]:
    """One aggregate query per site card, whatever the number of queries."""
    answers = permissions.can(user, permissions.ENTER_DATA, site)
    closes = permissions.can(user, permissions.RAISE_QUERIES, site)
    checks = permissions.can(user, permissions.RUN_CHECKS, site)
    if not (answers or closes or checks):
        return []
    now = timezone.now()
    fresh, old = now - timedelta(days=FRESH_DAYS), now - timedelta(days=OLD_DAYS)
    counts = (
        Query.objects.filter(site=site)
        .exclude(status=QueryStatus.CLOSED)
        .aggregate(
            open=Count("pk", filter=Q(status=QueryStatus.OPEN)),
            answered=Count("pk", filter=Q(status=QueryStatus.ANSWERED)),
            unresolved=Count("pk"),
            fresh=Count("pk", filter=Q(opened_at__gt=fresh)),
            middle=Count("pk", filter=Q(opened_at__lte=fresh, opened_at__gt=old)),
            old=Count("pk", filter=Q(opened_at__lte=old)),
            checks=Count("check_key", distinct=True, filter=~Q(check_key="")),
        )
    )
    listing = reverse("query-list", args=[site.code])
    work = []
    if answers:
        work.append(
            Work(
                _("Queries to answer"), counts["open"], listing + "?status=open", "question-circle"
            )
        )
    if closes:
        work.append(
            Work(
                _("Queries to close"),
                counts["answered"],
                listing + "?status=answered",
                "check2-circle",
            )
        )
    if checks:
        work.append(
            Work(
                _("Unresolved queries"),
                counts["unresolved"],
                listing + "?status=unresolved",
                "hourglass-split",
                detail=_(
                    "%(fresh)d under %(a)d days old · %(middle)d under %(b)d days · "
                    "%(old)d of %(b)d days or more"
                )
                % {
                    "fresh": counts["fresh"],
                    "middle": counts["middle"],
                    "old": counts["old"],
                    "a": FRESH_DAYS,
                    "b": OLD_DAYS,
                },
            )
        )
        work.append(
            Work(
                _("Edit checks with open findings"),
                counts["checks"],
                reverse("check-list", args=[site.code]),
                "funnel",
            )
        )
    return work


def queries_panel(user, site: Site, roles: list[str]) -> list[Action]:
    """Links only, no query."""
    if not permissions.can(user, permissions.VIEW_PARTICIPANTS, site):
        return []
    return [Action(_("Queries"), reverse("query-list", args=[site.code]), "chat-left-text")]
