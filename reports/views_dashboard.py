"""The study dashboard: one site's, or all the user's sites' together. Each figure is a chart
of reports.charts with its data table, and links to the list behind it.

Who sees it: every study role of the site (coordinator, investigator, monitor, data
manager, site administrator), as the lists behind the figures are open to each
(permissions.VIEW_PARTICIPANTS): the dashboard counts those lists' rows and shows nothing
they do not, and no identifier at all (counts only). The all-sites view sums only the sites
where the user holds that right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from reports import charts, freshness
from reports import dashboard as figures
from trials import permissions
from trials.http import AuthenticatedHttpRequest
from trials.models import Site

PERMISSION = permissions.VIEW_PARTICIPANTS
# Month ticks on the enrolment axis: at most this many labels (a phone's width).
MAX_MONTH_TICKS = 6


def _url(name: str, site: Site, **params: str) -> str:
    base = reverse(name, args=[site.code])
    return f"{base}?{urlencode(params)}" if params else base


@dataclass(frozen=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True)
class Figure:
    key: str
    chart: charts.Chart
    # The lists behind the figure: per site in the all-sites view (its bars link only on
    # one site's dashboard, where a bar's list is that site's).
    links: list[Link]
    note: str = ""
    html: str = ""  # the figure's section, rendered (`_rendered`)


def _links(sites: list[Site], label: str, href: Callable[[Site], str]) -> list[Link]:
    if len(sites) == 1:
        return [Link(label, href(sites[0]))]
    return [Link(f"{label} · {site.code}", href(site)) for site in sites]


def _enrolment(data: figures.Dashboard) -> charts.Chart:
    months = data.enrolment
    labels = [m.month.strftime("%Y-%m") for m in months]

    def month_of(x: float) -> str:
        index = round(x)
        return labels[index] if 0 <= index < len(labels) else ""

    step = max(1, -(-len(months) // MAX_MONTH_TICKS))
    ticks = [(float(i), labels[i]) for i in range(0, len(months), step)]
    series = [
        charts.Series(
            _("Screened (cumulative)"),
            [charts.Point(i, m.screened_total) for i, m in enumerate(months)],
            markers=len(months) <= 24,
        ),
        charts.Series(
            _("Enrolled (cumulative)"),
            [charts.Point(i, m.enrolled_total) for i, m in enumerate(months)],
            markers=len(months) <= 24,
        ),
    ]
    chart = charts.line_chart(
        _("Enrolment over time"),
        _("Month of screening or enrolment (site calendar)"),
        _("Participants (cumulative count)"),
        series,
        x_range=(0, max(len(months) - 1, 1)),
        x_ticks=ticks,
        x_format=month_of,
        description=_("Cumulative participants screened and enrolled by month."),
    )
    monthly = charts.Table(
        _("Screened and enrolled per month"),
        (_("Month"), _("Screened"), _("Enrolled"), _("Screened (cumulative)"),
         _("Enrolled (cumulative)")),
        tuple(
            (label, str(m.screened), str(m.enrolled), str(m.screened_total),
             str(m.enrolled_total))
            for label, m in zip(labels, months, strict=True)
        ),
    )  # fmt: skip
    # The per-month table says it plainly; the chart's own (x, y) table is kept after it.
    return charts.Chart(
        chart.title, chart.svg, monthly, chart.tables, chart.empty or not months, chart.notes
    )


def _bars(
    title: str,
    category_label: str,
    value_label: str,
    categories: list[str],
    groups: list[charts.BarGroup],
    **options: object,
) -> charts.Chart:
    return charts.bar_chart(title, category_label, value_label, categories, groups, **options)  # type: ignore[arg-type]


def _one(sites: list[Site], href: Callable[[Site], str]) -> str | None:
    """A bar's link: the list of the one site shown (the all-sites view links per site
    under the figure instead)."""
    return href(sites[0]) if len(sites) == 1 else None


def _status_list(status: str) -> Callable[[Site], str]:
    return lambda site: _url("participant-list", site, status=status)


def _queries_figure(sites: list[Site], ages: list[figures.QueryAge]) -> Figure:

    def query_link(age: figures.QueryAge, status: str) -> Callable[[Site], str]:
        params = {"status": status, "min_age": str(age.min_days)}
        if age.max_days is not None:
            params["max_age"] = str(age.max_days)
        return lambda s: _url("query-list", s, **params)

    return Figure(
        "queries",
        _bars(
            _("Open queries by age"),
            _("Age since opened"),
            _("Queries (count)"),
            [age.label for age in ages],
            [
                charts.BarGroup(
                    _("Open (waiting for the site)"),
                    [age.open for age in ages],
                    [_one(sites, query_link(age, "open")) for age in ages],
                ),
                charts.BarGroup(
                    _("Answered (waiting for review)"),
                    [age.answered for age in ages],
                    [_one(sites, query_link(age, "answered")) for age in ages],
                ),
            ],
            stacked=True,
        ),
        _links(sites, _("Queries"), lambda s: _url("query-list", s)),
    )


def build(
    data: figures.Dashboard, *, queries: bool = True, only: set[str] | None = None
) -> list[Figure]:
    """The figures, in the page's order (`only`: just these keys)."""
    sites = data.sites
    result = []

    def wanted(key: str) -> bool:
        return only is None or key in only

    if wanted("enrolment"):
        result.append(
            Figure(
                "enrolment",
                _enrolment(data),
                _links(sites, _("Screening log"), lambda s: _url("screening-log", s)),
            )
        )

    statuses = data.statuses
    if wanted("status"):
        result.append(
            Figure(
                "status",
                _bars(
                    _("Participants by status"),
                    _("Status"),
                    _("Participants (count)"),
                    [row.label for row in statuses],
                    [
                        charts.BarGroup(
                            _("Participants"),
                            [row.n for row in statuses],
                            [_one(sites, _status_list(row.key)) for row in statuses],
                        )
                    ],
                    horizontal=True,
                ),
                _links(sites, _("Participant list"), lambda s: _url("participant-list", s)),
            )
        )

    failures = data.screen_failures
    if wanted("screen_failures"):
        result.append(
            Figure(
                "screen_failures",
                _bars(
                    _("Screen failures by failed eligibility criterion"),
                    _("Criterion"),
                    _("Screen failures (count)"),
                    [row.label for row in failures],
                    [
                        charts.BarGroup(
                            _("Screen failures"),
                            [row.n for row in failures],
                            [_one(sites, lambda s: _url("screening-log", s)) for _row in failures],
                        )
                    ],
                    horizontal=True,
                ),
                _links(sites, _("Screening log"), lambda s: _url("screening-log", s)),
                _(
                    "A participant who failed several criteria counts under each. The bars open "
                    "the screening log, which lists every failure with its criteria."
                ),
            )
        )

    visit_links: dict[str, Callable[[Site], str] | None] = {
        "in_window": None,
        "out_of_window": lambda s: _url("deviation-list", s),
        "missed": None,
        "overdue": lambda s: _url("participant-list", s, due="overdue"),
        "window_open": lambda s: _url("participant-list", s, due="open"),
        "upcoming": lambda s: _url("participant-list", s, due="soon"),
    }
    timepoints = data.visits
    groups = []
    for key, label in figures.ATTENDANCE:
        link = visit_links[key]
        groups.append(
            charts.BarGroup(
                str(label),
                [tp.counts[key] for tp in timepoints],
                [_one(sites, link) if link else None for _tp in timepoints],
            )
        )
    if wanted("visits"):
        result.append(
            Figure(
                "visits",
                _bars(
                    _("Visit completion per timepoint"),
                    _("Visit"),
                    _("Visits (count)"),
                    [tp.label for tp in timepoints],
                    groups,
                    stacked=True,
                ),
                _links(sites, _("Protocol deviations"), lambda s: _url("deviation-list", s))
                + _links(
                    sites,
                    _("Participants with an overdue visit"),
                    lambda s: _url("participant-list", s, due="overdue"),
                ),
                _(
                    "Scheduled visits, on each site's today. Out-of-window bars open the protocol "
                    "deviations; overdue, window-open and upcoming bars the participant list "
                    "filtered by the next visit due (within 30 days for upcoming)."
                ),
            )
        )

    forms = data.forms
    if wanted("forms"):
        result.append(
            Figure(
                "forms",
                _bars(
                    _("Form completeness at attended visits"),
                    _("Form"),
                    _("Forms expected (count)"),
                    [row.label for row in forms],
                    [
                        charts.BarGroup(str(label), [row.counts[key] for row in forms])
                        for key, label in figures.COMPLETENESS
                    ],
                    stacked=True,
                    horizontal=True,
                ),
                _links(sites, _("Participant list"), lambda s: _url("participant-list", s)),
                _(
                    "Case report forms the protocol expects at visits with a date; complete "
                    "includes verified, signed and locked. Each participant's page shows which "
                    "form is missing."
                ),
            )
        )

    if queries:
        result.append(_queries_figure(sites, data.queries))

    sdv = data.sdv
    if wanted("sdv"):
        result.append(
            Figure(
                "sdv",
                _bars(
                    _("Source data verification progress"),
                    _("Site"),
                    _("Records for SDV (count)"),
                    [row.site.code for row in sdv],
                    [
                        charts.BarGroup(
                            _("Verified"),
                            [row.verified for row in sdv],
                            [_url("review-queue", row.site) for row in sdv],
                        ),
                        charts.BarGroup(
                            _("To verify"),
                            [row.to_verify for row in sdv],
                            [_url("review-queue", row.site) for row in sdv],
                        ),
                    ],
                    stacked=True,
                    horizontal=True,
                ),
                _links(sites, _("Review work queue"), lambda s: _url("review-queue", s)),
                _(
                    "Records the trial's SDV plan targets, once complete: %(verified)s of %(total)s verified."
                )
                % {"verified": data.sdv_verified, "total": data.sdv_total},
            )
        )

    grades = data.adverse_events

    def ae_link(grade: int, related: bool) -> Callable[[Site], str]:
        params = {}
        if grade >= 3:
            params["grade3"] = "1"
        if related:
            params["related"] = "1"
        return lambda s: _url("ae-listing", s, **params)

    if wanted("adverse_events"):
        result.append(
            Figure(
                "adverse_events",
                _bars(
                    _("Adverse events by grade and relatedness"),
                    _("CTCAE grade"),
                    _("Adverse events (count)"),
                    [row.label for row in grades],
                    [
                        charts.BarGroup(
                            str(label),
                            [row.counts[key] for row in grades],
                            [_one(sites, ae_link(row.grade, key == "related")) for row in grades],
                        )
                        for key, label in figures.RELATEDNESS
                    ],
                    stacked=True,
                    horizontal=True,
                ),
                _links(sites, _("Adverse-event listing"), lambda s: _url("ae-listing", s)),
                _(
                    "Relatedness to the procedure or the cells as entered. The listing filters "
                    "grade 3 or higher and related events; lower grades open the whole listing."
                ),
            )
        )
    return result


def _cohort_url(user) -> str:
    """The cohort view, for those it admits (it may not be installed yet)."""
    try:
        url = reverse("reports-cohort")
    except NoReverseMatch:
        return ""
    return url if permissions.can(user, permissions.EXPORT_DATA) else ""


def _rendered(figure: Figure) -> Figure:
    return replace(figure, html=render_to_string("reports/_figure.html", {"figure": figure}))


# The part of the dashboard's data each kept figure is drawn from, in the page's order (as
# `build` makes them, the open queries by age aside): a figure whose part did
# not change since it was last drawn is not drawn again. Its HTML is kept under a key made
# of that part itself (with the sites, the language and the drawing code), so a kept
# drawing is always the drawing of these very numbers: a write redraws only the figures
# whose numbers it changed.
_DRAWN_FROM = {
    "enrolment": "enrolment",
    "status": "statuses",
    "screen_failures": "screen_failures",
    "visits": "visits",
    "forms": "forms",
    "sdv": "sdv",
    "adverse_events": "adverse_events",
}
_HERE = Path(__file__).resolve().parent
_DRAWING = hashlib.sha256(
    b"".join(
        path.read_bytes()
        for path in (
            _HERE / "charts.py",
            _HERE / "views_dashboard.py",
            *sorted((_HERE.parent / "templates" / "reports").glob("_*.html")),
        )
    )
).hexdigest()


def _drawing_key(figure_key: str, data: figures.Dashboard) -> str:
    raw = repr(
        (
            _DRAWING,
            translation.get_language(),
            figure_key,
            [(site.pk, site.code) for site in data.sites],
            getattr(data, _DRAWN_FROM[figure_key]),
        )
    )
    return "reports:figure:" + hashlib.sha256(raw.encode()).hexdigest()


def _drawn(data: figures.Dashboard) -> list[Figure]:
    """The kept figures of `data`, rendered, each built and drawn only if the numbers it
    shows were not drawn before (two cache round trips)."""
    keys = {figure_key: _drawing_key(figure_key, data) for figure_key in _DRAWN_FROM}
    drawn = cache.get_many(list(keys.values()))
    missing = {figure_key for figure_key, key in keys.items() if key not in drawn}
    new = [_rendered(f) for f in build(data, queries=False, only=missing)] if missing else []
    if new:
        cache.set_many({keys[figure.key]: figure for figure in new}, freshness.TIMEOUT)
    by_key = {figure.key: figure for figure in new}
    return [
        by_key[figure_key] if figure_key in by_key else drawn[keys[figure_key]]
        for figure_key in _DRAWN_FROM
    ]


def _figures(sites: list[Site], now: datetime) -> list[Figure]:
    """Every figure, rendered. All but the open queries by age are kept with their HTML
    until the data behind them change (reports.freshness): drawing the charts and their
    tables was most of a request once the numbers were kept. The open queries by age move
    with the time of day: counted and drawn at every request."""
    today = figures.site_days(sites, now)

    def compute() -> list[Figure]:
        return _drawn(figures.kept_dashboard(sites, today))

    kept = freshness.kept("dashboard-page", figures.kept_parts(sites, today), compute)
    live = _rendered(_queries_figure(sites, figures.open_queries_by_age(sites, now)))
    after = next(i for i, figure in enumerate(kept) if figure.key == "forms") + 1
    return [*kept[:after], live, *kept[after:]]


def _page(request: AuthenticatedHttpRequest, sites: list[Site], site: Site | None) -> HttpResponse:
    all_sites = list(permissions.sites_where(request.user, PERMISSION).order_by("code"))
    return render(
        request,
        "reports/dashboard.html",
        {
            "site": site,
            "sites": sites,
            "all_sites": all_sites,
            "figures": _figures(sites, timezone.now()) if sites else [],
            "cohort_url": _cohort_url(request.user),
        },
    )


@login_required
@require_GET
def dashboard_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every site where the user may see participants, added together."""
    sites = list(permissions.sites_where(request.user, PERMISSION).order_by("code"))
    return _page(request, sites, None)


@login_required
@require_GET
def site_dashboard_page(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, PERMISSION)
    return _page(request, [site], site)
