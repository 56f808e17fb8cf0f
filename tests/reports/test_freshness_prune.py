"""Pruning the kept report figures' change log (reports.freshness_services.prune_changes)
deletes only what no usable kept figure can need, so a kept figure is never served stale
across a prune. Time is moved on the database's clock by moving the recorded times back
(watermarks, and a kept value's `kept_at`), as if `freshness.TIMEOUT` had passed.

These tests commit (transactional database), as tests/reports/test_freshness.py does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from demo.seed import seed_participants
from participants.choices import ParticipantStatus
from participants.models import Participant
from reports import dashboard as figures
from reports import freshness, freshness_services, tasks
from reports.models import Change, ChangeWatermark
from tests.reports.test_freshness import (
    _enrolled,
    _other_connection,
    _raw_statuses,
    _statuses,
)

pytestmark = pytest.mark.django_db(transaction=True)

LATER = timedelta(seconds=freshness.TIMEOUT + 1)


def _noted_write(site) -> int:
    """A committed write to a watched table; its transaction id (noted by the trigger)."""
    with transaction.atomic():
        site.name = f"{site.name}."
        site.save(update_fields=["name"])
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            (xid,) = cursor.fetchone()
    assert Change.objects.filter(xid=xid).exists()
    return xid


def _time_passes() -> None:
    """Every recorded watermark becomes older than the kept figures' expiry."""
    ChangeWatermark.objects.update(taken_at=F("taken_at") - LATER)


def test_a_prune_deletes_only_transactions_ended_before_an_old_enough_watermark(site_a):
    old = _noted_write(site_a)
    # The first run: no watermark yet, nothing deleted, one recorded.
    assert freshness_services.prune_changes() == 0
    assert Change.objects.filter(xid=old).exists()
    assert ChangeWatermark.objects.count() == 1
    # A run before the expiry has passed deletes nothing either.
    assert freshness_services.prune_changes() == 0
    assert Change.objects.filter(xid=old).exists()

    with _other_connection() as in_progress:
        # A transaction running while the next watermark is taken, committed after it.
        in_progress.execute(
            f"UPDATE {Participant._meta.db_table} SET status = status WHERE false"  # noqa: S608
        )
        (running,) = in_progress.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert freshness_services.prune_changes() == 0  # records that watermark
        in_progress.commit()
    after = _noted_write(site_a)

    _time_passes()  # the latest watermark is now the one taken while `running` ran
    assert freshness_services.prune_changes() >= 1
    assert not Change.objects.filter(xid=old).exists()
    # Ended after the watermark (one was running, one began later): kept.
    assert Change.objects.filter(xid=running).exists()
    assert Change.objects.filter(xid=after).exists()
    # The used watermark and the one just recorded remain, the older ones are gone.
    assert ChangeWatermark.objects.count() == 2


def test_a_kept_figure_is_never_served_stale_across_a_prune(frozen, site_a, coordinator_a, trial):
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=3, seed=3)
    freshness_services.prune_changes()  # a watermark before the figures are kept
    first = figures.dashboard([site_a], timezone.now())
    key = freshness._key("dashboard", figures.kept_parts([site_a], first.today))
    assert cache.get(key) is not None
    Participant.objects.filter(pk=_enrolled(site_a).pk).update(status=ParticipantStatus.WITHDRAWN)
    freshness_services.prune_changes()  # its watermark is after the write

    # The expiry passes on the database's clock: the kept value's snapshot and the
    # watermarks grow old together, while Django's cache still holds the value.
    db, filenode, snapshot, kept_at, value = cache.get(key)
    cache.set(key, (db, filenode, snapshot, kept_at - LATER, value), freshness.TIMEOUT)
    _time_passes()
    assert freshness_services.prune_changes() >= 1  # the write's note is deleted
    after = figures.dashboard([site_a], timezone.now())
    assert _statuses(after) == _raw_statuses(site_a) != _statuses(first)


def test_a_figure_kept_after_the_watermark_stays_kept_and_sees_later_writes(
    frozen, site_a, coordinator_a, trial
):
    seed_participants(actor=coordinator_a, site=site_a, trial=trial, n=3, seed=3)
    freshness_services.prune_changes()
    _time_passes()
    first = figures.dashboard([site_a], timezone.now())
    assert freshness_services.prune_changes() >= 1
    assert figures.dashboard([site_a], timezone.now()).statuses == first.statuses
    Participant.objects.filter(pk=_enrolled(site_a).pk).update(status=ParticipantStatus.WITHDRAWN)
    _time_passes()
    freshness_services.prune_changes()
    after = figures.dashboard([site_a], timezone.now())
    assert _statuses(after) == _raw_statuses(site_a) != _statuses(first)


def test_the_prune_runs_hourly_from_beat():
    schedule = settings.CELERY_BEAT_SCHEDULE["prune-report-changes"]
    assert schedule["task"] == tasks.prune_changes.name == "reports.tasks.prune_changes"
    assert schedule["schedule"] == 60 * 60
    assert tasks.prune_changes() == 0
    assert ChangeWatermark.objects.count() == 1
