"""The study dashboard's numbers: aggregates over one or several sites, each computed in SQL
(GROUP BY and conditional counts), so the page makes the same number of queries whatever
the number of participants, visits, forms, queries or events.

Every figure is defined as the list page behind it defines its rows, so a number on the
dashboard is the count of the rows its link shows: visit attendance as `visits.schedule`
(dates, the site's today), out of window as `clinic.selectors.OUT_OF_WINDOW`, screen
failures by criterion as the screening log, query age as the queries list, relatedness as
the adverse-event listing, SDV as the review queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, Min, Q, Value
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from clinic.selectors import OUT_OF_WINDOW
from crfs import registry
from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import CRITERIA
from crfs.screening.selectors import OTHER_FAILURE, SCREENING_CODES
from participants.choices import ParticipantStatus
from participants.models import Participant
from queries.models import UNRESOLVED, Query, QueryStatus
from reports import freshness, tallies, tallies_services
from safety.choices import RELATED, Grade
from safety.models import AdverseEvent
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


def enrolment(sites: Sequence[Site]) -> list[Month]:
    """Screened and enrolled per calendar month (screening and enrolment dates, site-local
    calendar dates), with their running totals; every month between the first and the last
    is listed, months without anyone too (one query)."""
    people = Participant.objects.filter(site__in=sites).order_by()
    screened = (
        people.annotate(month=TruncMonth("screened_on"), kind=Value("s", output_field=CharField()))
        .values("month", "kind")
        .annotate(n=Count("pk"))
        .values_list("month", "kind", "n")
    )
    enrolled = (
        people.filter(enrolled_on__isnull=False)
        .annotate(month=TruncMonth("enrolled_on"), kind=Value("e", output_field=CharField()))
        .values("month", "kind")
        .annotate(n=Count("pk"))
        .values_list("month", "kind", "n")
    )
    counts: dict[tuple[date, str], int] = {}
    for month, kind, n in screened.union(enrolled, all=True):
        counts[(month, kind)] = n
    if not counts:
        return []
    months = sorted({month for month, _kind in counts})
    rows, screened_total, enrolled_total = [], 0, 0
    for month in _months(months[0], months[-1]):
        s, e = counts.get((month, "s"), 0), counts.get((month, "e"), 0)
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


def by_status(sites: Sequence[Site]) -> list[Tally]:
    """Participants by their current status, in the lifecycle's order, zeros included."""
    counts = dict(
        Participant.objects.filter(site__in=sites)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [
        Tally(value, str(label), counts.get(value, 0)) for value, label in ParticipantStatus.choices
    ]


# --- screen failures by criterion ---------------------------------------------------------


def screen_failures(sites: Sequence[Site]) -> list[Tally]:
    """Screen failures by the failed criteria of their screening checklist, as the screening
    log counts them: a participant with several failed criteria counts under each, one with
    none (or no checklist) under "other" (one query)."""
    participant_table = Participant._meta.db_table
    eligibility_table = Eligibility._meta.db_table
    visit_table = Visit._meta.db_table
    sql = f"""
        SELECT COALESCE(failed.code, %s), count(*)
        FROM {participant_table} p
        LEFT JOIN LATERAL (
            SELECT e.failed_criteria FROM {eligibility_table} e
            JOIN {visit_table} v ON v.id = e.visit_id
            WHERE v.participant_id = p.id AND v.code = ANY(%s)
            LIMIT 1
        ) checklist ON true
        LEFT JOIN LATERAL jsonb_array_elements_text(checklist.failed_criteria) AS failed(code)
            ON true
        WHERE p.site_id = ANY(%s) AND p.status = %s
        GROUP BY 1
    """  # noqa: S608 (table names from the models, values as parameters)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                OTHER_FAILURE,
                list(SCREENING_CODES),
                [site.pk for site in sites],
                ParticipantStatus.SCREEN_FAILED.value,
            ],
        )
        counts = dict(cursor.fetchall())
    rows = [Tally(c.code, str(c.label), counts[c.code]) for c in CRITERIA if c.code in counts]
    if OTHER_FAILURE in counts:
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


def visit_completion(sites: Sequence[Site], today: dict[int, date]) -> list[Timepoint]:
    """Scheduled visits per timepoint by attendance, in protocol order (one query)."""
    dated = Q(actual_date__isnull=False)
    still_open = Q(actual_date__isnull=True) & ~Q(
        status__in=[VisitStatus.MISSED, VisitStatus.NOT_EXPECTED]
    )
    windowed = Q(window_start__isnull=False, window_end__isnull=False)
    overdue = still_open & windowed & _on_site_day(sites, today, "window_end__lt")
    window_open = (
        still_open
        & windowed
        & _on_site_day(sites, today, "window_start__lte")
        & _on_site_day(sites, today, "window_end__gte")
    )
    rows = (
        Visit.objects.filter(participant__site__in=sites)
        .exclude(code=UNSCHEDULED_CODE)
        .order_by()
        .values("code")
        .annotate(
            order=Min("position"),
            in_window=Count("pk", filter=dated & ~OUT_OF_WINDOW),
            out_of_window=Count("pk", filter=OUT_OF_WINDOW),
            missed=Count("pk", filter=Q(actual_date__isnull=True, status=VisitStatus.MISSED)),
            overdue=Count("pk", filter=overdue),
            window_open=Count("pk", filter=window_open),
            upcoming=Count("pk", filter=still_open & ~overdue & ~window_open),
        )
        .order_by("order", "code")
    )
    result = []
    for row in rows:
        values: dict[str, Any] = dict(row)
        counts = {key: int(values[key]) for key, _label in ATTENDANCE}
        result.append(Timepoint(values["code"], _visit_label(values["code"]), counts))
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


def form_completeness(sites: Sequence[Site]) -> list[FormCompleteness]:
    """Per case report form: of the forms the protocol expects at attended visits (a visit
    with a date; missed and future visits expect nothing yet), how many are complete (or
    verified, signed, locked), in progress, or not started (no record).

    Counted per participant and summed per site in the kept tallies (reports.tallies; call
    tallies_services.refresh first): one query."""
    sums = tallies.site_sums(site.pk for site in sites)
    total: dict[str, int] = defaultdict(int)
    for site in sites:
        for key, n in sums.get(site.pk, {}).items():
            total[key] += n
    rows = []
    for code, spec in registry.entry_forms().items():
        expected = total[tallies.form_key(code, tallies.EXPECTED)]
        if not expected:
            continue
        complete = total[tallies.form_key(code, tallies.COMPLETE)]
        in_progress = total[tallies.form_key(code, tallies.IN_PROGRESS)]
        counts = {
            "complete": complete,
            "in_progress": in_progress,
            "not_started": expected - complete - in_progress,
        }
        rows.append(FormCompleteness(code, spec.title, counts))
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


def sdv(sites: Sequence[Site]) -> list[Sdv]:
    """Per site, as the review queue counts it (review.selectors.sdv_totals), from the kept
    tallies (reports.tallies; call tallies_services.refresh first): one query."""
    sums = tallies.site_sums(site.pk for site in sites)
    return [
        Sdv(
            site,
            sums.get(site.pk, {}).get(tallies.SDV_TOTAL, 0),
            sums.get(site.pk, {}).get(tallies.SDV_VERIFIED, 0),
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


def adverse_events(sites: Sequence[Site]) -> list[GradeRow]:
    """Adverse events by CTCAE grade and relatedness to the procedure or the cells as entered,
    as the adverse-event listing filters them: related if either is possible or more; not
    related if both are recorded and neither is; else not recorded (one query)."""
    related = Q(related_procedure__in=RELATED) | Q(related_cells__in=RELATED)
    both = Q(related_procedure__isnull=False, related_cells__isnull=False)
    rows: dict[int | None, Any] = {
        row["grade"]: row
        for row in AdverseEvent.objects.filter(participant__site__in=sites)
        .order_by()
        .values("grade")
        .annotate(
            related=Count("pk", filter=related),
            not_related=Count("pk", filter=~related & both),
            unknown=Count("pk", filter=~related & ~both),
        )
    }
    result = []
    for grade, label in [*Grade.choices, (NOT_GRADED, _("Not graded"))]:
        row = rows.get(grade if grade != NOT_GRADED else None, {})
        counts = {key: int(row.get(key, 0)) for key, _l in RELATEDNESS}
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
        return Dashboard(
            sites=sites,
            today=today,
            enrolment=enrolment(sites),
            statuses=by_status(sites),
            screen_failures=screen_failures(sites),
            visits=visit_completion(sites, today),
            forms=form_completeness(sites),
            sdv=sdv(sites),
            adverse_events=adverse_events(sites),
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
