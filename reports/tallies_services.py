# ruff: noqa: S608 - table names are constants, values are parameters
"""Writes of the kept tallies (reports.tallies): counting the changed participants again."""

from __future__ import annotations

import json
from collections import defaultdict

from django.db import connection, transaction

from reports import tallies
from reports.tallies import PARTICIPANT_TABLE, SITE_TABLE, STALE_TABLE, STATE_TABLE

# One query when nothing changed: is any participant noted, and do the kept counts follow
# this code?
_NEEDED_SQL = f"""
    SELECT EXISTS (SELECT 1 FROM {STALE_TABLE}),
           NOT EXISTS (SELECT 1 FROM {STATE_TABLE} WHERE id = 1 AND fingerprint = %s)
"""


def refresh() -> int:
    """Counts again every participant a committed transaction (or this one) changed since
    the last refresh, and everything when the code the counts follow changed; returns the
    number of participants counted. One query when nothing changed."""
    fingerprint = tallies.fingerprint()
    with connection.cursor() as cursor:
        cursor.execute(_NEEDED_SQL, [fingerprint])
        stale, outdated = cursor.fetchone()
    if not stale and not outdated:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [tallies.LOCK_KEY])
        # Another refresh may have done the work while this one waited: ask again.
        cursor.execute(_NEEDED_SQL, [fingerprint])
        _stale, outdated = cursor.fetchone()
        if outdated:
            return _recount_everything(cursor, fingerprint)
        # The notes of committed transactions (and this one's): a transaction still running
        # keeps its notes, read by the next refresh once its rows are visible.
        cursor.execute(f"DELETE FROM {STALE_TABLE} RETURNING participant_id")
        ids = sorted({pid for (pid,) in cursor.fetchall()})
        _recount(cursor, ids)
        return len(ids)


def _recount_everything(cursor, fingerprint: str) -> int:
    from participants.models import Participant

    cursor.execute(f"DELETE FROM {STALE_TABLE}")
    cursor.execute(f"DELETE FROM {PARTICIPANT_TABLE}")
    cursor.execute(f"DELETE FROM {SITE_TABLE}")
    cursor.execute(f"SELECT id FROM {Participant._meta.db_table}")
    ids = [pid for (pid,) in cursor.fetchall()]
    _recount(cursor, ids)
    cursor.execute(
        f"INSERT INTO {STATE_TABLE} (id, fingerprint) VALUES (1, %s)"
        " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
        [fingerprint],
    )
    return len(ids)


def _recount(cursor, ids: list[int]) -> None:
    """Replaces the participants' kept counts with new ones and moves their sites' sums by
    the difference (a participant gone or moved to another site included)."""
    if not ids:
        return
    counted = tallies.count(ids)
    cursor.execute(
        f"DELETE FROM {PARTICIPANT_TABLE} WHERE participant_id = ANY(%s) RETURNING site_id, counts",
        [ids],
    )
    delta: dict[tuple[int, str], int] = defaultdict(int)
    for site_id, counts in cursor.fetchall():
        for key, n in (json.loads(counts) if isinstance(counts, str) else counts).items():
            delta[(site_id, key)] -= n
    for site_id, counts in counted.values():
        for key, n in counts.items():
            delta[(site_id, key)] += n
    if counted:
        pids = list(counted)
        cursor.execute(
            f"INSERT INTO {PARTICIPANT_TABLE} (participant_id, site_id, counts)"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::jsonb[])",
            [
                pids,
                [counted[pid][0] for pid in pids],
                [json.dumps(counted[pid][1], sort_keys=True) for pid in pids],
            ],
        )
    changes = sorted((key, n) for key, n in delta.items() if n)
    if changes:
        cursor.execute(
            f"INSERT INTO {SITE_TABLE} (site_id, key, n)"
            " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[])"
            f" ON CONFLICT (site_id, key) DO UPDATE SET n = {SITE_TABLE}.n + excluded.n",
            [
                [site_id for (site_id, _key), _n in changes],
                [key for (_site, key), _n in changes],
                [n for _key, n in changes],
            ],
        )
