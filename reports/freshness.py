"""Report figures kept between requests, and never shown once the data behind them changed.

The dashboard's and the cohort view's aggregates read every visit and form of the study
(about 0.7 s of SQL at 10,000 participants). They are kept in Django's cache, each with the
PostgreSQL snapshot it was computed from, and reused only while no transaction that wrote
to the data they read has committed since:

- Every table of the apps the reports read (`watched_tables`) has a statement-level trigger
  (reports/migrations/0003) that records the writing transaction's id in `reports_change`
  (one row per transaction, whatever it writes), in that same transaction: an insert,
  update, delete or truncate made through the services, the admin, a bulk update, a
  management command or raw SQL is seen alike, and a rolled-back write leaves nothing.
- On a miss the snapshot (`pg_current_snapshot()`) is taken *before* the figures are read,
  so whatever they saw is in it or newer. A kept value is used only if no recorded
  transaction is invisible to its snapshot (committed after it, or in progress then):
  one indexed query on the transactions since the snapshot's xmin. Transaction ids are
  compared as snapshots compare them, not as "the highest id seen", so a transaction that
  started earlier but commits later invalidates too.
- A transaction that has itself written watched data (a test's fixtures, a request that
  saved before reading) computes afresh and keeps nothing: its figures include rows that may
  still be rolled back.
- The key names the database (its oid, and the change table's file, so a dropped and
  restored or truncated database is another key), the sites and each site's today (overdue
  and window-open visits move with the calendar day), the language of the labels, and the
  figure's own parameters. Values expire after `TIMEOUT` regardless, counted on the
  database's clock from (before) their snapshot: a kept value whose snapshot is older than
  `TIMEOUT` is never used, however long Django's cache still holds it.

The change log is pruned (`prune_changes`, hourly from Celery beat) without ever making a
kept value look fresh: each run records a watermark, the database's time and the lowest
transaction of this database its snapshot sees running (every one below it had ended by
then), and deletes the noted transactions below a watermark recorded at least `TIMEOUT` ago. Any snapshot taken after that watermark
sees those transactions (their rows never count against it), and every value kept from an
older snapshot has expired.

A figure that depends on the time of day (open queries by age) is not kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.utils import translation

# The apps whose tables the reports read. Every concrete table of these apps is watched
# (pghistory's event tables excepted: they are written only beside a watched table).
WATCHED_APPS = (
    "trials",
    "participants",
    "visits",
    "crfs",
    "safety",
    "review",
    "queries",
    "clinic",
)
CHANGE_TABLE = "reports_change"
WATERMARK_TABLE = "reports_changewatermark"
TRIGGER = "reports_change_noted"
FUNCTION = "reports_note_change"
# How long a kept value may be used, in seconds from before its snapshot: the cache's expiry
# and the change log's pruning delay (`prune_changes`) are this one figure.
TIMEOUT = 15 * 60
VERSION = 2  # bump when a kept value's shape changes

T = TypeVar("T")


def watched_tables() -> list[str]:
    """The tables whose writes invalidate the kept figures (sorted)."""
    import pghistory.models

    tables = set()
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in WATCHED_APPS or meta.proxy or not meta.managed:
            continue
        if issubclass(model, pghistory.models.Event):
            continue
        tables.add(meta.db_table)
        for m2m in meta.local_many_to_many:
            through = m2m.remote_field.through._meta  # type: ignore[union-attr]
            if through.auto_created:
                tables.add(through.db_table)
    return sorted(tables)


def function_sql() -> str:
    return f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {CHANGE_TABLE} (xid) VALUES (pg_current_xact_id()::text::bigint)
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$;
    """  # noqa: S608 (constant names)


def install_sql(table: str) -> str:
    """The trigger on one table (idempotent)."""
    return (
        f'CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}"'
        f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();"
    )


def uninstall_sql(table: str) -> str:
    return f'DROP TRIGGER IF EXISTS {TRIGGER} ON "{table}";'


def installed_tables() -> set[str]:
    """Tables that have the trigger (what the database says)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s AND NOT t.tgisinternal",
            [TRIGGER],
        )
        return {name for (name,) in cursor.fetchall()}


def _key(name: str, parts: Iterable[Any]) -> str:
    settings_db = connection.settings_dict
    raw = repr(
        (
            VERSION,
            settings_db.get("HOST"),
            settings_db.get("PORT"),
            settings_db.get("NAME"),
            translation.get_language(),
            name,
            tuple(parts),
        )
    )
    return "reports:fresh:" + hashlib.sha256(raw.encode()).hexdigest()


# One query whatever happens: the database's identity; whether the kept snapshot (NULL when
# nothing is kept) is younger than TIMEOUT on the database's clock (from `kept_at`, taken no
# later than it) and has seen every recorded change, no recorded transaction being invisible
# to it; the current snapshot and a time no later than it (the transaction's start), kept
# with a value computed now; and whether this transaction has itself written watched data
# not yet committed.
_CHECK_SQL = f"""
    SELECT d.oid, pg_relation_filenode('{CHANGE_TABLE}'),
           %(kept)s::pg_snapshot IS NOT NULL
           AND clock_timestamp() < %(kept_at)s::timestamptz + make_interval(secs => {TIMEOUT})
           AND NOT EXISTS (
               SELECT 1 FROM {CHANGE_TABLE} c
               WHERE c.xid >= pg_snapshot_xmin(%(kept)s::pg_snapshot)::text::bigint
                 AND NOT pg_visible_in_snapshot(c.xid::text::xid8, %(kept)s::pg_snapshot)
           ),
           pg_current_snapshot()::text,
           transaction_timestamp(),
           EXISTS (
               SELECT 1 FROM {CHANGE_TABLE}
               WHERE xid = pg_current_xact_id_if_assigned()::text::bigint
           )
    FROM pg_database d WHERE d.datname = current_database()
"""  # noqa: S608 (constant table name)


def kept(name: str, parts: Iterable[Any], compute: Callable[[], T]) -> T:
    """`compute()`'s value, from the cache when nothing it may have read changed since.

    `parts` must name everything else the value depends on (sites, their today, filters).
    One query more than nothing on a hit, one more than `compute()` on a miss."""
    key = _key(name, parts)
    entry = cache.get(key)
    snapshot, kept_at = (entry[2], entry[3]) if entry is not None else (None, None)
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL, {"kept": snapshot, "kept_at": kept_at})
        row = cursor.fetchone()
    if row is None:  # the current database is always in pg_database
        return compute()
    db, filenode, valid, now, now_at, own_writes = row
    if entry is not None and valid and entry[0] == db and entry[1] == filenode:
        return entry[4]
    # `now` was taken before compute() reads: whatever it sees is in `now` or newer (and a
    # newer commit is invisible to `now`, so it invalidates the value: never the reverse).
    value = compute()
    if not own_writes:
        cache.set(key, (db, filenode, now, now_at, value), TIMEOUT)
    return value


# Deletes the noted transactions that no usable kept value can need, then records a new
# watermark. A watermark (taken_at, horizon): every transaction id below horizon had ended
# before taken_at (horizon is the lowest id the snapshot sees running, the snapshot taken
# before clock_timestamp() is read; or its xmax when none runs). Transaction ids are the
# whole server's, and only this database's transactions write the watched tables: one
# running in another database (found in pg_stat_activity) does not hold the horizon back.
# One not found there (ended meanwhile, or not shown) does: never too high. Once taken_at
# is TIMEOUT old, a kept value is usable only if its kept_at (no later than its snapshot) is
# after taken_at: its snapshot sees every transaction below xmin, so their rows never count
# against it, and deleting them changes no check. (The argument assumes the database's
# clock does not step back by more than the delay between runs.) Watermarks older than the one used are
# no longer needed.
_PRUNE_SQL = (
    f"""
    WITH mark AS (
        SELECT taken_at, horizon FROM {WATERMARK_TABLE}
        WHERE taken_at <= clock_timestamp() - make_interval(secs => {TIMEOUT})
        ORDER BY taken_at DESC LIMIT 1
    ), gone AS (
        DELETE FROM {CHANGE_TABLE} WHERE xid < (SELECT horizon FROM mark) RETURNING 1
    ), marks AS (
        DELETE FROM {WATERMARK_TABLE} WHERE taken_at < (SELECT taken_at FROM mark)
    )
    SELECT count(*) FROM gone
""",  # noqa: S608 (constant table names)
    f"""
    INSERT INTO {WATERMARK_TABLE} (taken_at, horizon)
    SELECT clock_timestamp(), coalesce(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) x
         WHERE NOT EXISTS (
             SELECT 1 FROM pg_stat_activity a
             WHERE a.datname <> current_database()
               AND a.backend_xid::text::bigint = x::text::bigint % 4294967296
         )),
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint
    )
""",  # noqa: S608
)


def prune_sql() -> tuple[str, str]:
    """The two statements of a prune run: delete (returns the count), then record."""
    return _PRUNE_SQL
