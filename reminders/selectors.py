"""Reads for reminders: the coordinators' dashboard, notifications and the calendar feed.

Every read is scoped to the user's sites through trials.permissions; query counts do
not grow with the number of visits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from participants import lifecycle
from reminders.models import Notification
from trials import permissions
from trials.models import Site
from visits.choices import VisitStatus
from visits.models import Visit

WEEK_DAYS = 7
RECENTLY_MISSED_DAYS = 30


@dataclass
class DueVisit:
    visit: Visit
    status: VisitStatus
    days: int  # overdue: days since the window closed; open: days left; soon: days to opening


@dataclass
class Dashboard:
    today: date
    overdue: list[DueVisit] = field(default_factory=list)
    window_open: list[DueVisit] = field(default_factory=list)
    this_week: list[DueVisit] = field(default_factory=list)
    recently_missed: list[Visit] = field(default_factory=list)


def dashboard(site: Site, today: date) -> Dashboard:
    """Visits needing action at one site, most urgent first (two queries at any size)."""
    board = Dashboard(today=today)
    active = Visit.objects.filter(participant__site=site).exclude(
        participant__status__in=lifecycle.TERMINAL
    )
    due = (
        active.open()
        .filter(window_start__lte=today + timedelta(days=WEEK_DAYS))
        .select_related("participant")
        .order_by("window_end", "window_start", "participant__study_id", "pk")
    )
    for visit in due:
        status = visit.status_on(today)
        if status == VisitStatus.OVERDUE:
            board.overdue.append(DueVisit(visit, status, (today - visit.window_end).days))
        elif status == VisitStatus.WINDOW_OPEN:
            board.window_open.append(DueVisit(visit, status, (visit.window_end - today).days))
        else:
            board.this_week.append(DueVisit(visit, status, (visit.window_start - today).days))
    board.overdue.sort(key=lambda row: -row.days)  # longest overdue first
    board.this_week.sort(key=lambda row: (row.days, row.visit.participant.study_id or ""))
    since = timezone.now() - timedelta(days=RECENTLY_MISSED_DAYS)
    board.recently_missed = list(
        Visit.objects.filter(
            participant__site=site, status=VisitStatus.MISSED, updated_at__gte=since
        )
        .select_related("participant")
        .order_by("-updated_at", "pk")
    )
    return board


def _site_ids(user) -> list[int]:
    return list(permissions.site_roles(user))


def notifications_for(user) -> QuerySet[Notification]:
    """The user's own notifications, about sites where the user still holds a role."""
    return Notification.objects.filter(user=user, site_id__in=_site_ids(user))


def unread_count(user) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


def calendar_visits(user, today: date) -> QuerySet[Visit]:
    """Open visits at the user's sites whose window has not closed yet, by window."""
    return (
        Visit.objects.open()
        .filter(
            participant__site__in=permissions.sites_where(user, permissions.VIEW_PARTICIPANTS),
            window_start__isnull=False,
            window_end__gte=today,
        )
        .exclude(participant__status__in=lifecycle.TERMINAL)
        .select_related("participant__site")
        .order_by("window_start", "pk")
    )
