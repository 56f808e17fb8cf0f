"""The dashboard's and the cohort view's kept figures (reports.freshness) are never stale: any
committed write to a table they read, made through a service or not, shows at once, and so
does a transaction that was in progress while they were computed and commits afterwards.

These tests commit (transactional database): inside the usual test transaction the fixtures'
own uncommitted writes keep the figures from being kept at all."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crfs import registry
from crfs.alsfrs_r.models import AlsfrsR
from demo.seed import seed_participants
from participants.choices import ParticipantStatus
from participants.models import Participant
from reports import cohort, freshness
from reports import dashboard as figures
from reports.models import Change
from tests.factories import member
from tests.reports.test_cohort import _transplanted
from trials import records
from trials.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _statuses(data: figures.Dashboard) -> dict[str, int]:
    return {row.key: row.n for row in data.statuses if row.n}


def _raw_statuses(site) -> dict[str, int]:
    return dict(Counter(Participant.objects.filter(site=site).values_list("status", flat=True)))


def _enrolled(site) -> Participant:
    """A participant who may be marked withdrawn by a bare update (has a study ID)."""
    return (
        Participant.objects.filter(site=site, study_id__isnull=False)
        .exclude(status=ParticipantStatus.WITHDRAWN)
        .order_by("pk")[0]
    )


def _other_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
        host=s["HOST"] or None, port=s["PORT"] or None,
    )  # fmt: skip


def _withdraw_sql() -> str:
    return f"UPDATE {Participant._meta.db_table} SET status = %s WHERE id = %s"  # noqa: S608


def test_every_table_the_reports_read_has_the_trigger():
    watched = set(freshness.watched_tables())
    assert watched <= freshness.installed_tables(), (
        "add the trigger in a reports migration (freshness.install_sql)"
    )
    sources = {Participant._meta.db_table}
    sources |= {spec.model._meta.db_table for spec in registry.entry_forms().values()}
    sources |= {t.model._meta.db_table for t in records.all_types()}
    assert sources <= watched


def test_the_trigger_notes_each_writing_transaction_once(site_a):
    with transaction.atomic():
        site_a.name = "Renamed"
        site_a.save()
        site_a.name = "Renamed again"
        site_a.save()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            (xid,) = cursor.fetchone()
    assert Change.objects.filter(xid=xid).count() == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        site_a.name = "Rolled back"
        site_a.save()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            (rolled_back,) = cursor.fetchone()
        raise RuntimeError
    assert not Change.objects.filter(xid=rolled_back).exists()


def test_the_dashboard_is_kept_and_a_write_shows_at_once(frozen, site_a, coordinator_a, trial):
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=3, seed=3)
    first = figures.dashboard([site_a], timezone.now())
    assert _statuses(first) == _raw_statuses(site_a)
    with CaptureQueriesContext(connection) as kept:
        again = figures.dashboard([site_a], timezone.now())
    # The check, and the open queries by age (they move with the time of day: never kept).
    assert len(kept) == 2
    assert again.statuses == first.statuses and again.forms == first.forms
    # A bulk update (no service, no signal) in its own committed transaction.
    person = _enrolled(site_a)
    Participant.objects.filter(pk=person.pk).update(status=ParticipantStatus.WITHDRAWN)
    after = figures.dashboard([site_a], timezone.now())
    assert _statuses(after) == _raw_statuses(site_a) != _statuses(first)


def test_a_transaction_in_progress_while_the_figures_were_computed_shows_when_it_commits(
    frozen, site_a, coordinator_a, trial
):
    """The kept value is checked against its snapshot, not against the highest transaction
    id seen: here a later transaction commits before the earlier one."""
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=3, seed=3)
    before = _raw_statuses(site_a)
    person = _enrolled(site_a)
    with _other_connection() as earlier, _other_connection() as later:
        earlier.execute(_withdraw_sql(), [ParticipantStatus.WITHDRAWN.value, person.pk])
        # A write of nothing: the statement's trigger notes the transaction all the same.
        nothing = f"UPDATE {Participant._meta.db_table} SET status = status WHERE false"  # noqa: S608
        later.execute(nothing)
        later.commit()
        computed = figures.dashboard([site_a], timezone.now())
        assert _statuses(computed) == before
        with CaptureQueriesContext(connection) as kept:
            assert figures.dashboard([site_a], timezone.now()).statuses == computed.statuses
        assert len(kept) == 2  # kept: nothing committed since
        earlier.commit()
    after = figures.dashboard([site_a], timezone.now())
    assert _statuses(after) == _raw_statuses(site_a) != before


def test_figures_computed_after_own_uncommitted_writes_are_not_kept(
    frozen, site_a, coordinator_a, trial
):
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=3, seed=3)
    before = _raw_statuses(site_a)
    person = _enrolled(site_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        Participant.objects.filter(pk=person.pk).update(status=ParticipantStatus.WITHDRAWN)
        inside = figures.dashboard([site_a], timezone.now())
        assert _statuses(inside) != before
        raise RuntimeError  # rolled back
    assert _statuses(figures.dashboard([site_a], timezone.now())) == before


def test_the_sites_next_day_is_computed_afresh(frozen, time_machine, site_a, coordinator_a, trial):
    """Overdue and window-open visits move with the site's calendar day, without any write."""
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=3, seed=3)
    today = figures.dashboard([site_a], timezone.now())
    time_machine.move_to(frozen + timedelta(days=400), tick=False)
    later = figures.dashboard([site_a], timezone.now())
    overdue = [tp.counts["overdue"] for tp in later.visits]
    assert overdue != [tp.counts["overdue"] for tp in today.visits]
    uncached = figures.visit_completion([site_a], later.today)
    assert [tp.counts for tp in later.visits] == [tp.counts for tp in uncached]


def test_a_form_written_outside_the_services_changes_the_cohort_table_at_once(
    frozen, coordinator_a, site_a, trial
):
    _transplanted(3, coordinator_a, site_a, trial, 0)
    flt = cohort.CohortFilter(sites=[site_a])

    def baseline_mean() -> float | None:
        rows = cohort.change_table(flt)
        return next(s for s in rows if s.code == "BL" and s.outcome.key == "alsfrs_r").mean

    first = baseline_mean()
    with CaptureQueriesContext(connection) as kept:
        assert baseline_mean() == first
    assert len(kept) == 1
    record = AlsfrsR.objects.filter(visit__code="BL", total__isnull=False).first()
    AlsfrsR.objects.filter(pk=record.pk).update(total=record.total - 12)
    totals = list(
        AlsfrsR.objects.filter(visit__code="BL", total__isnull=False).values_list(
            "total", flat=True
        )
    )
    assert baseline_mean() == pytest.approx(sum(totals) / len(totals)) != first


def test_the_pages_are_kept_with_their_html_and_show_a_write_at_once(
    frozen, coordinator_a, site_a, trial, client_for
):
    _transplanted(3, coordinator_a, site_a, trial, 0)
    client = client_for(member(Role.INVESTIGATOR, site_a, "investigator_kept"))
    dashboard_url = reverse("reports-dashboard-site", args=["ISF"])
    cohort_url = reverse("reports-cohort")

    def withdrawn_on_the_dashboard() -> tuple[int, str, int]:
        with CaptureQueriesContext(connection) as made:
            page = client.get(dashboard_url)
        status = next(f for f in page.context["figures"] if f.key == "status")
        n = next(int(row[1]) for row in status.chart.table.rows if row[0] == "Withdrawn")
        return n, page.text, len(made)

    def cohort_baseline_mean() -> tuple[float, str, int]:
        with CaptureQueriesContext(connection) as made:
            page = client.get(cohort_url)
        mean = next(s.mean for s in page.context["table"] if s.code == "BL")
        return mean, page.text, len(made)

    before, _html, computed = withdrawn_on_the_dashboard()
    again, _html, kept = withdrawn_on_the_dashboard()
    assert again == before and kept < computed - 5
    Participant.objects.filter(pk=_enrolled(site_a).pk).update(status=ParticipantStatus.WITHDRAWN)
    after, html, _n = withdrawn_on_the_dashboard()
    assert after == before + 1 == _raw_statuses(site_a)[ParticipantStatus.WITHDRAWN]
    assert f'<th scope="row">Withdrawn</th><td>{after}</td>' in html

    mean, _html, computed = cohort_baseline_mean()
    again_mean, _html, kept = cohort_baseline_mean()
    assert again_mean == mean and kept < computed
    record = AlsfrsR.objects.filter(visit__code="BL", total__isnull=False).first()
    AlsfrsR.objects.filter(pk=record.pk).update(total=record.total - 12)
    changed, html, _n = cohort_baseline_mean()
    assert changed == pytest.approx(mean - 12 / 3)
    assert f"{changed:.2f}" in html
