"""The study dashboard's numbers over one or several sites: the kept tallies of each site
(reports.tallies: every participant's counts, summed per site and counted again only for the
participants whose data changed) and, for what moves with the calendar day (visits overdue
or in their window, the age of open queries), aggregates in SQL; the page makes the same
number of queries whatever the number of participants, visits, forms, queries or events.

Every figure is defined as the list page behind it defines its rows, so a number on the
dashboard is the count of the rows its link shows: visit attendance as `visits.schedule`
(dates, the site's today), out of window as `clinic.selectors.OUT_OF_WINDOW`, screen
failures by criterion as the screening log, query age as the queries list, relatedness as
the adverse-event listing, SDV as the review queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from crfs import registry
from crfs.eligibility.scoring import CRITERIA
from crfs.screening.selectors import OTHER_FAILURE
from participants.choices import ParticipantStatus
from queries.models import UNRESOLVED, Query, QueryStatus
from reports import freshness, tallies, tallies_services
from safety.choices import Grade
from trials.models import Site
from trials.protocols import PROTOCOLS
from trials.protocols.definitions import UNSCHEDULED_CODE
from visits.choices import VisitStatus
from visits.models import Visit

# --- enrolment over time ------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    month: date  # the first day of the month
    screened: int  # registered for screening in the month
    enrolled: int  # enrolled in the month
    screened_total: int  # cumulative, up to and including the month
    enrolled_total: int


def _months(first: date, last: date) -> list[date]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def enrolment(total: dict[str, int]) -> list[Month]:
    """Screened and enrolled per calendar month (screening and enrolment dates, site-local
    calendar dates), with their running totals; every month between the first and the last
    is listed, months without anyone too. `total`: the sites' kept tallies (`summed`)."""
    counts: dict[tuple[date, str], int] = {}
    for key, n in total.items():
        kind, _sep, year_month = key.partition(":")
        if kind in ("screened", "enrolled") and n:
            year, number = year_month.split("-")
            counts[(date(int(year), int(number), 1), kind)] = n
    if not counts:
        return []
    months = sorted({first for first, _kind in counts})
    rows, screened_total, enrolled_total = [], 0, 0
    for month in _months(months[0], months[-1]):
        s, e = counts.get((month, "screened"), 0), counts.get((month, "enrolled"), 0)
        screened_total += s
        enrolled_total += e
        rows.append(Month(month, s, e, screened_total, enrolled_total))
    return rows


# --- participants by status ---------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    key: str
    label: str
    n: int


def by_status(total: dict[str, int]) -> list[Tally]:
    """Participants by their current status, in the lifecycle's order, zeros included."""
    return [
        Tally(value, str(label), total.get(tallies.status_key(value), 0))
        for value, label in ParticipantStatus.choices
    ]


# --- screen failures by criterion ---------------------------------------------------------


def screen_failures(total: dict[str, int]) -> list[Tally]:
    """Screen failures by the failed criteria of their screening checklist, as the screening
    log counts them: a participant with several failed criteria counts under each, one with
    none (or no checklist) under "other"."""
    counts = {
        code: total.get(tallies.failure_key(code), 0)
        for code in [*(c.code for c in CRITERIA), OTHER_FAILURE]
    }
    rows = [Tally(c.code, str(c.label), counts[c.code]) for c in CRITERIA if counts[c.code]]
    if counts[OTHER_FAILURE]:
        rows.append(
            Tally(
                OTHER_FAILURE,
                str(_("Other (no failed checklist criterion)")),
                counts[OTHER_FAILURE],
            )
        )
    return rows


# --- visit completion per timepoint -------------------------------------------------------

# Attendance as visits.schedule.visit_status decides it on the site's today, the order the
# figure stacks them in. Visits no longer expected (after the end of study) are left out.
ATTENDANCE = (
    ("in_window", _("Attended in window")),
    ("out_of_window", _("Attended out of window")),
    ("missed", _("Missed")),
    ("overdue", _("Overdue")),
    ("window_open", _("Window open")),
    ("upcoming", _("Upcoming")),
)


@dataclass(frozen=True)
class Timepoint:
    code: str
    label: str
    counts: dict[str, int]  # ATTENDANCE key → visits

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _on_site_day(sites: Sequence[Site], today: dict[int, date], lookup: str) -> Q:
    """`lookup` compared with each site's own today (sites' calendar days differ)."""
    condition = Q(pk__in=[])
    for site in sites:
        condition |= Q(participant__site_id=site.pk, **{lookup: today[site.pk]})
    return condition


def _visit_label(code: str) -> str:
    for protocol in PROTOCOLS.values():
        for visit in protocol.visits:
            if visit.code == code:
                return str(visit.label)
    return code


def _visit_order(code: str) -> tuple[int, str]:
    positions = [
        index
        for protocol in PROTOCOLS.values()
        for index, visit in enumerate(protocol.visits)
        if visit.code == code
    ]
    return (min(positions) if positions else len(positions) + 1000, code)


def visit_completion(
    sites: Sequence[Site], today: dict[int, date], total: dict[str, int] | None = None
) -> list[Timepoint]:
    """Scheduled visits per timepoint by attendance, in protocol order. Attended and missed
    visits from the kept tallies (`total`, else read), the visits still open counted now,
    on each site's today (one query, two more without `total`)."""
    if total is None:
        total = summed(sites)
    still_open = Q(actual_date__isnull=True) & ~Q(
        status__in=[VisitStatus.MISSED, VisitStatus.NOT_EXPECTED]
    )
    windowed = Q(window_start__isnull=False, window_end__isnull=False)
    overdue = windowed & _on_site_day(sites, today, "window_end__lt")
    window_open = (
        windowed
        & _on_site_day(sites, today, "window_start__lte")
        & _on_site_day(sites, today, "window_end__gte")
    )
    live: dict[str, dict[str, Any]] = {
        row["code"]: dict(row)
        for row in Visit.objects.filter(still_open, participant__site__in=sites)
        .exclude(code=UNSCHEDULED_CODE)
        .order_by()
        .values("code")
        .annotate(
            overdue=Count("pk", filter=overdue),
            window_open=Count("pk", filter=window_open),
            upcoming=Count("pk", filter=~overdue & ~window_open),
        )
    }
    codes = set(live)
    for key, n in total.items():
        kind, _sep, rest = key.partition(":")
        if kind == "visit" and n:
            codes.add(rest.rpartition(":")[0])
    result = []
    for code in sorted(codes, key=_visit_order):
        row: dict[str, Any] = live.get(code, {})
        counts = {
            key: total.get(tallies.visit_key(code, key), 0)
            for key in (tallies.IN_WINDOW, tallies.OUT_OF_WINDOW, tallies.MISSED)
        }
        counts |= {key: int(row.get(key, 0)) for key in ("overdue", "window_open", "upcoming")}
        result.append(
            Timepoint(code, _visit_label(code), {key: counts[key] for key, _l in ATTENDANCE})
        )
    return result


# --- form completeness --------------------------------------------------------------------

COMPLETENESS = (
    ("complete", _("Complete")),
    ("in_progress", _("In progress")),
    ("not_started", _("Not started")),
)


@dataclass(frozen=True)
class FormCompleteness:
    code: str
    label: str
    counts: dict[str, int]  # COMPLETENESS key → forms

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def form_completeness(total: dict[str, int]) -> list[FormCompleteness]:
    """Per case report form: of the forms the protocol expects at attended visits (a visit
    with a date; missed and future visits expect nothing yet), how many are complete (or
    verified, signed, locked), in progress, or not started (no record)."""
    rows = []
    for code, spec in registry.entry_forms().items():
        expected = total.get(tallies.form_key(code, tallies.EXPECTED), 0)
        if not expected:
            continue
        complete = total.get(tallies.form_key(code, tallies.COMPLETE), 0)
        in_progress = total.get(tallies.form_key(code, tallies.IN_PROGRESS), 0)
        counts = {
            "complete": complete,
            "in_progress": in_progress,
            "not_started": expected - complete - in_progress,
        }
        rows.append(FormCompleteness(code, str(spec.title), counts))
    return rows


# --- open queries by age ------------------------------------------------------------------

# (key, label, youngest age in days, oldest age in days or None): whole days since opening,
# as the queries list shows a query's age (Query.age_days).
QUERY_AGES = (
    ("0_7", _("0 to 7 days"), 0, 7),
    ("8_30", _("8 to 30 days"), 8, 30),
    ("over_30", _("More than 30 days"), 31, None),
)


@dataclass(frozen=True)
class QueryAge:
    key: str
    label: str
    min_days: int
    max_days: int | None
    open: int  # waiting for the site
    answered: int  # waiting for the monitor or data manager

    @property
    def total(self) -> int:
        return self.open + self.answered


def _age_between(now: datetime, min_days: int, max_days: int | None) -> Q:
    """Age in whole days (floor of now - opened) within [min_days, max_days]."""
    condition = Q(opened_at__lte=now - timedelta(days=min_days))
    if max_days is not None:
        condition &= Q(opened_at__gt=now - timedelta(days=max_days + 1))
    return condition


def open_queries_by_age(sites: Sequence[Site], now: datetime) -> list[QueryAge]:
    """Unresolved queries (open or answered) by age (one query)."""
    counts: dict[str, Any] = {}
    for key, _label, low, high in QUERY_AGES:
        age = _age_between(now, low, high)
        counts[f"{key}_open"] = Count("pk", filter=age & Q(status=QueryStatus.OPEN))
        counts[f"{key}_answered"] = Count("pk", filter=age & Q(status=QueryStatus.ANSWERED))
    row = Query.objects.filter(site__in=sites, status__in=UNRESOLVED).aggregate(**counts)
    return [
        QueryAge(key, str(label), low, high, row[f"{key}_open"], row[f"{key}_answered"])
        for key, label, low, high in QUERY_AGES
    ]


# --- SDV progress -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sdv:
    site: Site
    total: int  # records the trial's targeted SDV asks for, ready for review
    verified: int

    @property
    def to_verify(self) -> int:
        return self.total - self.verified

    @property
    def percent(self) -> int:
        return round(100 * self.verified / self.total) if self.total else 100


def sdv(sites: Sequence[Site], per_site: dict[int, dict[str, int]]) -> list[Sdv]:
    """Per site, as the review queue counts it (review.selectors.sdv_totals), from the kept
    tallies of each site."""
    return [
        Sdv(
            site,
            per_site.get(site.pk, {}).get(tallies.SDV_TOTAL, 0),
            per_site.get(site.pk, {}).get(tallies.SDV_VERIFIED, 0),
        )
        for site in sites
    ]


# --- adverse events by grade and relatedness ----------------------------------------------

RELATEDNESS = (
    ("related", _("Related (possible, probable, definite)")),
    ("not_related", _("Not related or unlikely")),
    ("unknown", _("Relatedness not recorded")),
)
NOT_GRADED = 0


@dataclass(frozen=True)
class GradeRow:
    grade: int  # 1-5, or NOT_GRADED
    label: str
    counts: dict[str, int]  # RELATEDNESS key → events

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def adverse_events(total: dict[str, int]) -> list[GradeRow]:
    """Adverse events by CTCAE grade and relatedness to the procedure or the cells as entered,
    as the adverse-event listing filters them: related if either is possible or more; not
    related if both are recorded and neither is; else not recorded."""
    result = []
    for grade, label in [*Grade.choices, (NOT_GRADED, _("Not graded"))]:
        counts = {key: total.get(tallies.ae_key(grade, key), 0) for key, _l in RELATEDNESS}
        result.append(GradeRow(grade, str(label), counts))
    return result


# --- the whole dashboard ------------------------------------------------------------------


@dataclass
class Dashboard:
    sites: list[Site]
    today: dict[int, date]  # each site's own calendar day
    enrolment: list[Month] = field(default_factory=list)
    statuses: list[Tally] = field(default_factory=list)
    screen_failures: list[Tally] = field(default_factory=list)
    visits: list[Timepoint] = field(default_factory=list)
    forms: list[FormCompleteness] = field(default_factory=list)
    queries: list[QueryAge] = field(default_factory=list)
    sdv: list[Sdv] = field(default_factory=list)
    adverse_events: list[GradeRow] = field(default_factory=list)

    @property
    def sdv_total(self) -> int:
        return sum(row.total for row in self.sdv)

    @property
    def sdv_verified(self) -> int:
        return sum(row.verified for row in self.sdv)


def _added(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for one in counts:
        for key, n in one.items():
            total[key] += n
    return dict(total)


def summed(sites: Sequence[Site]) -> dict[str, int]:
    """The kept tallies of `sites` (reports.tallies), brought up to date and added up: two
    queries (a refresh that finds nothing changed is one)."""
    tallies_services.refresh()
    return _added(tallies.site_sums(site.pk for site in sites).values())


def kept_parts(sites: Sequence[Site], today: dict[int, date]) -> list[Any]:
    """What the kept figures depend on besides the data (reports.freshness)."""
    return [(site.pk, site.time_zone, today[site.pk]) for site in sites]


def kept_dashboard(sites: Sequence[Site], today: dict[int, date]) -> Dashboard:
    """Every figure but the open queries by age (they move with the time of day), kept
    between requests by reports.freshness for these sites on their today until a
    transaction writes to a table they read: one query on a hit, eight more on a miss."""
    sites = list(sites)

    def compute() -> Dashboard:
        tallies_services.refresh()
        per_site = tallies.site_sums(site.pk for site in sites)
        total = _added(per_site.values())
        return Dashboard(
            sites=sites,
            today=today,
            enrolment=enrolment(total),
            statuses=by_status(total),
            screen_failures=screen_failures(total),
            visits=visit_completion(sites, today, total),
            forms=form_completeness(total),
            sdv=sdv(sites, per_site),
            adverse_events=adverse_events(total),
        )

    return freshness.kept("dashboard", kept_parts(sites, today), compute)


def site_days(sites: Sequence[Site], now: datetime) -> dict[int, date]:
    """Each site's own calendar day at `now`."""
    return {site.pk: now.astimezone(site.zone).date() for site in sites}


def dashboard(sites: Sequence[Site], now: datetime) -> Dashboard:
    """Every figure over `sites` (the caller scopes them to the user): a fixed number of
    queries (two when the figures are kept, ten when not), whatever the size of the study
    and the number of sites."""
    sites = list(sites)
    today = site_days(sites, now)
    if not sites:
        return Dashboard(sites=[], today={})
    kept = kept_dashboard(sites, today)
    return replace(kept, sites=sites, today=today, queries=open_queries_by_age(sites, now))
