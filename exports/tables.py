"""The tables of an export as SQL: one query per data file, generic over the registry.

Every query yields, in a deterministic order, six hidden key columns (used to
nest rows in ODM and to merge streams) followed by the visible columns, already
in their final form: missing-data reasons from the JSON map in their own
columns, days from transplantation, days off target and in/out of window
computed by PostgreSQL, de-identified dates shifted or converted to days.
Rows are read through server-side cursors (see `stream_rows`), so memory stays
flat however large the study grows.

The SQL is assembled from table and column names taken from the models' `_meta`
(quoted with the backend's quote_name) and from codes checked against
`_SAFE_CODE`; every value chosen by a user is a query parameter (S608 is
therefore silenced for this module in pyproject.toml).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.utils.translation import gettext as _

from crfs import registry
from crfs.base import FormRecord, FormStatus, MissingReason
from exports.expansions import expand
from exports.options import PARTICIPANTS_TABLE, ExportOptions
from exports.variables import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    MISSING_SUFFIX,
    TEXT,
    YES_NO,
    CodeList,
    Table,
    Variable,
    assign_short_names,
    field_kind,
    is_free_text,
    proact_alias,
    variable_for_field,
    wide_name,
)
from participants.choices import ParticipantStatus
from participants.models import Participant, ParticipantIdentity
from trials.models import Site, Trial
from trials.protocols.definitions import UNSCHEDULED_CODE
from visits.models import Transplantation, Visit

HIDDEN = 6  # _ord, _pid, _vpos, _vseq, _vcode, _rep
CHUNK_SIZE = 2000
SUBJECT_EVENT = "SUBJECT"
AUDIT_TABLE = "audit_log"
BASE_FIELDS = frozenset({"id"} | {f.name for f in FormRecord._meta.local_fields})
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_]+$")


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(f: models.Field) -> str:
    """The column of a concrete field (the export reads no other kind)."""
    assert f.column is not None
    return f.column


def _literal(code: str) -> str:
    """A visit or form code inlined as an SQL literal: only plain identifiers are allowed."""
    if not _SAFE_CODE.match(code):
        raise ValueError(f"unsafe code {code!r}")
    return f"'{code}'"


# --- subjects: pseudonyms and date shifts ---------------------------------------------


@dataclass
class Subjects:
    """Per-participant pseudonym and date shift, derived from a keyed hash (HMAC-SHA256)
    of the participant and the export's choices: the same options give the same values,
    other options other values, and neither can be reversed without the server's key."""

    ids: list[int] = field(default_factory=list)
    pseudonyms: list[str] = field(default_factory=list)
    shifts: list[int] = field(default_factory=list)


MAX_SHIFT_DAYS = 182


def subject_key(options: ExportOptions) -> bytes:
    material = f"ecrf-export-subjects:{options.fingerprint(content_only=True)}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), material, sha256).digest()


def pseudonym_and_shift(key: bytes, participant_id: int) -> tuple[str, int]:
    digest = hmac.new(key, str(participant_id).encode(), sha256).digest()
    pseudonym = "P" + digest[:6].hex().upper()
    shift = int.from_bytes(digest[6:10], "big") % (2 * MAX_SHIFT_DAYS) - MAX_SHIFT_DAYS
    return pseudonym, shift if shift != 0 else MAX_SHIFT_DAYS


def load_subjects(options: ExportOptions) -> Subjects:
    subjects = Subjects()
    if not options.deidentify:
        return subjects
    key = subject_key(options)
    ids = (
        Participant.objects.filter(site_id__in=options.site_ids, status__in=options.statuses)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    seen: set[str] = set()
    for pid in ids.iterator(chunk_size=CHUNK_SIZE):
        pseudonym, shift = pseudonym_and_shift(key, pid)
        if pseudonym in seen:  # 48-bit pseudonyms: practically never; refuse rather than merge
            raise RuntimeError("pseudonym collision; change the export options")
        seen.add(pseudonym)
        subjects.ids.append(pid)
        subjects.pseudonyms.append(pseudonym)
        subjects.shifts.append(shift)
    return subjects


# --- the shared FROM clause -----------------------------------------------------------


@dataclass
class Context:
    options: ExportOptions
    subjects: Subjects

    @property
    def deid(self) -> bool:
        return self.options.deidentify

    def subject_join(self) -> tuple[str, list[Any]]:
        if not self.deid:
            return "", []
        return (
            " JOIN unnest(%s::bigint[], %s::text[], %s::int[]) AS d(pid, pseudonym, shift)"
            " ON d.pid = p.id",
            [self.subjects.ids, self.subjects.pseudonyms, self.subjects.shifts],
        )

    @property
    def subject_expr(self) -> str:
        if self.deid and self.options.pseudonymise:
            return "d.pseudonym"
        return "COALESCE(p.study_id, p.screening_number)"

    @property
    def order_expr(self) -> str:
        if self.deid and self.options.pseudonymise:
            return 'd.pseudonym COLLATE "C"'
        return "''::text"

    def date(self, expr: str) -> str:
        if not self.deid:
            return expr
        if self.options.date_mode == "days":
            return f"({expr} - tx.performed_on)"
        return f"({expr} + d.shift)"

    @property
    def date_kind(self) -> str:
        return INTEGER if self.deid and self.options.date_mode == "days" else DATE

    def date_label(self, label: str) -> str:
        if self.deid and self.options.date_mode == "days":
            return _("%(label)s (days from transplantation)") % {"label": label}
        if self.deid:
            return _("%(label)s (shifted)") % {"label": label}
        return label

    def participant_where(self) -> tuple[str, list[Any]]:
        return "p.site_id = ANY(%s) AND p.status = ANY(%s)", [
            list(self.options.site_ids),
            list(self.options.statuses),
        ]


def _tables() -> dict[str, str]:
    return {
        "participant": qn(Participant._meta.db_table),
        "site": qn(Site._meta.db_table),
        "visit": qn(Visit._meta.db_table),
        "tx": qn(Transplantation._meta.db_table),
    }


def _visit_from(ctx: Context, record_table: str) -> tuple[str, list[Any]]:
    t = _tables()
    join, join_params = ctx.subject_join()
    where, where_params = ctx.participant_where()
    sql = (
        f" FROM {record_table} t"
        f" JOIN {t['visit']} v ON v.id = t.visit_id"
        f" JOIN {t['participant']} p ON p.id = v.participant_id"
        f" JOIN {t['site']} s ON s.id = p.site_id"
        f" LEFT JOIN {t['tx']} tx ON tx.participant_id = p.id"
        f"{join}"
        f" WHERE {where} AND v.code = ANY(%s)"
    )
    return sql, [*join_params, *where_params, list(ctx.options.visits)]


# --- columns --------------------------------------------------------------------------

Column = tuple[Variable, str]


def visit_codelist() -> CodeList:
    items: list[tuple[Any, str]] = []
    for trial in Trial.objects.order_by("nct_id"):
        for visit in trial.protocol.visits:
            if visit.code not in {code for code, _label in items}:
                items.append((visit.code, str(visit.label)))
    items.append((UNSCHEDULED_CODE, _("Unscheduled")))
    return CodeList("visit", TEXT, tuple(items))


def _key_columns(ctx: Context) -> list[Column]:
    subject_label = _("Pseudonym") if ctx.deid and ctx.options.pseudonymise else _("Study ID")
    return [
        (Variable("study_id", subject_label, TEXT, "key", source="participant"), ctx.subject_expr),
        (Variable("site", _("Site"), TEXT, "key", source="trials.Site.code"), "s.code"),
    ]


def _visit_columns(ctx: Context) -> list[Column]:
    return [
        (
            Variable(
                "visit", _("Visit"), TEXT, "key", codelist=visit_codelist(), source="visit.code"
            ),
            "v.code",
        ),
        (
            Variable(
                "visit_seq",
                _("Unscheduled visit number (0 for scheduled visits)"),
                INTEGER,
                "key",
                source="visit.sequence",
            ),
            "v.sequence",
        ),
        *_per_visit_columns(ctx),
    ]


def _per_visit_columns(ctx: Context) -> list[Column]:
    return [
        (
            Variable(
                "target_date",
                ctx.date_label(_("Target date")),
                ctx.date_kind,
                "visit",
                source="visit.target_date",
            ),
            ctx.date("v.target_date"),
        ),
        (
            Variable(
                "actual_date",
                ctx.date_label(_("Visit date")),
                ctx.date_kind,
                "visit",
                source="visit.actual_date",
            ),
            ctx.date("v.actual_date"),
        ),
        (
            Variable(
                "days_from_tx",
                _("Days from transplantation"),
                INTEGER,
                "visit",
                derivation=_("visit date - transplantation date"),
            ),
            "(v.actual_date - tx.performed_on)",
        ),
        (
            Variable(
                "days_off_target",
                _("Days off target"),
                INTEGER,
                "visit",
                derivation=_("visit date - target date"),
            ),
            "v.days_from_target",
        ),
        (
            Variable(
                "in_window",
                _("Visit within its window"),
                BOOLEAN,
                "visit",
                codelist=YES_NO,
                derivation=_("window opens <= visit date <= window closes"),
            ),
            "CASE WHEN v.actual_date IS NULL OR v.window_start IS NULL THEN NULL"
            " WHEN v.actual_date BETWEEN v.window_start AND v.window_end THEN 1 ELSE 0 END",
        ),
    ]


def _status_columns(model: type[FormRecord]) -> list[Column]:
    status = CodeList("form_status", TEXT, tuple((c, str(lbl)) for c, lbl in FormStatus.choices))
    return [
        (
            Variable(
                "form_status", _("Form status"), TEXT, "visit", codelist=status, source="status"
            ),
            "t.status",
        ),
        (
            Variable("form_version", _("Form version"), INTEGER, "visit", source="version"),
            "t.version",
        ),
    ]


MISSING_CODELIST = CodeList(
    "missing_reason", TEXT, tuple((c, str(lbl)) for c, lbl in MissingReason.choices)
)


def _value_expr(ctx: Context, f: models.Field, alias: str) -> str | None:
    """The SQL of one field's value, or None when the export leaves it out."""
    column = f"{alias}.{qn(_column(f))}"
    kind = field_kind(f)
    if kind == BOOLEAN:
        return f"{column}::int"
    if kind == DATETIME:  # identified only; text, so every format shows the same instant
        return None if ctx.deid else f"to_char({column} AT TIME ZONE 'UTC', {ISO_UTC})"
    if kind == DATE:
        return ctx.date(column)
    if isinstance(f, models.JSONField):
        return f"{column}::text"
    return column


ISO_UTC = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''


def _field_variable(ctx: Context, model, f: models.Field, role: str, name: str = "") -> Variable:
    variable = variable_for_field(model, f, role=role, name=name or None)
    if variable.kind == DATETIME:
        variable.kind = TEXT
        variable.label = _("%(label)s (UTC, ISO 8601)") % {"label": variable.label}
    if variable.kind == DATE:
        variable.kind = ctx.date_kind
        variable.label = ctx.date_label(variable.label)
    return variable


def _value_fields(model: type[models.Model], skip: set[str]) -> list[models.Field]:
    """Concrete, non-relational fields (foreign keys as their id), definition order."""
    result = []
    for f in model._meta.concrete_fields:
        if f.name in skip or f.primary_key:
            continue
        if f.is_relation and f.related_model is get_user_model():
            continue  # who changed what is the audit trail's business
        result.append(f)
    return result


def answer_and_derived_columns(ctx: Context, model: type[FormRecord], alias: str = "t"):
    """(answers + _miss, derived) columns of a form model, read off its _meta."""
    answers = set(model.answer_fields())
    form_code = model.form_code
    answer_cols: list[Column] = []
    derived_cols: list[Column] = []
    has_reasons = "missing_reasons" in {f.name for f in model._meta.concrete_fields}
    for f in _value_fields(model, set(BASE_FIELDS) - {"id"}):
        if f.name in BASE_FIELDS:
            continue
        if f.name in answers or not answers:
            expr = _value_expr(ctx, f, alias)
            kept = not (ctx.deid and is_free_text(model, f)) and expr is not None
            if kept and expr is not None:
                variable = _field_variable(ctx, model, f, "answer")
                variable.alias = proact_alias(form_code, f.name)
                answer_cols.append((variable, expr))
            # A reason goes with its answer: left out when a de-identified export drops it.
            if has_reasons and kept:
                miss = Variable(
                    f"{f.name}{MISSING_SUFFIX}",
                    _("%(label)s: reason missing") % {"label": f.verbose_name},
                    TEXT,
                    "missing",
                    codelist=MISSING_CODELIST,
                    source=f"{model._meta.label}.missing_reasons[{f.name}]",
                )
                alias_name = proact_alias(form_code, f.name)
                miss.alias = f"{alias_name}{MISSING_SUFFIX}" if alias_name else ""
                answer_cols.append(
                    (miss, f"{alias}.{qn('missing_reasons')} ->> {_literal(f.name)}")
                )
        else:
            expanded = expand(model, f)
            if expanded is not None:
                json = f"{alias}.{qn(_column(f))}"
                derived_cols += [(variable, sql(json)) for variable, sql in expanded]
                continue
            expr = _value_expr(ctx, f, alias)
            if expr is None or (ctx.deid and isinstance(f, models.TextField)):
                continue
            variable = _field_variable(ctx, model, f, "derived")
            variable.alias = proact_alias(form_code, f.name)
            variable.derivation = _("stored by the form's scoring when the record is saved")
            derived_cols.append((variable, expr))
    return answer_cols, derived_cols


def _hidden(ctx: Context, vpos: str, vseq: str, vcode: str, rep: str) -> str:
    return (
        f"({ctx.order_expr}) AS _ord, p.id AS _pid, {vpos} AS _vpos, {vseq} AS _vseq,"
        f" {vcode}::text AS _vcode, {rep} AS _rep"
    )


def _select(hidden: str, columns: list[Column]) -> str:
    visible = ", ".join(f"{expr} AS {qn(f'c{i}')}" for i, (_v, expr) in enumerate(columns))
    return f"SELECT {hidden}, {visible}"


def _finish(table: Table, options: ExportOptions) -> Table:
    assign_short_names(table.variables, use_aliases=options.proact)
    return table


# --- form tables ----------------------------------------------------------------------


def form_table(ctx: Context, spec: registry.FormSpec) -> Table:
    return record_table(ctx, spec.code, spec.title, spec.model)


def record_table(ctx: Context, code: str, title: str, model: type[FormRecord]) -> Table:
    """The long table of a model of one record per visit (a registered form or not)."""
    answers, derived = answer_and_derived_columns(ctx, model)
    columns = (
        _key_columns(ctx)
        + _visit_columns(ctx)
        + _status_columns(model)
        + answers
        + (derived if ctx.options.derived else [])
    )
    from_sql, params = _visit_from(ctx, qn(model._meta.db_table))
    sql = _select(_hidden(ctx, "v.position", "v.sequence", "v.code", "0"), columns) + from_sql
    return _finish(
        Table(
            name=code,
            label=title,
            variables=[v for v, _e in columns],
            inner_sql=sql,
            params=params,
            count_sql="SELECT count(*)" + from_sql,
            count_params=params,
            form_code=code,
            group=code,
        ),
        ctx.options,
    )


def wide_visits(spec: registry.FormSpec, options: ExportOptions) -> list[str]:
    """Scheduled visits where the protocol expects the form, in protocol order."""
    codes: list[str] = []
    for trial in Trial.objects.order_by("nct_id"):
        for visit in trial.protocol.visits:
            if (
                spec.code in visit.forms
                and visit.code in options.visits
                and visit.code not in codes
            ):
                codes.append(visit.code)
    return codes


def wide_form_table(ctx: Context, spec: registry.FormSpec) -> Table:
    model = spec.model
    answers, derived = answer_and_derived_columns(ctx, model)
    per_visit = (
        _per_visit_columns(ctx)
        + _status_columns(model)
        + answers
        + (derived if ctx.options.derived else [])
    )
    columns = _key_columns(ctx)
    for code in wide_visits(spec, ctx.options):
        for variable, expr in per_visit:
            wide = Variable(**{**variable.__dict__})
            missing = variable.role == "missing"
            wide.name = wide_name(variable.name, code, missing=missing)
            wide.alias = wide_name(variable.alias, code, missing=missing) if variable.alias else ""
            wide.label = f"{variable.label} ({code})"
            wide.visit = code
            columns.append(
                (wide, f"(array_agg({expr}) FILTER (WHERE v.code = {_literal(code)}))[1]")
            )
    from_sql, params = _visit_from(ctx, qn(model._meta.db_table))
    from_sql += " AND v.sequence = 0"
    group = " GROUP BY p.id, s.code" + (", d.pseudonym" if ctx.deid else "")
    sql = _select(_hidden(ctx, "0", "0", f"{_literal(SUBJECT_EVENT)}", "0"), columns) + from_sql
    return _finish(
        Table(
            name=spec.code,
            label=spec.title,
            variables=[v for v, _e in columns],
            inner_sql=sql + group,
            params=params,
            count_sql="SELECT count(DISTINCT p.id)" + from_sql,
            count_params=params,
            form_code=spec.code,
            group=spec.code,
            notes=[_("Wide layout: one row per participant; scheduled visits only.")],
        ),
        ctx.options,
    )


def child_relations(model: type[FormRecord]) -> list:
    """Reverse foreign keys to per-row child models of a form (e.g. EMG muscles)."""
    import pghistory.models

    result = []
    for relation in model._meta.related_objects:
        related = relation.related_model
        if not relation.one_to_many or issubclass(related, pghistory.models.Event):
            continue
        if issubclass(related, FormRecord) or related._meta.app_label != model._meta.app_label:
            continue
        result.append(relation)
    return result


def child_table(ctx: Context, spec: registry.FormSpec, relation) -> Table:
    child = relation.related_model
    fk = relation.field
    skip = {fk.name}
    reasons = "missing_reasons" in {f.name for f in child._meta.concrete_fields}
    if reasons:
        skip.add("missing_reasons")
    columns = _key_columns(ctx) + _visit_columns(ctx)
    columns.append(
        (
            Variable("row_no", _("Row number"), INTEGER, "key", source="row order"),
            "(ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY c.id))",
        )
    )
    for f in _value_fields(child, skip):
        expr = _value_expr(ctx, f, "c")
        kept = expr is not None and not (ctx.deid and is_free_text(child, f))
        if kept and expr is not None:
            columns.append((_field_variable(ctx, child, f, "answer"), expr))
        if reasons and kept:
            columns.append(
                (
                    Variable(
                        f"{f.name}{MISSING_SUFFIX}",
                        _("%(label)s: reason missing") % {"label": f.verbose_name},
                        TEXT,
                        "missing",
                        codelist=MISSING_CODELIST,
                    ),
                    f"c.{qn('missing_reasons')} ->> {_literal(f.name)}",
                )
            )
    from_sql, params = _visit_from(ctx, qn(spec.model._meta.db_table))
    from_sql = from_sql.replace(
        " WHERE ",
        f" JOIN {qn(child._meta.db_table)} c ON c.{qn(fk.column)} = t.id WHERE ",
        1,
    )
    rep = "(ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY c.id))"
    sql = _select(_hidden(ctx, "v.position", "v.sequence", "v.code", rep), columns) + from_sql
    name = f"{spec.code}__{relation.get_accessor_name()}"
    return _finish(
        Table(
            name=name,
            label=f"{spec.title}: {child._meta.verbose_name_plural}",
            variables=[v for v, _e in columns],
            inner_sql=sql,
            params=params,
            count_sql="SELECT count(*)" + from_sql,
            count_params=params,
            form_code=spec.code,
            group=name,
            repeating=True,
            parent=spec.code,
            notes=[_("One row per child record; always long layout.")],
        ),
        ctx.options,
    )


# --- participants ---------------------------------------------------------------------

_PARTICIPANT_SKIP = {"id", "site", "trial", "study_id", "screening_number", "created_at"}


def participant_table(ctx: Context) -> Table:
    t = _tables()
    columns = _key_columns(ctx)
    if not ctx.deid:
        number = Participant._meta.get_field("screening_number")
        columns.append(
            (_field_variable(ctx, Participant, number, "participant"), "p.screening_number")
        )
    for f in _value_fields(Participant, _PARTICIPANT_SKIP):
        expr = _value_expr(ctx, f, "p")
        if expr is not None:
            columns.append((_field_variable(ctx, Participant, f, "participant"), expr))
    joins = ""
    names = {v.name for v, _e in columns}
    one_to_ones = [r for r in Participant._meta.related_objects if r.one_to_one and r.related_model]
    for index, relation in enumerate(one_to_ones):
        model = relation.related_model
        is_identity = model is ParticipantIdentity
        if is_identity and not ctx.options.identifiers:
            continue
        alias = f"r{index}"
        link = relation.field
        assert isinstance(link, models.OneToOneField)  # a one-to-one onto the participant
        joins += (
            f" LEFT JOIN {qn(model._meta.db_table)} {alias} ON {alias}.{qn(link.column)} = p.id"
        )
        auto = {
            f.name
            for f in model._meta.concrete_fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        }
        for f in _value_fields(model, {relation.field.name, *auto}):
            expr = _value_expr(ctx, f, alias)
            if expr is None or (ctx.deid and is_free_text(model, f)):
                continue
            name = f.name if f.name not in names else f"{model._meta.model_name}_{f.name}"
            names.add(name)
            variable = _field_variable(
                ctx, model, f, "identity" if is_identity else "participant", name
            )
            is_birth_date = f.name == "date_of_birth"
            # A date of birth identifies a person even shifted, so it goes only where the
            # identity goes (exports with identifiers ticked); the age stays in every export.
            if not is_birth_date or ctx.options.identifiers:
                columns.append((variable, expr))
            if is_birth_date:
                columns.append(
                    (
                        Variable(
                            "age_at_screening",
                            _("Age at screening (years)"),
                            INTEGER,
                            "participant",
                            derivation=_("whole years from date of birth to screening date"),
                        ),
                        f"date_part('year', age(p.screened_on, {alias}.{qn(_column(f))}))::int",
                    )
                )
    for variable, _e in columns:
        if variable.name == "status" and variable.codelist is None:
            variable.codelist = CodeList(
                "participant_status",
                TEXT,
                tuple((c, str(lbl)) for c, lbl in ParticipantStatus.choices),
            )
    join, join_params = ctx.subject_join()
    where, where_params = ctx.participant_where()
    from_sql = (
        f" FROM {t['participant']} p JOIN {t['site']} s ON s.id = p.site_id"
        f" LEFT JOIN {t['tx']} tx ON tx.participant_id = p.id{joins}{join} WHERE {where}"
    )
    params = [*join_params, *where_params]
    sql = _select(_hidden(ctx, "-1", "0", _literal(SUBJECT_EVENT), "0"), columns) + from_sql
    return _finish(
        Table(
            name=PARTICIPANTS_TABLE,
            label=_("Participants"),
            variables=[v for v, _e in columns],
            inner_sql=sql,
            params=params,
            count_sql="SELECT count(*)" + from_sql,
            count_params=params,
            form_code=PARTICIPANTS_TABLE,
            group=PARTICIPANTS_TABLE,
        ),
        ctx.options,
    )


# --- everything -----------------------------------------------------------------------


def selected_specs(options: ExportOptions) -> list[registry.FormSpec]:
    return [spec for code, spec in registry.entry_forms().items() if code in options.forms]


def build_tables(options: ExportOptions, subjects: Subjects | None = None) -> list[Table]:
    """The export's tables in a fixed order: participants, forms (registry order), safety,
    review (queries, SDV, signatures, locks: when asked for), audit."""
    ctx = Context(options, subjects if subjects is not None else load_subjects(options))
    tables: list[Table] = []
    if PARTICIPANTS_TABLE in options.forms:
        tables.append(participant_table(ctx))
    specs = selected_specs(options)
    long_only = options.layout == "long" or options.fmt == "odm"
    for spec in specs:
        tables.append(form_table(ctx, spec) if long_only else wide_form_table(ctx, spec))
        for relation in child_relations(spec.model):
            tables.append(child_table(ctx, spec, relation))
    from exports.safety_tables import safety_tables  # builds on this module

    tables += safety_tables(ctx)
    if options.review:
        from exports.review_tables import review_tables  # builds on this module

        tables += review_tables(ctx)
    if options.audit:
        from exports.audit import audit_table  # the audit module builds on this one

        audit = audit_table(ctx)
        if audit is not None:
            tables.append(audit)
    return tables


def stream_rows(table: Table, *, chunk_size: int = CHUNK_SIZE) -> Iterator[tuple]:
    """Rows of `table` (hidden keys included) through a server-side cursor."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(table.sql, table.params)
        while True:
            rows = cursor.fetchmany(chunk_size)
            if not rows:
                return
            yield from rows


def count_rows(table: Table) -> int:
    with connection.cursor() as cursor:
        cursor.execute(table.count_sql, table.count_params)
        return int(cursor.fetchone()[0])


def data_as_of(options: ExportOptions) -> str:
    """The latest change to the selected visits and records (ISO, UTC): the ODM creation
    time and the manifest's 'data as of', so unchanged data gives unchanged files."""
    t = _tables()
    sources = [("v.updated_at", "")] + [
        ("r.updated_at", f" JOIN {qn(spec.model._meta.db_table)} r ON r.visit_id = v.id")
        for spec in selected_specs(options)
    ]
    from exports.safety_tables import safety_sources

    sources += safety_sources(options)
    parts = [
        f"SELECT max({column}) AS m FROM {t['visit']} v{join}"
        f" JOIN {t['participant']} p ON p.id = v.participant_id"
        " WHERE p.site_id = ANY(%s) AND p.status = ANY(%s)"
        for column, join in sources
    ]
    params: list[Any] = []
    for _part in parts:
        params += [list(options.site_ids), list(options.statuses)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(m) FROM (" + " UNION ALL ".join(parts) + ") x", params)
        value = cursor.fetchone()[0]
    if value is None:
        return "2000-01-01T00:00:00Z"
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
