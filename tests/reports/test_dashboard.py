"""The study dashboard: a monitor of two sites and a coordinator of one open it on a study
seeded through the services (screen failures, missed and out-of-window visits, forms left in
progress, adverse events), with queries of every age and some records source-verified. Every
number is checked against a count made here from the raw rows, the way each list behind
the figure would count them."""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crfs import registry
from crfs.eligibility.models import Eligibility
from crfs.screening.services import record_screen_failure
from demo.seed import seed_participants
from participants.choices import ParticipantStatus
from participants.models import Participant
from queries import services as query_services
from queries.models import UNRESOLVED, Query
from reports import dashboard as figures
from reports import tallies_services
from review import services as review_services
from review.models import Verification
from safety.choices import RELATED
from safety.models import AdverseEvent
from tests.factories import MembershipFactory, consent, member, register, screening_forms
from trials import records
from trials.models import Role
from visits.choices import VisitStatus
from visits.models import Visit
from visits.services import mark_visit_missed

pytestmark = pytest.mark.django_db


def _seed(site, actor, trial, n, seed):
    seed_participants(actor=actor, site=site, trial=trial, n=n, seed=seed)


@pytest.fixture
def study(frozen, site_a, site_b, coordinator_a, coordinator_b, trial):
    _seed(site_a, coordinator_a, trial, 12, 3)
    _seed(site_b, coordinator_b, trial, 3, 5)
    # A screen failure on three criteria at once (no documented progression, diabetes,
    # hypersensitivity to the cell culture) and one on a single criterion.
    for answers in (
        {
            "progression_6_months": False,
            "ex_diabetes": True,
            "ex_cell_culture_hypersensitivity": True,
        },
        {"ex_vascular_disease": True},
    ):
        person = register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 2))
        consent(coordinator_a, person)
        screening_forms(coordinator_a, person, **answers)
        record_screen_failure(
            actor=coordinator_a, participant=person, effective_date=date(2026, 3, 3)
        )
    # A follow-up missed, with its reason.
    follow_up = (
        Visit.objects.filter(
            participant__site=site_a, actual_date__isnull=True, code__in=["M06", "M12", "M18"]
        )
        .exclude(status__in=[VisitStatus.MISSED, VisitStatus.NOT_EXPECTED])
        .order_by("window_end")
        .first()
    )
    mark_visit_missed(actor=coordinator_a, visit=follow_up, reason="Too weak to travel.")
    monitor = member(Role.MONITOR, site_a, "monitor_ab")
    # Not member() again: it would set the password anew (and end the session of the user
    # object in hand).
    MembershipFactory(user=monitor, site=site_b, role=Role.MONITOR)
    # Queries of every age at both sites, some answered: opened through the service, then
    # dated back (the service stamps now).
    ages = [0, 3, 7, 8, 15, 30, 31, 90]
    for site in (site_a, site_b):
        forms = list(
            Visit.objects.filter(participant__site=site, actual_date__isnull=False)
            .exclude(alsfrsr=None)
            .values_list("alsfrsr", flat=True)[: len(ages)]
        )
        for age, record_pk in zip(ages, forms, strict=False):
            query = query_services.open_query(
                actor=monitor,
                site=site,
                record_type="alsfrs_r",
                record_pk=record_pk,
                field_name="",
                text="Please check the total against the source.",
            )
            opened = timezone.now() - timedelta(days=age, hours=1)
            Query.objects.filter(pk=query.pk).update(opened_at=opened)
        # One answered, one closed (a closed query counts nowhere).
        open_ids = list(Query.objects.filter(site=site).values_list("pk", flat=True))
        Query.objects.filter(pk=open_ids[0]).update(status="answered")
        Query.objects.filter(pk=open_ids[1]).update(status="closed", closed_at=timezone.now())
    # Some records source-verified.
    alsfrs = records.get("alsfrs_r")
    for record in alsfrs.model.objects.filter(
        visit__participant__site=site_a, completed_at__isnull=False
    )[:3]:
        review_services.verify(actor=monitor, record_type=alsfrs, record=record)
    return {"a": site_a, "b": site_b, "monitor": monitor}


# --- the independent computation: plain Python over every row -------------------------------


def _expected(sites, now):
    ids = {s.pk for s in sites}
    today = {s.pk: now.astimezone(s.zone).date() for s in sites}
    people = [p for p in Participant.objects.all() if p.site_id in ids]
    result = {}

    screened = Counter(date(p.screened_on.year, p.screened_on.month, 1) for p in people)
    enrolled = Counter(
        date(p.enrolled_on.year, p.enrolled_on.month, 1) for p in people if p.enrolled_on
    )
    result["screened_total"] = sum(screened.values())
    result["enrolled_total"] = sum(enrolled.values())
    result["screened"], result["enrolled"] = screened, enrolled

    result["status"] = Counter(p.status for p in people)

    failures: Counter = Counter()
    for p in people:
        if p.status != ParticipantStatus.SCREEN_FAILED:
            continue
        checklist = Eligibility.objects.filter(visit__participant=p, visit__code="SCR").first()
        for code in (checklist.failed_criteria if checklist else None) or ["other"]:
            failures[code] += 1
    result["failures"] = failures

    visits: dict[str, Counter] = defaultdict(Counter)
    for visit in Visit.objects.select_related("participant"):
        if visit.participant.site_id not in ids or visit.code == "UNS":
            continue
        # The visits app's own attendance logic, on the site's day.
        status = visit.status_on(today[visit.participant.site_id])
        key = {
            VisitStatus.DONE: "in_window",
            VisitStatus.DONE_OUT_OF_WINDOW: "out_of_window",
            VisitStatus.MISSED: "missed",
            VisitStatus.OVERDUE: "overdue",
            VisitStatus.WINDOW_OPEN: "window_open",
            VisitStatus.UPCOMING: "upcoming",
        }.get(status)
        if key:
            visits[visit.code][key] += 1
    result["visits"] = visits

    forms: dict[str, Counter] = defaultdict(Counter)
    for spec in registry.entry_forms().values():
        stored = {r.visit_id: r.status for r in spec.model.objects.all()}
        for visit in Visit.objects.select_related("participant"):
            if visit.participant.site_id not in ids or visit.actual_date is None:
                continue
            if spec.code not in visit.expected_forms():
                continue
            status = stored.get(visit.pk)
            forms[spec.code][
                "not_started"
                if status is None
                else "in_progress"
                if status == "in_progress"
                else "complete"
            ] += 1
    result["forms"] = forms

    ages: dict[str, Counter] = defaultdict(Counter)
    for query in Query.objects.all():
        if query.site_id not in ids or query.status not in UNRESOLVED:
            continue
        age = query.age_days(now)
        bucket = "0_7" if age <= 7 else "8_30" if age <= 30 else "over_30"
        ages[bucket][query.status] += 1
    result["queries"] = ages

    verified_keys = set(
        Verification.objects.active().filter(field="").values_list("record_type", "record_id")
    )
    total = verified = 0
    for record_type in records.all_types():
        for row in record_type.model._default_manager.all():
            participant = row
            for part in (
                record_type.participant_path.split("__") if record_type.participant_path else ()
            ):
                participant = getattr(participant, part)
            if participant.site_id not in ids:
                continue
            if hasattr(row, "completed_at"):
                ready = row.completed_at is not None
            else:
                ready = any(
                    getattr(row, name) not in (None, "") for name in record_type.data_fields
                )
            if ready:
                total += 1
                verified += (record_type.key, row.pk) in verified_keys
    result["sdv"] = (total, verified)

    events: dict[int, Counter] = defaultdict(Counter)
    for event in AdverseEvent.objects.select_related("participant"):
        if event.participant.site_id not in ids:
            continue
        answers = (event.related_procedure, event.related_cells)
        if any(a in RELATED for a in answers):
            kind = "related"
        elif all(a is not None for a in answers):
            kind = "not_related"
        else:
            kind = "unknown"
        events[event.grade or 0][kind] += 1
    result["events"] = events
    return result


def _check(data: figures.Dashboard, expected) -> None:
    assert {m.month: m.screened for m in data.enrolment if m.screened} == expected["screened"]
    assert {m.month: m.enrolled for m in data.enrolment if m.enrolled} == expected["enrolled"]
    assert data.enrolment[-1].screened_total == expected["screened_total"]
    assert data.enrolment[-1].enrolled_total == expected["enrolled_total"]
    months = [m.month for m in data.enrolment]
    assert months == sorted(months) and len(set(months)) == len(months)

    assert {r.key: r.n for r in data.statuses if r.n} == expected["status"]
    assert {r.key: r.n for r in data.screen_failures} == expected["failures"]
    assert {
        tp.code: Counter({k: v for k, v in tp.counts.items() if v}) for tp in data.visits
    } == dict(expected["visits"].items())
    assert {
        f.code: Counter({k: v for k, v in f.counts.items() if v}) for f in data.forms
    } == expected["forms"]
    got_ages = {
        a.key: Counter({k: v for k, v in {"open": a.open, "answered": a.answered}.items() if v})
        for a in data.queries
        if a.total
    }
    assert got_ages == expected["queries"]
    assert (data.sdv_total, data.sdv_verified) == expected["sdv"]
    assert {
        g.grade: Counter({k: v for k, v in g.counts.items() if v})
        for g in data.adverse_events
        if g.total
    } == expected["events"]


def _every_number_matches_a_count_of_the_raw_rows(study):
    now = timezone.now()
    both = [study["a"], study["b"]]
    for sites in ([study["a"]], [study["b"]], both):
        expected = _expected(sites, now)
        _check(figures.dashboard(sites, now), expected)
    # The story's data cover each case the figures tell apart.
    expected = _expected(both, now)
    assert (
        expected["failures"]["diabetes"] >= 1 and expected["failures"]["progression_6_months"] >= 1
    )
    attendance = Counter()
    for counts in expected["visits"].values():
        attendance.update(counts)
    assert {"in_window", "out_of_window", "missed", "upcoming"} <= set(attendance)
    assert set(expected["queries"]) == {"0_7", "8_30", "over_30"}
    assert expected["sdv"][1] == 3
    assert any(c["in_progress"] for c in expected["forms"].values())
    assert expected["events"]


def _a_screen_failure_on_several_criteria_counts_under_each(study):
    data = figures.dashboard([study["a"]], timezone.now())
    failures = {r.key: r.n for r in data.screen_failures}
    for code in ("progression_6_months", "diabetes", "cell_culture_hypersensitivity"):
        assert failures[code] >= 1
    sf = next(r for r in data.statuses if r.key == ParticipantStatus.SCREEN_FAILED)
    assert sum(failures.values()) > sf.n  # several criteria per participant


def _a_visit_is_overdue_by_the_sites_day_not_the_servers(study, time_machine):
    """At 21:00 UTC it is already the next day in Tehran: a window that closed 'yesterday' in
    UTC terms closed today-1 at the site; the dashboard follows the site's calendar."""
    site = study["a"]
    visit = (
        Visit.objects.filter(
            participant__site=site, actual_date__isnull=True, window_end__isnull=False
        )
        .exclude(status__in=[VisitStatus.MISSED, VisitStatus.NOT_EXPECTED])
        .order_by("window_end")
        .first()
    )
    assert visit is not None
    # 20:45 UTC on the window's last day: in Tehran (UTC+3:30) it is already the next day.
    moment = datetime.combine(visit.window_end, time(20, 45), tzinfo=UTC)
    time_machine.move_to(moment, tick=False)
    now = timezone.now()
    data = figures.dashboard([site], now)
    expected = _expected([site], now)
    got = {tp.code: Counter({k: v for k, v in tp.counts.items() if v}) for tp in data.visits}
    assert got == expected["visits"]
    assert site.local_today() == visit.window_end + timedelta(days=1)
    assert visit.status_on(site.local_today()) == VisitStatus.OVERDUE


# --- scoping ---------------------------------------------------------------------------------


def _numbers(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def _a_coordinator_sees_only_their_site(study, client_for, coordinator_a):
    client = client_for(coordinator_a)
    mine = client.get(reverse("reports-dashboard-site", args=["ISF"]))
    assert mine.status_code == 200
    assert client.get(reverse("reports-dashboard-site", args=["THR"])).status_code == 404
    everywhere = client.get(reverse("reports-dashboard"))
    assert everywhere.status_code == 200
    html = everywhere.content.decode()
    assert reverse("reports-dashboard-site", args=["THR"]) not in html
    assert "/sites/THR/" not in html
    # The all-sites view of a one-site member is that site's numbers.
    tables = [[f.chart.table.rows for f in r.context["figures"]] for r in (mine, everywhere)]
    assert tables[0] == tables[1]


def _the_all_sites_view_adds_up_the_users_sites_only(study, client_for, site_a, trial):
    other = Participant.objects.filter(site=study["b"]).count()
    client = client_for(study["monitor"])
    both = figures.dashboard([study["a"], study["b"]], timezone.now())
    total = sum(r.n for r in both.statuses)
    assert total == Participant.objects.count()
    # A third site's participants never reach it.
    from tests.factories import SiteFactory

    third = SiteFactory(code="MSH", name="Mashhad")
    coordinator = member(Role.COORDINATOR, third, "coord_c")
    register(coordinator, third, trial, screened_on=date(2026, 3, 1))
    again = client.get(reverse("reports-dashboard"))
    status_figure = next(f for f in again.context["figures"] if f.key == "status")
    assert sum(int(row[1]) for row in status_figure.chart.table.rows) == total
    assert other > 0


def _the_page_shows_no_identifier(study, client_for):
    client = client_for(study["monitor"])
    for url in (reverse("reports-dashboard"), reverse("reports-dashboard-site", args=["ISF"])):
        html = client.get(url).content.decode()
        for p in Participant.objects.select_related("identity"):
            assert p.identity.full_name not in html
            assert p.identity.national_id not in html
            assert p.screening_number not in html
            if p.study_id:
                assert p.study_id not in html


# --- the page ---------------------------------------------------------------------------------


def _every_figure_has_a_title_a_data_table_and_links_to_its_list(study, client_for):
    client = client_for(study["monitor"])
    response = client.get(reverse("reports-dashboard-site", args=["ISF"]))
    html = response.content.decode()
    keys = [f.key for f in response.context["figures"]]
    assert keys == [
        "enrolment",
        "status",
        "screen_failures",
        "visits",
        "forms",
        "queries",
        "sdv",
        "adverse_events",
    ]
    for figure in response.context["figures"]:
        assert figure.chart.title in html
        assert figure.chart.table.rows, figure.key
        assert figure.links
        for link in figure.links:
            assert client.get(link.href).status_code == 200, link.href
    assert html.count("<svg") >= 8
    assert html.count("<table") >= 8
    # A bar links to its filtered list; the list shows the bar's rows.
    statuses = {r.key: r.n for r in figures.dashboard([study["a"]], timezone.now()).statuses}
    enrolled_list = client.get(reverse("participant-list", args=["ISF"]) + "?status=enrolled")
    assert enrolled_list.context["page"].paginator.count == statuses["enrolled"]
    assert 'href="/sites/ISF/participants/?status=screen_failed"' in html


def _the_query_age_bars_open_the_queries_of_that_age(study, client_for):
    client = client_for(study["monitor"])
    data = figures.dashboard([study["a"]], timezone.now())
    html = client.get(reverse("reports-dashboard-site", args=["ISF"])).content.decode()
    for age in data.queries:
        for status, n in (("open", age.open), ("answered", age.answered)):
            params = f"status={status}&amp;min_age={age.min_days}"
            if age.max_days is not None:
                params += f"&amp;max_age={age.max_days}"
            href = f"/sites/ISF/queries/?{params}"
            if n:
                assert href in html
            listed = client.get(href.replace("&amp;", "&"))
            assert listed.status_code == 200
            assert listed.context["page"].paginator.count == n, (age.key, status)


def _the_overdue_and_out_of_window_bars_link_to_their_lists(study, client_for):
    client = client_for(study["monitor"])
    html = client.get(reverse("reports-dashboard-site", args=["ISF"])).content.decode()
    assert 'href="/sites/ISF/participants/deviations/"' in html
    data = figures.dashboard([study["a"]], timezone.now())
    deviations = client.get(reverse("deviation-list", args=["ISF"]))
    assert deviations.context["page"].paginator.count == sum(
        tp.counts["out_of_window"] for tp in data.visits
    )


def _adverse_event_bars_open_the_listing_filtered(study, client_for):
    client = client_for(study["monitor"])
    data = figures.dashboard([study["a"]], timezone.now())
    related_severe = sum(g.counts["related"] for g in data.adverse_events if g.grade >= 3)
    listing = client.get(reverse("ae-listing", args=["ISF"]) + "?grade3=1&related=1")
    assert listing.context["page"].paginator.count == related_severe


def _a_write_redraws_only_the_figures_whose_numbers_it_changed(study, client_for, monkeypatch):
    from reports import views_dashboard

    built: list[set[str] | None] = []
    real_build = views_dashboard.build

    def build(data, *, queries=True, only=None):
        built.append(only)
        return real_build(data, queries=queries, only=only)

    monkeypatch.setattr(views_dashboard, "build", build)
    # Drawings of these very numbers may be kept from an earlier run (the keys are the
    # numbers): another drawing code, so that this test starts with none.
    monkeypatch.setattr(views_dashboard, "_DRAWING", f"test-{uuid.uuid4()}")
    client = client_for(study["monitor"])
    url = reverse("reports-dashboard-site", args=["ISF"])
    client.get(url)
    # One complete ALSFRS-R of an attended visit back in progress (raw SQL, as any write).
    form = (
        records.get("alsfrs_r")
        .model.objects.filter(
            visit__participant__site=study["a"],
            visit__actual_date__isnull=False,
            status="complete",
        )
        .first()
    )
    type(form).objects.filter(pk=form.pk).update(status="in_progress")
    built.clear()
    response = client.get(url)
    assert built == [{"forms"}]
    forms = next(f for f in response.context["figures"] if f.key == "forms")
    expected = next(
        row
        for row in figures.dashboard([study["a"]], timezone.now()).forms
        if row.code == "alsfrs_r"
    )
    assert (
        forms.chart.table.rows
        == views_dashboard.build(figures.dashboard([study["a"]], timezone.now()), only={"forms"})[
            0
        ].chart.table.rows
    )
    assert any(
        str(expected.counts["in_progress"]) in cell
        for row in forms.chart.table.rows
        for cell in map(str, row)
    )
    # Nothing changed: nothing is built again.
    built.clear()
    client.get(url)
    assert built == []


# --- the stories (each seeds the study once: seeding through the services is slow) ------------


def test_the_numbers(study, time_machine):
    _every_number_matches_a_count_of_the_raw_rows(study)
    _a_screen_failure_on_several_criteria_counts_under_each(study)
    _a_visit_is_overdue_by_the_sites_day_not_the_servers(study, time_machine)


def test_the_pages(study, client_for, coordinator_a, site_a, trial, monkeypatch):
    _a_coordinator_sees_only_their_site(study, client_for, coordinator_a)
    _the_page_shows_no_identifier(study, client_for)
    _every_figure_has_a_title_a_data_table_and_links_to_its_list(study, client_for)
    _the_query_age_bars_open_the_queries_of_that_age(study, client_for)
    _the_overdue_and_out_of_window_bars_link_to_their_lists(study, client_for)
    _adverse_event_bars_open_the_listing_filtered(study, client_for)
    _the_all_sites_view_adds_up_the_users_sites_only(study, client_for, site_a, trial)
    _a_write_redraws_only_the_figures_whose_numbers_it_changed(study, client_for, monkeypatch)


# --- constant number of SQL queries --------------------------------------------------------------


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_same_number_of_queries_whatever_the_study_size(
    frozen, site_a, site_b, coordinator_a, coordinator_b, trial, client_for
):
    monitor = member(Role.MONITOR, site_a, "monitor_q")
    MembershipFactory(user=monitor, site=site_b, role=Role.MONITOR)
    client = client_for(monitor)
    urls = (reverse("reports-dashboard"), reverse("reports-dashboard-site", args=["ISF"]))
    # The kept tallies follow this code (the first refresh ever counts everyone: a fixed
    # number of queries too, but another one); from then on each page counts again only
    # the participants whose data changed.
    tallies_services.refresh()
    _seed(site_a, coordinator_a, trial, 2, 7)
    _seed(site_b, coordinator_b, trial, 1, 8)
    small = [_page_queries(client, url) for url in urls]
    _seed(site_a, coordinator_a, trial, 10, 9)
    _seed(site_b, coordinator_b, trial, 4, 10)
    large = [_page_queries(client, url) for url in urls]
    assert small == large
    # The figures' queries, the tallies' refresh, and the page's own (session, user,
    # memberships, notifications...).
    assert large[1] <= 25


def test_a_user_without_a_site_sees_an_empty_dashboard(db, client_for):
    from tests.factories import UserFactory

    response = client_for(UserFactory(username="nobody")).get(reverse("reports-dashboard"))
    assert response.status_code == 200
    assert response.context["figures"] == []
