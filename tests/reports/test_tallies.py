# ruff: noqa: S608 - table names from _meta, values as parameters
"""The dashboard's kept tallies (reports.tallies): a monitor verifies, a coordinator saves a
form, marks a visit missed, a data manager changes the SDV plan, someone edits in raw SQL;
each time the next refresh counts again exactly the participants touched, and the kept sums
equal a count of every participant from scratch. A transaction still running when the
refresh runs is counted by a later one; a rolled-back one leaves nothing."""

from __future__ import annotations

from collections import defaultdict

import psycopg
import pytest
from django.db import connection, transaction

from demo.seed import seed_participants
from participants.models import Participant
from reports import tallies, tallies_services
from reports.models import StaleParticipant
from review import services as review_services
from tests.factories import member
from trials import records
from trials.models import Role, Site
from visits.choices import VisitStatus
from visits.models import Visit
from visits.services import mark_visit_missed


def _from_scratch() -> dict[int, dict[str, int]]:
    """Every participant counted from the raw rows, summed per site."""
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for site_id, counts in tallies.count(Participant.objects.values_list("pk", flat=True)).values():
        for key, n in counts.items():
            sums[site_id][key] += n
    return {site: dict(counts) for site, counts in sums.items()}


def _kept() -> dict[int, dict[str, int]]:
    sums = tallies.site_sums(Site.objects.values_list("pk", flat=True))
    return {site: counts for site, counts in sums.items() if counts}


def _noted() -> set[int]:
    return set(StaleParticipant.objects.values_list("participant_id", flat=True))


@pytest.fixture
def seeded(frozen, site_a, site_b, coordinator_a, coordinator_b, trial):
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=5, seed=11)
    seed_participants(actor=coordinator_b, site=site_b, trial=trial, n=2, seed=12)
    # The first refresh counts everyone (no tallies yet, or counted by other code).
    assert tallies_services.refresh() == Participant.objects.count()
    assert _kept() == _from_scratch()
    assert _noted() == set()


def _a_complete_form(site):
    return (
        records.get("alsfrs_r")
        .model.objects.filter(visit__participant__site=site, completed_at__isnull=False)
        .select_related("visit")
        .first()
    )


@pytest.mark.django_db
def test_each_write_is_counted_again_for_the_participants_it_touched(
    seeded, site_a, site_b, coordinator_a, trial
):
    monitor = member(Role.MONITOR, site_a, "monitor_t")
    form = _a_complete_form(site_a)
    owner = form.visit.participant_id
    before = _kept()[site_a.pk].get(tallies.SDV_VERIFIED, 0)

    review_services.verify(actor=monitor, record_type=records.get("alsfrs_r"), record=form)
    assert _noted() == {owner}
    assert tallies_services.refresh() == 1
    assert _kept()[site_a.pk][tallies.SDV_VERIFIED] == before + 1
    assert _kept() == _from_scratch()

    # A follow-up missed: the visit's participant only.
    visit = (
        Visit.objects.filter(participant__site=site_a, actual_date__isnull=True)
        .exclude(status__in=[VisitStatus.MISSED, VisitStatus.NOT_EXPECTED])
        .exclude(code="UNS")
        .first()
    )
    mark_visit_missed(actor=coordinator_a, visit=visit, reason="Too weak to travel.")
    assert _noted() == {visit.participant_id}
    assert tallies_services.refresh() == 1
    assert _kept() == _from_scratch()

    # A change to the whole trial's SDV plan: every participant of the trial.
    manager = member(Role.DATA_MANAGER, site_a, "dm_t")
    review_services.set_sdv_targets(actor=manager, site=site_a, trial=trial, targets=["fvc"])
    assert _noted() == set(Participant.objects.filter(trial=trial).values_list("pk", flat=True))
    tallies_services.refresh()
    assert _kept() == _from_scratch()
    assert _kept()[site_a.pk].get(tallies.SDV_VERIFIED, 0) == 0  # the verified one is ALSFRS-R

    # Raw SQL is seen alike: a form back in progress, another deleted.
    other = _a_complete_form(site_b)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {form._meta.db_table} SET status = 'in_progress' WHERE id = %s", [form.pk]
        )
        cursor.execute(f"DELETE FROM {other._meta.db_table} WHERE id = %s", [other.pk])
    assert _noted() == {owner, other.visit.participant_id}
    assert tallies_services.refresh() == 2
    assert _kept() == _from_scratch()


@pytest.mark.django_db
def test_a_participant_moved_to_another_site_takes_their_counts_along(seeded, site_a, site_b):
    person = Participant.objects.filter(site=site_a).order_by("pk").first()
    mine = tallies.count([person.pk])[person.pk][1]
    assert mine
    a_before, b_before = _kept()[site_a.pk], _kept()[site_b.pk]
    Participant.objects.filter(pk=person.pk).update(site=site_b)
    assert tallies_services.refresh() == 1
    for key, n in mine.items():
        assert _kept().get(site_a.pk, {}).get(key, 0) == a_before[key] - n
        assert _kept()[site_b.pk][key] == b_before.get(key, 0) + n
    assert _kept() == _from_scratch()


@pytest.mark.django_db
def test_a_rolled_back_write_notes_nothing(seeded, site_a):
    form = _a_complete_form(site_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        type(form).objects.filter(pk=form.pk).update(status="in_progress")
        assert _noted() == {form.visit.participant_id}
        raise RuntimeError("the request failed")
    assert _noted() == set()
    assert tallies_services.refresh() == 0


@pytest.mark.django_db
def test_nothing_changed_is_one_query(seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert tallies_services.refresh() == 0


@pytest.mark.django_db
def test_other_code_or_a_truncate_counts_everything_again(seeded, site_a, monkeypatch):
    everyone = Participant.objects.count()
    monkeypatch.setattr(tallies, "VERSION", tallies.VERSION + 1)
    assert tallies_services.refresh() == everyone
    assert tallies_services.refresh() == 0
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE review_verification")
    assert tallies_services.refresh() == everyone
    assert _kept() == _from_scratch()


@pytest.mark.django_db
def test_every_table_the_counts_read_notes_its_changes():
    """The triggers of migration 0005 (and later ones) are what tallies.sources() says now: a
    table the code reads without its triggers, or a changed path, fails here (add a
    migration with tallies.install_sql)."""
    installed = tallies.installed()
    for table, select in tallies.sources().items():
        expected = {
            (f"{tallies.TRIGGER}_{kind}", select) for kind in ("ins", "upd", "del", "trunc")
        }
        assert installed.get(table, set()) == expected, table


@pytest.mark.django_db(transaction=True)
def test_a_transaction_still_running_is_counted_once_it_commits(
    frozen, site_a, coordinator_a, trial
):
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=2, seed=13)
    tallies_services.refresh()
    form = _a_complete_form(site_a)
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )
    try:
        with other.cursor() as cursor:  # a transaction opens, writes, and stays open
            cursor.execute(
                f"UPDATE {form._meta.db_table} SET status = 'in_progress' WHERE id = %s",
                [form.pk],
            )
        # Not visible yet: neither the change nor its note; the sums stay as committed.
        assert tallies_services.refresh() == 0
        assert _kept() == _from_scratch()
        other.commit()
        assert tallies_services.refresh() == 1
        assert _kept() == _from_scratch()
        key = tallies.form_key("alsfrs_r", tallies.IN_PROGRESS)
        assert _kept()[site_a.pk][key] >= 1
    finally:
        other.close()


@pytest.mark.django_db
def test_the_refresh_runs_hourly_from_beat(seeded, site_a):
    from django.conf import settings

    from reports import tasks

    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-report-tallies"]
    assert schedule["task"] == tasks.refresh_tallies.name == "reports.tasks.refresh_tallies"
    assert schedule["schedule"] == 60 * 60
    Participant.objects.filter(site=site_a).update(site=site_a)  # a no-op UPDATE notes too
    assert tasks.refresh_tallies() == Participant.objects.filter(site=site_a).count()
