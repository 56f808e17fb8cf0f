# ruff: noqa: S608 - identifiers come from _meta (quoted), codes are checked, values are parameters
"""The review tables of an export (step 10), each optional: `queries` (one row per query),
`sdv` (one row per source data verification), `signatures` (one row per record an
e-signature covers) and `locks` (one row per lock).

They read the rows of `queries` and `review` through their models' `_meta` (one SQL query
per table, like every other table; the layers put exports above both apps). Records are
known by their `trials.records` type key and id; de-identified, a record id is the audit
log's pseudonymous key (the same hash of the same record, so the tables join the log), and
free text (query messages, lock reasons), user names, times of day and database event
numbers are left out; dates are shifted or given as days from transplantation like every
other date of the participant. De-identified, the tables hold participant data only (a
site's lock has no participant whose shift could hide its dates).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from exports.options import REVIEW_TABLES
from exports.tables import (
    ISO_UTC,
    Column,
    Context,
    _finish,
    _key_columns,
    _literal,
    _tables,
    qn,
    subject_key,
    visit_codelist,
)
from exports.variables import BOOLEAN, INTEGER, TEXT, YES_NO, CodeList, Table, Variable
from queries.models import Query, QueryMessage, QueryStatus
from review.models import Lock, Scope, Signature, SignatureItem, SignatureKind, Verification
from trials import checks, records
from trials.models import Role

QUERIES, SDV, SIGNATURES, LOCKS = REVIEW_TABLES
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_.]+$")


def review_choices() -> list[tuple[str, str]]:
    """The export form's checkboxes of the review tables (none ticked by default)."""
    return [
        (QUERIES, _("Queries (one row per query: status, age, raised by a check or a person)")),
        (SDV, _("Source data verification (one row per verification, cleared or not)")),
        (SIGNATURES, _("E-signatures (one row per record signed: version, still valid)")),
        (LOCKS, _("Locks (one row per lock: scope, locked, unlocked)")),
    ]


# --- code lists -----------------------------------------------------------------------------


def record_type_codelist() -> CodeList:
    return CodeList(
        "review_record_type", TEXT, tuple((t.key, t.label) for t in records.all_types())
    )


def _choices(name: str, choices: Any) -> CodeList:
    return CodeList(name, TEXT, tuple((code, str(label)) for code, label in choices))


def check_codelist() -> CodeList:
    return CodeList("edit_check", TEXT, tuple((c.key, str(c.label)) for c in checks.all_checks()))


RAISED_BY = CodeList("query_raised_by", TEXT, (("check", "Edit check"), ("person", "Person")))
SDV_STATE = CodeList(
    "sdv_state", TEXT, (("verified", "Verified"), ("cleared", "Cleared by a later change"))
)


# --- shared pieces --------------------------------------------------------------------------


def _record_key(ctx: Context, type_column: str, id_column: str) -> str:
    """A record's id; de-identified, the audit log's key of the same record: the export's
    key, the model's label and the id, hashed (md5, 16 hex characters)."""
    if not ctx.deid:
        return f"{id_column}::text"
    key = subject_key(ctx.options).hex()
    cases = []
    for record_type in records.all_types():
        label = record_type.model._meta.label
        if _SAFE_LABEL.match(label):
            cases.append(f" WHEN {_literal(record_type.key)} THEN '{label}'")
    label_sql = f"CASE {type_column}{''.join(cases)} ELSE {type_column} END"
    return f"left(md5('{key}:' || {label_sql} || ':' || {id_column}::text), 16)"


def _record_variable(ctx: Context, source: str) -> Variable:
    return Variable(
        "record_id",
        _("Record (pseudonymous key, as in the audit log)") if ctx.deid else _("Record id"),
        TEXT,
        "review",
        source=source,
    )


def _when(ctx: Context, name: str, label: str, column: str, source: str) -> Column:
    """A moment: ISO 8601 UTC text when identified; de-identified, its date in the site's
    zone, shifted or as days from transplantation (the column is named <stem>_on)."""
    if ctx.deid:
        stem = name.removesuffix("_at")
        return (
            Variable(f"{stem}_on", ctx.date_label(label), ctx.date_kind, "review", source=source),
            f"CASE WHEN {column} IS NULL THEN NULL"
            f" ELSE {ctx.date(f'({column} AT TIME ZONE s.time_zone)::date')} END",
        )
    return (
        Variable(
            name,
            _("%(label)s (UTC, ISO 8601)") % {"label": label},
            TEXT,
            "review",
            source=source,
        ),
        f"to_char({column} AT TIME ZONE 'UTC', {ISO_UTC})",
    )


def _user(column: str) -> str:
    users = qn(get_user_model()._meta.db_table)
    return f"(SELECT uu.username FROM {users} uu WHERE uu.id = {column})"


def _visit_key_columns(ctx: Context) -> list[Column]:
    return [
        *_key_columns(ctx),
        (
            Variable(
                "visit", _("Visit"), TEXT, "key", codelist=visit_codelist(), source="visit.code"
            ),
            "v.code",
        ),
        (
            Variable("visit_seq", _("Unscheduled visit number"), INTEGER, "key"),
            "v.sequence",
        ),
    ]


def _from(ctx: Context, head: str, visit_join: str) -> tuple[str, list[Any]]:
    """FROM `head` (the rows, alias r, with r.participant_id) tied to the export's scope:
    participant, site, transplantation, the row's visit (if any) and, de-identified, the
    subjects' pseudonyms and shifts."""
    t = _tables()
    join, join_params = ctx.subject_join()
    where, where_params = ctx.participant_where()
    sql = (
        f" FROM {head}"
        f" JOIN {t['participant']} p ON p.id = r.participant_id"
        f" JOIN {t['site']} s ON s.id = p.site_id"
        f" LEFT JOIN {t['tx']} tx ON tx.participant_id = p.id"
        f" LEFT JOIN {t['visit']} v ON {visit_join}"
        f"{join}"
        f" WHERE {where} AND (v.id IS NULL OR v.code = ANY(%s))"
    )
    return sql, [*join_params, *where_params, list(ctx.options.visits)]


def _hidden(ctx: Context, rep: str) -> str:
    return (
        f"({ctx.order_expr}) AS _ord, p.id AS _pid, COALESCE(v.position, -1) AS _vpos,"
        f" COALESCE(v.sequence, 0) AS _vseq, COALESCE(v.code, 'SUBJECT')::text AS _vcode,"
        f" {rep} AS _rep"
    )


def _table(
    ctx: Context,
    name: str,
    label: str,
    columns: list[Column],
    from_sql: str,
    params: list[Any],
    rep: str,
    notes: list[str],
) -> Table:
    visible = ", ".join(f"{expr} AS {qn(f'c{i}')}" for i, (_v, expr) in enumerate(columns))
    return _finish(
        Table(
            name=name,
            label=label,
            variables=[v for v, _e in columns],
            inner_sql=f"SELECT {_hidden(ctx, rep)}, {visible}{from_sql}",
            params=params,
            count_sql="SELECT count(*)" + from_sql,
            count_params=params,
            form_code=name,
            group=name,
            repeating=True,
            notes=notes,
        ),
        ctx.options,
    )


# --- queries --------------------------------------------------------------------------------


def queries_table(ctx: Context) -> Table:
    messages = qn(QueryMessage._meta.db_table)
    columns = [
        *_visit_key_columns(ctx),
        (
            Variable(
                "query_id",
                _("Query (pseudonymous key)") if ctx.deid else _("Query id"),
                TEXT,
                "review",
                source="queries.Query.id",
            ),
            _record_key(ctx, "'query'", "r.id"),
        ),
        (
            Variable(
                "record_type",
                _("Record type"),
                TEXT,
                "review",
                codelist=record_type_codelist(),
                source="queries.Query.record_type",
            ),
            "r.record_type",
        ),
        (
            _record_variable(ctx, "queries.Query.record_pk"),
            _record_key(ctx, "r.record_type", "r.record_pk"),
        ),
        (
            Variable(
                "field",
                _("Field (empty: the whole record)"),
                TEXT,
                "review",
                source="queries.Query.field_name",
            ),
            "r.field_name",
        ),
        (
            Variable(
                "status",
                _("Status"),
                TEXT,
                "review",
                codelist=_choices("query_status", QueryStatus.choices),
                source="queries.Query.status",
            ),
            "r.status",
        ),
        (
            Variable(
                "assigned_role",
                _("Assigned to"),
                TEXT,
                "review",
                codelist=_choices("role", Role.choices),
                source="queries.Query.assigned_role",
            ),
            "r.assigned_role",
        ),
        _when(ctx, "opened_at", _("Opened"), "r.opened_at", "queries.Query.opened_at"),
        _when(ctx, "closed_at", _("Closed"), "r.closed_at", "queries.Query.closed_at"),
        (
            Variable(
                "age_days",
                _("Age in days"),
                INTEGER,
                "derived",
                derivation=_(
                    "whole days from opening to closing, or to the export while unresolved"
                ),
            ),
            # The application's clock (Query.age_days), inlined: an ISO time, no user text.
            f"GREATEST(floor(extract(epoch FROM (COALESCE(r.closed_at,"
            f" '{timezone.now().isoformat()}'::timestamptz) - r.opened_at))"
            " / 86400), 0)::int",
        ),
        (
            Variable(
                "raised_by",
                _("Raised by"),
                TEXT,
                "review",
                codelist=RAISED_BY,
                derivation=_("check when an edit check opened it, else person"),
            ),
            "CASE WHEN r.check_key = '' THEN 'person' ELSE 'check' END",
        ),
        (
            Variable(
                "check_key",
                _("Edit check that raised it"),
                TEXT,
                "review",
                codelist=check_codelist(),
                source="queries.Query.check_key",
            ),
            "NULLIF(r.check_key, '')",
        ),
        (
            Variable(
                "closed_by_check",
                _("Closed by its check (the data no longer trigger it)"),
                BOOLEAN,
                "review",
                codelist=YES_NO,
                source="queries.Query.closed_by_check",
            ),
            "r.closed_by_check::int",
        ),
        (
            Variable(
                "messages",
                _("Messages in the thread"),
                INTEGER,
                "review",
                source="queries.QueryMessage (count)",
            ),
            f"(SELECT count(*) FROM {messages} m WHERE m.query_id = r.id)::int",
        ),
    ]
    if not ctx.deid:
        columns += [
            (
                Variable("opened_by", _("Opened by (user name; empty: a check)"), TEXT, "review"),
                _user("r.opened_by_id"),
            ),
            (
                Variable("closed_by", _("Closed by (user name)"), TEXT, "review"),
                _user("r.closed_by_id"),
            ),
            (
                Variable(
                    "thread",
                    _("The messages: kind, author, time and text, one a line"),
                    TEXT,
                    "review",
                    source="queries.QueryMessage",
                ),
                "(SELECT string_agg("
                f"m.kind || ' (' || COALESCE({_user('m.author_id')}, 'check') || ', '"
                f" || to_char(m.created_at AT TIME ZONE 'UTC', {ISO_UTC}) || '): ' || m.text,"
                f" E'\\n' ORDER BY m.created_at, m.id) FROM {messages} m WHERE m.query_id = r.id)",
            ),
        ]
    from_sql, params = _from(ctx, f"{qn(Query._meta.db_table)} r", "v.id = r.visit_id")
    notes = [
        _(
            "One row per query on a record or one of its fields; raised_by says whether an "
            "edit check (check_key) or a person opened it; age_days counts to the closing, "
            "or to the export while the query is open or answered."
        )
    ]
    if ctx.deid:
        notes.append(_("De-identified: no message text, user names or times of day."))
    return _table(ctx, QUERIES, _("Queries"), columns, from_sql, params, "r.id", notes)


# --- source data verification ---------------------------------------------------------------


def sdv_table(ctx: Context) -> Table:
    columns = [
        *_visit_key_columns(ctx),
        (
            Variable(
                "record_type",
                _("Record type"),
                TEXT,
                "review",
                codelist=record_type_codelist(),
                source="review.Verification.record_type",
            ),
            "r.record_type",
        ),
        (
            _record_variable(ctx, "review.Verification.record_id"),
            _record_key(ctx, "r.record_type", "r.record_id"),
        ),
        (
            Variable(
                "field",
                _("Field verified (empty: the whole record)"),
                TEXT,
                "review",
                source="review.Verification.field",
            ),
            "r.field",
        ),
        (
            Variable(
                "record_version",
                _("Version of the record verified"),
                INTEGER,
                "review",
                source="review.Verification.record_version",
            ),
            "r.record_version",
        ),
        _when(
            ctx, "verified_at", _("Verified"), "r.verified_at", "review.Verification.verified_at"
        ),
        (
            Variable(
                "state",
                _("State"),
                TEXT,
                "review",
                codelist=SDV_STATE,
                derivation=_("cleared when a later change of a verified value cleared it"),
            ),
            "CASE WHEN r.cleared_at IS NULL THEN 'verified' ELSE 'cleared' END",
        ),
        _when(ctx, "cleared_at", _("Cleared"), "r.cleared_at", "review.Verification.cleared_at"),
        (
            Variable(
                "cleared_version",
                _("Version of the record whose change cleared it"),
                INTEGER,
                "review",
                source="review.Verification.cleared_version",
            ),
            "r.cleared_version",
        ),
        (
            Variable(
                "cleared_fields",
                _("Fields whose change cleared it (space-separated)"),
                TEXT,
                "review",
                source="review.Verification.cleared_fields",
            ),
            "NULLIF(array_to_string(ARRAY(SELECT jsonb_array_elements_text("
            "r.cleared_fields::jsonb)), ' '), '')",
        ),
    ]
    if not ctx.deid:
        columns += [
            (
                Variable(
                    "cleared_by_event",
                    _("Audit event of the change that cleared it"),
                    INTEGER,
                    "review",
                    source="review.Verification.cleared_by_event",
                ),
                "r.cleared_by_event",
            ),
            (
                Variable("verified_by", _("Verified by (user name)"), TEXT, "review"),
                _user("r.verified_by_id"),
            ),
        ]
    from_sql, params = _from(ctx, f"{qn(Verification._meta.db_table)} r", "v.id = r.visit_id")
    notes = [
        _(
            "One row per source data verification of a record (field empty) or one field; "
            "state cleared: a later change of a verified value cleared it (cleared_version: "
            "the record's version after that change)."
        )
    ]
    return _table(ctx, SDV, _("Source data verification"), columns, from_sql, params, "r.id", notes)


# --- e-signatures ---------------------------------------------------------------------------


def signatures_table(ctx: Context) -> Table:
    columns = [
        *_visit_key_columns(ctx),
        (
            Variable(
                "signature_id",
                _("Signature (pseudonymous key)") if ctx.deid else _("Signature id"),
                TEXT,
                "review",
                source="review.Signature.id",
            ),
            _record_key(ctx, "'signature'", "r.id"),
        ),
        (
            Variable(
                "signed",
                _("What was signed"),
                TEXT,
                "review",
                codelist=_choices("signature_kind", SignatureKind.choices),
                source="review.Signature.kind",
            ),
            "r.kind",
        ),
        (
            Variable(
                "meaning",
                _("Meaning of the signature"),
                TEXT,
                "review",
                source="review.Signature.meaning",
            ),
            "r.meaning",
        ),
        _when(ctx, "signed_at", _("Signed"), "r.signed_at", "review.Signature.signed_at"),
        (
            Variable(
                "record_type",
                _("Record type"),
                TEXT,
                "review",
                codelist=record_type_codelist(),
                source="review.SignatureItem.record_type",
            ),
            "i.record_type",
        ),
        (
            _record_variable(ctx, "review.SignatureItem.record_id"),
            _record_key(ctx, "i.record_type", "i.record_id"),
        ),
        (
            Variable(
                "record_version",
                _("Version of the record signed"),
                INTEGER,
                "review",
                source="review.SignatureItem.record_version",
            ),
            "i.record_version",
        ),
        (
            Variable(
                "valid",
                _("Signature still valid"),
                BOOLEAN,
                "review",
                codelist=YES_NO,
                derivation=_("0 when a later change of signed data invalidated it"),
            ),
            "(r.invalidated_at IS NULL)::int",
        ),
        _when(
            ctx,
            "invalidated_at",
            _("Invalidated"),
            "r.invalidated_at",
            "review.Signature.invalidated_at",
        ),
        (
            Variable(
                "invalidated_version",
                _("Version of the changed record that invalidated it"),
                INTEGER,
                "review",
                source="review.Signature.invalidated_version",
            ),
            "r.invalidated_version",
        ),
    ]
    if not ctx.deid:
        columns += [
            (
                Variable(
                    "invalidated_by",
                    _("Record whose change invalidated it (type:id)"),
                    TEXT,
                    "review",
                    source="review.Signature.invalidated_by_record",
                ),
                "NULLIF(r.invalidated_by_record, '')",
            ),
            (
                Variable(
                    "invalidated_by_event",
                    _("Audit event of the change that invalidated it"),
                    INTEGER,
                    "review",
                    source="review.Signature.invalidated_by_event",
                ),
                "r.invalidated_by_event",
            ),
            (
                Variable("signed_by", _("Signed by (user name)"), TEXT, "review"),
                _user("r.signed_by_id"),
            ),
        ]
    head = (
        f"{qn(SignatureItem._meta.db_table)} i"
        f" JOIN {qn(Signature._meta.db_table)} r ON r.id = i.signature_id"
    )
    from_sql, params = _from(ctx, head, "v.id = r.visit_id")
    notes = [
        _(
            "One row per record an e-signature covers (a visit, a casebook or chosen records "
            "such as adverse events), with the version signed; valid = 0 once a later change "
            "of signed data invalidated the signature."
        )
    ]
    return _table(ctx, SIGNATURES, _("E-signatures"), columns, from_sql, params, "i.id", notes)


# --- locks ----------------------------------------------------------------------------------


def locks_table(ctx: Context) -> Table:
    columns = [
        *_key_columns(ctx),
        (
            Variable("visit", _("Visit (a visit's lock)"), TEXT, "key", codelist=visit_codelist()),
            "v.code",
        ),
        (
            Variable("visit_seq", _("Unscheduled visit number"), INTEGER, "key"),
            "v.sequence",
        ),
        (
            Variable(
                "scope",
                _("What is locked"),
                TEXT,
                "review",
                codelist=_choices("lock_scope", Scope.choices),
                source="review.Lock.scope",
            ),
            "r.scope",
        ),
        (
            Variable(
                "record_type",
                _("Record type (a record's or a visit's lock)"),
                TEXT,
                "review",
                codelist=record_type_codelist(),
                source="review.Lock.record_type",
            ),
            "NULLIF(r.record_type, '')",
        ),
        (
            _record_variable(ctx, "review.Lock.record_id"),
            f"CASE WHEN r.record_id IS NULL THEN NULL"
            f" ELSE {_record_key(ctx, 'r.record_type', 'r.record_id')} END",
        ),
        _when(ctx, "locked_at", _("Locked"), "r.locked_at", "review.Lock.locked_at"),
        _when(ctx, "unlocked_at", _("Unlocked"), "r.unlocked_at", "review.Lock.unlocked_at"),
        (
            Variable(
                "active",
                _("Still locked"),
                BOOLEAN,
                "review",
                codelist=YES_NO,
                derivation=_("1 until it is unlocked"),
            ),
            "(r.unlocked_at IS NULL)::int",
        ),
    ]
    if not ctx.deid:
        columns += [
            (
                Variable("reason", _("Reason for locking"), TEXT, "review"),
                "r.reason",
            ),
            (
                Variable("unlock_reason", _("Reason for unlocking"), TEXT, "review"),
                "NULLIF(r.unlock_reason, '')",
            ),
            (
                Variable("locked_by", _("Locked by (user name)"), TEXT, "review"),
                _user("r.locked_by_id"),
            ),
            (
                Variable("unlocked_by", _("Unlocked by (user name)"), TEXT, "review"),
                _user("r.unlocked_by_id"),
            ),
        ]
    t = _tables()
    visit_join = f"r.scope = {_literal(Scope.VISIT.value)} AND v.id = r.record_id"
    if ctx.deid:
        # Participant data only: a site's lock has no participant (its dates cannot shift).
        from_sql, params = _from(ctx, f"{qn(Lock._meta.db_table)} r", visit_join)
    else:
        from_sql = (
            f" FROM {qn(Lock._meta.db_table)} r"
            f" JOIN {t['site']} s ON s.id = r.site_id"
            f" LEFT JOIN {t['participant']} p ON p.id = r.participant_id"
            f" LEFT JOIN {t['tx']} tx ON tx.participant_id = p.id"
            f" LEFT JOIN {t['visit']} v ON {visit_join}"
            " WHERE s.id = ANY(%s) AND (p.id IS NULL OR p.status = ANY(%s))"
            " AND (v.id IS NULL OR v.code = ANY(%s))"
        )
        params = [
            list(ctx.options.site_ids),
            list(ctx.options.statuses),
            list(ctx.options.visits),
        ]
    notes = [
        _("One row per lock of a site, participant, visit or record; active = 1 until unlocked.")
    ]
    if ctx.deid:
        notes.append(_("De-identified: participants' locks only, without reasons or user names."))
    return _table(ctx, LOCKS, _("Locks"), columns, from_sql, params, "r.id", notes)


def review_tables(ctx: Context) -> list[Table]:
    """The selected review tables, in a fixed order (after the data, before the audit log).
    ODM carries clinical data only: the review tables go in the other formats."""
    if ctx.options.fmt == "odm":
        return []
    builders = {
        QUERIES: queries_table,
        SDV: sdv_table,
        SIGNATURES: signatures_table,
        LOCKS: locks_table,
    }
    return [builders[name](ctx) for name in REVIEW_TABLES if name in ctx.options.review]
