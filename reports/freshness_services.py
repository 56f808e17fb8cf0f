"""Writes of the kept report figures' machinery (reports.freshness): pruning the change log."""

from __future__ import annotations

from django.db import connection, transaction

from reports import freshness


def prune_changes() -> int:
    """Deletes the noted transactions no usable kept figure can need (those below a
    watermark recorded at least `freshness.TIMEOUT` ago), then records a new watermark.
    Safe at any time and concurrently with itself; returns the number of rows deleted."""
    delete, record = freshness.prune_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(delete)
        row = cursor.fetchone()
        cursor.execute(record)
    return int(row[0]) if row else 0
