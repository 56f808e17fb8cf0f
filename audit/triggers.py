"""A second, unconditional guard on every audit event table.

PGHISTORY_APPEND_ONLY installs pgtrigger's Protect trigger on each event table, but every
pgtrigger trigger skips itself when the session names it in the `pgtrigger.ignore` setting,
which any database user may set. This trigger has no such exception: UPDATE and DELETE of an
event row are refused for every role (only a table owner or superuser who disables triggers
gets past it, and that is a schema change, not data entry). TRUNCATE fires no row trigger,
so tests that empty tables still can.

It is installed after every `migrate` (post_migrate) on every table that has pghistory's
event columns, so event tables added later are covered without a migration of their own.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

# The function audit_refuse_event_change() and the trigger audit_append_only on each table.
INSTALL = """
CREATE OR REPLACE FUNCTION audit_refuse_event_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit trail: % of rows of % is refused (append-only)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DO $$
DECLARE t record;
BEGIN
    FOR t IN
        SELECT c.table_schema, c.table_name
        FROM information_schema.columns c
        JOIN information_schema.tables tb
            ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.column_name = 'pgh_label' AND tb.table_type = 'BASE TABLE'
            AND c.table_schema = current_schema()
            AND EXISTS (
                SELECT 1 FROM information_schema.columns o
                WHERE o.table_schema = c.table_schema AND o.table_name = c.table_name
                    AND o.column_name = 'pgh_id'
            )
            AND NOT EXISTS (
                SELECT 1 FROM pg_trigger g
                WHERE g.tgrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                    AND g.tgname = 'audit_append_only'
            )
    LOOP
        EXECUTE format(
            'CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON %I.%I'
            ' FOR EACH ROW EXECUTE FUNCTION audit_refuse_event_change()',
            t.table_schema, t.table_name
        );
    END LOOP;
END;
$$;
"""


def install(using: str = "default", **_kwargs: Any) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(INSTALL)
