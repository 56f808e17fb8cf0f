"""Grow a small seeded study to trial size in SQL, for benchmarks of reads (not a benchmark
itself: run_all skips files starting with an underscore).

`seed_demo` makes realistic participants through the services, which takes minutes per
thousand on a busy machine; reads only need the rows. `replicate(url, site, copies)` copies
every participant of `site` and everything that hangs off them (visits, forms, safety logs,
reminders, queries, ...: every table reached from participants_participant by foreign keys,
found in the catalogue) `copies` times, in one INSERT ... SELECT per table, with new ids
(each table's ids shifted by a multiple of its largest id), new screening numbers and study
ids (suffix "-k") and new form tokens. Triggers are off while copying (the audit history of
the copies is not made: the benchmarked pages do not read it) and ANALYZE runs at the end.
"""

from __future__ import annotations

import psycopg

ROOT_TABLE = "participants_participant"
# Reached by foreign keys but not part of a participant's record.
SKIP = {"reports_casebookjob", "exports_exportjob_sites"}


def _tables(conn: psycopg.Connection) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The tables to copy, parents first, and each one's {column: referenced copied table}."""
    edges = conn.execute(
        """
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
        """
    ).fetchall()
    copied = {ROOT_TABLE}
    grown = True
    while grown:  # every table with a foreign key into a copied one is copied too
        grown = False
        for table, _column, referenced in edges:
            if table not in copied and table not in SKIP and referenced in copied:
                copied.add(table)
                grown = True
    keys = {
        table: {column: ref for t, column, ref in edges if t == table and ref in copied}
        for table in copied
    }
    order: list[str] = []
    while len(order) < len(copied):  # parents first
        ready = sorted(
            table
            for table in copied - set(order)
            if all(ref in order or ref == table for ref in keys[table].values())
        )
        if not ready:
            raise RuntimeError(f"foreign keys in a cycle among {copied - set(order)}")
        order.extend(ready)
    return order, keys


def replicate(url: str, site: str, copies: int) -> int:
    """Copy the site's participants `copies` times; returns the site's participants after."""
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        order, keys = _tables(conn)
        primary = dict(
            conn.execute(
                """
                SELECT tc.table_name, kcu.column_name
                FROM information_schema.table_constraints tc
                JOIN information_schema.key_column_usage kcu
                  ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name
                WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public'
                """
            ).fetchall()
        )
        # Each table's shift: one more than its largest id, so copy k's ids are id + k * shift.
        shift = {}
        for table in order:
            pk = primary[table]
            (largest,) = conn.execute(f'SELECT coalesce(max("{pk}"), 0) FROM "{table}"').fetchone()
            shift[table] = int(largest) + 1
        site_id = conn.execute("SELECT id FROM trials_site WHERE code = %s", [site]).fetchone()[0]
        for table in order:
            columns = [
                name
                for (name,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            pk = primary[table]
            values = []
            for column in columns:
                if column == pk and column not in keys[table]:
                    values.append(f'"{column}" + k * {shift[table]}')
                elif column in keys[table]:
                    values.append(f'"{column}" + k * {shift[keys[table][column]]}')
                elif column == "form_token":
                    values.append(
                        "CASE WHEN form_token IS NULL THEN NULL ELSE gen_random_uuid() END"
                    )
                elif table == ROOT_TABLE and column in ("screening_number", "study_id"):
                    values.append(f"\"{column}\" || '-' || k")
                else:
                    values.append(f'"{column}"')
            # Only the originals of the site's participants are copied: rows whose every
            # reference to a copied table points at a copied original.
            where = [f'"{pk}" < {shift[table]}']
            if table == ROOT_TABLE:
                where.append(f"site_id = {site_id}")
            if table == "reminders_reminder":
                where.append("topic = ''")  # alerts are one per user and topic
            for column, ref in keys[table].items():
                if ref != table:
                    where.append(
                        f'("{column}" IS NULL OR "{column}" IN (SELECT id FROM "_src_{ref}"))'
                    )
            conn.execute(
                f'CREATE TEMP TABLE "_src_{table}" AS SELECT "{pk}" AS id FROM "{table}"'
                f" WHERE {' AND '.join(where)}"
            )
            names = ", ".join(f'"{c}"' for c in columns)
            conn.execute(
                f'INSERT INTO "{table}" ({names}) SELECT {", ".join(values)} FROM "{table}"'
                f" CROSS JOIN generate_series(1, {copies}) AS k"
                f' WHERE "{pk}" IN (SELECT id FROM "_src_{table}")'
            )
        for table in order:
            pk = primary[table]
            sequence = conn.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [table, pk]
            ).fetchone()[0]
            if sequence:
                conn.execute(f'SELECT setval(%s, (SELECT max("{pk}") FROM "{table}"))', [sequence])
        conn.commit()
        (count,) = conn.execute(
            f"SELECT count(*) FROM {ROOT_TABLE} WHERE site_id = %s", [site_id]
        ).fetchone()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return int(count)
