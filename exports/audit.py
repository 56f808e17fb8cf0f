# ruff: noqa: S608 - identifiers come from _meta (quoted) and every value is a parameter
"""The audit log of an export: one row per changed field of every tracked model.

The trail is django-pghistory's: every `@pghistory.track()` model has an event model
holding a snapshot of the row at each insert, update (and delete, where tracked), with
the context (actor, reason) of the write. The tracked models are found in the app
registry, not listed here, so a new app's models appear in the log without code changes.
Each is tied to the export's scope by the shortest chain of foreign keys from it to a
participant (else to a site, else to a trial), read off `_meta`; a model tied to none
of them is left out (its events are nobody's data).

One SQL statement yields the whole log: per event model, the snapshots with the
previous snapshot of the same record beside them (`lag`), turned into one row per field
whose value changed (`CROSS JOIN LATERAL (VALUES ...)`); the models are joined with
UNION ALL. Rows stream through the same server-side cursor (or COPY) as every other
table, so the trail is never held in memory and the query count does not grow with it.

Values follow the data files' rules: a value the export leaves out (the identity and
date of birth unless identifiers are asked for; free text, times of day, user names and
internal ids when de-identified) is withheld, flagged in `value_withheld`; dates are
shifted or given as days from transplantation like every other date of the participant.
De-identified logs hold participant data only: staff, roles and trial settings carry
real dates and names that no participant's shift can hide.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from crfs import registry
from crfs.base import FormRecord
from exports.tables import (
    AUDIT_TABLE,
    Context,
    _finish,
    _literal,
    _tables,
    qn,
    subject_key,
    visit_codelist,
)
from exports.variables import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    TEXT,
    YES_NO,
    CodeList,
    Table,
    Variable,
    field_kind,
    is_free_text,
)
from participants.models import Participant, ParticipantIdentity
from trials.models import Site, Trial
from visits.models import Visit

ISO_OFFSET = '\'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\''
MAX_HOPS = 4
# Kinds of event: pghistory's snapshot labels; any other label is a snapshot compared
# with the one before it, like an update.
EVENT_KINDS = CodeList(
    "audit_event",
    TEXT,
    (("insert", "Created"), ("update", "Changed"), ("delete", "Deleted")),
)
# Bookkeeping of every form record: the who and when columns already say it.
FORM_BOOKKEEPING = frozenset({"version", "updated_by"})


@dataclass
class Tracked:
    events: type[models.Model]
    model: type[models.Model]
    participant: list[models.ForeignKey] | None  # foreign keys from the model to Participant
    visit: list[models.ForeignKey] | None
    site: list[models.ForeignKey] | None
    trial: list[models.ForeignKey] | None
    form: str  # registry form code of the model or of the form it belongs to

    @property
    def label(self) -> str:
        return self.model._meta.label


def _path(model: type[models.Model], target: type[models.Model]) -> list | None:
    """The shortest chain of forward foreign keys from `model` to `target` ([] for itself)."""
    if model is target:
        return []
    user = get_user_model()
    queue: deque[tuple[type[models.Model], list]] = deque([(model, [])])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        if len(path) >= MAX_HOPS:
            continue
        for f in current._meta.concrete_fields:
            related = f.related_model
            if not f.many_to_one and not f.one_to_one:
                continue
            if related is None or related is user or related in seen:
                continue
            assert isinstance(related, type)
            if related is target:
                return [*path, f]
            seen.add(related)
            queue.append((related, [*path, f]))
    return None


def tracked_models() -> list[Tracked]:
    """Every pghistory event model with a record id, sorted by the tracked model's label."""
    import pghistory.models

    specs = {spec.model: code for code, spec in registry.entry_forms().items()}
    result = []
    for events in apps.get_models():
        if not issubclass(events, pghistory.models.Event) or events._meta.proxy:
            continue
        model = getattr(events, "pgh_tracked_model", None)
        names = {f.name for f in events._meta.concrete_fields}
        if model is None or "pgh_obj" not in names:
            continue
        participant = _path(model, Participant)
        visit = _path(model, Visit)
        chain = [model] + [f.related_model for f in (visit or participant or [])]
        form = next((specs[m] for m in chain if m in specs), "")
        result.append(
            Tracked(
                events=events,
                model=model,
                participant=participant,
                visit=visit,
                site=_path(model, Site),
                trial=_path(model, Trial),
                form=form,
            )
        )
    return sorted(result, key=lambda t: (t.label, t.events._meta.label))


def _chain(events: type[models.Model], path: list, prefix: str) -> tuple[list[str], str] | None:
    """JOINs along `path` from the event row and the SQL of the id it ends at; None when
    the event model does not copy the first foreign key."""
    if not path:
        return [], "e.pgh_obj_id"
    first = path[0]
    if first.name not in {f.name for f in events._meta.concrete_fields}:
        return None
    joins: list[str] = []
    expr = f"e.{qn(first.column)}"
    previous = first
    for index, f in enumerate(path[1:]):
        alias = f"{prefix}{index}"
        related = previous.related_model
        target = previous.target_field.column
        joins.append(f" JOIN {qn(related._meta.db_table)} {alias} ON {alias}.{qn(target)} = {expr}")
        expr = f"{alias}.{qn(f.column)}"
        previous = f
    return joins, expr


@dataclass
class _Field:
    name: str
    label: str
    column: str
    kind: str
    withheld: bool
    to_user: bool


def _fields(ctx: Context, tracked: Tracked) -> list[_Field]:
    model = tracked.model
    identity = model is ParticipantIdentity
    skip = {model._meta.pk.name} if model._meta.pk is not None else set()
    if issubclass(model, FormRecord):
        skip |= FORM_BOOKKEEPING
    user = get_user_model()
    result = []
    for ef in tracked.events._meta.concrete_fields:
        if ef.name.startswith("pgh_") or ef.name in skip:
            continue
        try:
            found = model._meta.get_field(ef.name)
        except FieldDoesNotExist:
            found = ef
        # A field of the event model only (or a reverse relation's name): read it as is.
        f = found if isinstance(found, models.Field) else ef
        assert ef.column is not None  # a concrete field has a column
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        kind = field_kind(f)
        to_user = f.is_relation and f.related_model is user
        withheld = ((identity or f.name == "date_of_birth") and not ctx.options.identifiers) or (
            ctx.deid and (f.is_relation or kind == DATETIME or is_free_text(model, f))
        )
        result.append(
            _Field(
                name=f.name,
                label=str(getattr(f, "verbose_name", f.name)),
                column=ef.column,
                kind=kind,
                withheld=withheld,
                to_user=to_user,
            )
        )
    return result


def _shown(ctx: Context, f: _Field, raw: str) -> str:
    """The text of a field's value as the data files give it."""
    if f.withheld:
        return "NULL::text"
    if f.to_user:
        users = qn(get_user_model()._meta.db_table)
        return f"(SELECT uu.username FROM {users} uu WHERE uu.id = {raw})::text"
    if f.kind == BOOLEAN:
        return f"({raw})::int::text"
    if f.kind == DATETIME:
        return f"to_char({raw} AT TIME ZONE 'UTC', {ISO_OFFSET})"
    if f.kind == DATE:
        if ctx.deid and ctx.options.date_mode == "days":
            return f"({raw} - x._tx)::text"
        shifted = f"({raw} + x._shift)" if ctx.deid else raw
        return f"to_char({shifted}, 'YYYY-MM-DD')"
    return f"({raw})::text"


def _variables(ctx: Context, models_list: CodeList, forms: CodeList) -> list[Variable]:
    subject_label = _("Pseudonym") if ctx.deid and ctx.options.pseudonymise else _("Study ID")
    variables = [
        Variable("study_id", subject_label, TEXT, "key", source="participant"),
        Variable("site", _("Site"), TEXT, "key", source="trials.Site.code"),
        Variable("visit", _("Visit"), TEXT, "key", codelist=visit_codelist()),
        Variable("visit_seq", _("Unscheduled visit number"), INTEGER, "key"),
        Variable("model", _("Record type"), TEXT, "audit", codelist=models_list),
        Variable("form", _("Form"), TEXT, "audit", codelist=forms),
        Variable(
            "record_id",
            _("Record (pseudonymous key)") if ctx.deid else _("Record id"),
            TEXT,
            "audit",
            source="pgh_obj_id",
        ),
        Variable(
            "change_no",
            _("Change number of the record (1: its creation)"),
            INTEGER,
            "audit",
            derivation=_("order of the record's audit events"),
        ),
        Variable("event", _("Kind of change"), TEXT, "audit", codelist=EVENT_KINDS),
    ]
    if ctx.deid:
        variables.append(
            Variable("changed_on", ctx.date_label(_("Date of the change")), ctx.date_kind, "audit")
        )
    else:
        variables.append(
            Variable("changed_at", _("Time of the change (ISO 8601, UTC)"), TEXT, "audit")
        )
    variables += [
        Variable("field", _("Field"), TEXT, "audit"),
        Variable("field_label", _("Field label"), TEXT, "audit"),
        Variable("old_value", _("Value before the change"), TEXT, "audit"),
        Variable("new_value", _("Value after the change"), TEXT, "audit"),
        Variable(
            "value_withheld",
            _("Values left out of this export (identifier, free text, time or internal id)"),
            BOOLEAN,
            "audit",
            codelist=YES_NO,
        ),
    ]
    if not ctx.deid:
        # The database's event number is sequential across participants, so it would tell
        # a pseudonym's registration order: identified exports only.
        variables += [
            Variable("event_id", _("Audit event number (per record type)"), INTEGER, "audit"),
            Variable("changed_by", _("Changed by (user name)"), TEXT, "audit"),
            Variable("reason", _("Reason for change"), TEXT, "audit"),
        ]
    return variables


def _scoped(ctx: Context, tracked: Tracked) -> tuple[str, str, list[Any]] | None:
    """(JOINs, WHERE, params) that tie the events of `tracked` to the export's scope."""
    t = _tables()
    options = ctx.options
    if tracked.form and tracked.form not in options.forms:
        return None
    if tracked.participant is not None:
        chain = _chain(tracked.events, tracked.participant, "a")
        if chain is None:
            return None
        joins, expr = chain
        visit_joins = ""
        if tracked.visit is not None and (vchain := _chain(tracked.events, tracked.visit, "b")):
            vjoins, vexpr = vchain
            if vjoins:
                # A visit reached through other records: inner joins, then the visit.
                visit_joins = "".join(j.replace(" JOIN ", " LEFT JOIN ", 1) for j in vjoins)
            visit_joins += f" LEFT JOIN {t['visit']} v ON v.id = {vexpr}"
        else:
            visit_joins = f" LEFT JOIN {t['visit']} v ON false"
        sql = (
            "".join(joins)
            + f" JOIN {t['participant']} p ON p.id = {expr}"
            + f" JOIN {t['site']} s ON s.id = p.site_id"
            + f" LEFT JOIN {t['tx']} tx ON tx.participant_id = p.id"
            + visit_joins
            + (" JOIN _subjects d ON d.pid = p.id" if ctx.deid else "")
        )
        where, params = ctx.participant_where()
        return (
            sql,
            f"{where} AND (v.id IS NULL OR v.code = ANY(%s))",
            [*params, list(options.visits)],
        )
    if ctx.deid:
        return None
    nobody = (
        f" LEFT JOIN {t['participant']} p ON false LEFT JOIN {t['tx']} tx ON false"
        f" LEFT JOIN {t['visit']} v ON false"
    )
    if tracked.site is not None:
        chain = _chain(tracked.events, tracked.site, "a")
        if chain is None:
            return None
        joins, expr = chain
        sql = "".join(joins) + f" JOIN {t['site']} s ON s.id = {expr}" + nobody
        return sql, "s.id = ANY(%s)", [list(options.site_ids)]
    if tracked.trial is not None:
        chain = _chain(tracked.events, tracked.trial, "a")
        if chain is None:
            return None
        joins, expr = chain
        sql = "".join(joins) + f" LEFT JOIN {t['site']} s ON false" + nobody
        where = (
            f"{expr} IN (SELECT pt.trial_id FROM {t['participant']} pt WHERE pt.site_id = ANY(%s))"
        )
        return sql, where, [list(options.site_ids)]
    return None


EVENT_COLUMNS = 10  # study_id … changed_at; the field's columns follow, then event id, who, why


def _model_select(
    ctx: Context,
    tracked: Tracked,
    fields: list[_Field],
    joins: str,
    where: str,
    scope_params: list[Any],
    key: str,
) -> tuple[str, list[Any]]:
    """One model's rows: its snapshots beside the previous one of the same record (lag),
    unfolded into one row per field that changed."""
    users = qn(get_user_model()._meta.db_table)
    record = "left(md5(%s || e.pgh_obj_id::text), 16)" if ctx.deid else "e.pgh_obj_id::text"
    record_params = [f"{key}:{tracked.label}:"] if ctx.deid else []
    when = (
        ctx.date("(e.pgh_created_at AT TIME ZONE s.time_zone)::date")
        if ctx.deid
        else f"to_char(e.pgh_created_at AT TIME ZONE 'UTC', {ISO_OFFSET})"
    )
    event_columns = [
        ctx.subject_expr if tracked.participant is not None else "NULL::text",
        "s.code",
        "v.code",
        "v.sequence",
        "%s::text",
        ("%s::text" if tracked.form else "NULL::text"),
        record,
        "row_number() OVER w",
        "CASE WHEN e.pgh_label IN ('insert', 'delete') THEN e.pgh_label ELSE 'update' END",
        when,
    ]
    event_params: list[Any] = [tracked.label] + ([tracked.form] if tracked.form else [])
    event_params += record_params
    if not ctx.deid:
        event_columns += [
            "e.pgh_id",
            "u.username",
            "e.pgh_context ->> 'reason'",
        ]
    inner_cols = [f"{expr} AS ev{i}" for i, expr in enumerate(event_columns)]
    raw_cols = []
    for i, f in enumerate(fields):
        column = f"e.{qn(f.column)}"
        raw_cols.append(f"{column} AS n{i}, lag({column}) OVER w AS o{i}")
    order = ctx.order_expr if tracked.participant is not None else "''::text"
    inner = (
        f"SELECT ({order}) AS _ord, p.id AS _pid, COALESCE(v.position, -1) AS _vpos,"
        f" COALESCE(v.sequence, 0) AS _vseq, COALESCE(v.code, 'SUBJECT')::text AS _vcode,"
        f" 0 AS _rep, e.pgh_created_at AS _at, %s::text AS _model, e.pgh_id AS _eid,"
        f" e.pgh_label AS _label,"
        + (" d.shift AS _shift, tx.performed_on AS _tx," if ctx.deid else "")
        + " "
        + ", ".join(inner_cols + raw_cols)
        + f" FROM {qn(tracked.events._meta.db_table)} e{joins}"
        + f" LEFT JOIN {users} u"
        " ON u.id::text = COALESCE(e.pgh_context ->> 'actor_id', e.pgh_context ->> 'user')"
        + f" WHERE {where}"
        + " WINDOW w AS (PARTITION BY e.pgh_obj_id ORDER BY e.pgh_id)"
    )
    inner_params = [tracked.label, *event_params, *scope_params]
    values = []
    values_params: list[Any] = []
    for i, f in enumerate(fields):
        new, old = f"x.n{i}", f"x.o{i}"
        blank = "('', '{}', '[]')"
        changed = (
            f"CASE WHEN x._label IN ('insert', 'delete')"
            f" THEN COALESCE({new}::text, '') NOT IN {blank}"
            f" ELSE {old} IS DISTINCT FROM {new} END"
        )
        shown_old = (
            f"CASE WHEN x._label = 'delete' THEN {_shown(ctx, f, new)}"
            f" WHEN x._label = 'insert' THEN NULL ELSE {_shown(ctx, f, old)} END"
        )
        shown_new = f"CASE WHEN x._label = 'delete' THEN NULL ELSE {_shown(ctx, f, new)} END"
        values.append(
            f"({i}, {_literal(f.name)}::text, %s::text, {int(f.withheld)}, {changed},"
            f" {shown_old}, {shown_new})"
        )
        values_params.append(f.label)
    visible = [f"x.ev{i}" for i in range(EVENT_COLUMNS)] + [
        "f.name",
        "f.label",
        "f.old",
        "f.new",
        "f.withheld",
    ]
    visible += [f"x.ev{i}" for i in range(EVENT_COLUMNS, len(event_columns))]
    select = (
        "SELECT x._ord, x._pid, x._vpos, x._vseq, x._vcode, x._rep, x._at, x._model,"
        " x._eid, f.pos AS _fpos, "
        + ", ".join(f'{expr} AS "c{i}"' for i, expr in enumerate(visible))
        + f" FROM ({inner}) x CROSS JOIN LATERAL (VALUES {', '.join(values)})"
        " AS f(pos, name, label, withheld, changed, old, new) WHERE f.changed"
    )
    return select, inner_params + values_params


def audit_table(ctx: Context) -> Table | None:
    specs = registry.entry_forms()
    forms = CodeList("form", TEXT, tuple((code, spec.title) for code, spec in specs.items()))
    parts: list[tuple[Tracked, str, str, list[Any]]] = []
    left_out: list[str] = []
    for tracked in tracked_models():
        scoped = _scoped(ctx, tracked)
        if scoped is None:
            if tracked.participant is None and tracked.site is None and tracked.trial is None:
                left_out.append(tracked.label)
            continue
        parts.append((tracked, *scoped))
    if not parts:
        return None
    # Value labels must be unique for Stata: a verbose name two models share gets the label.
    names = [str(t.model._meta.verbose_name) for t, _j, _w, _p in parts]
    items = {
        t.label: name if names.count(name) == 1 else f"{name} ({t.label})"
        for (t, _j, _w, _p), name in zip(parts, names, strict=True)
    }
    model_list = CodeList("record_type", TEXT, tuple(items.items()))
    variables = _variables(ctx, model_list, forms)
    key = subject_key(ctx.options).hex() if ctx.deid else ""
    selects: list[str] = []
    params: list[Any] = []
    with_sql = ""
    if ctx.deid:
        # The subjects once for every model's SELECT (a large study's lists are long).
        with_sql = (
            "WITH _subjects AS (SELECT * FROM unnest(%s::bigint[], %s::text[], %s::int[])"
            " AS d(pid, pseudonym, shift)) "
        )
        params += [ctx.subjects.ids, ctx.subjects.pseudonyms, ctx.subjects.shifts]
    for tracked, joins, where, scope_params in parts:
        fields = _fields(ctx, tracked)
        if fields:
            select, select_params = _model_select(
                ctx, tracked, fields, joins, where, scope_params, key
            )
            selects.append(f"({select})")
            params += select_params
    if not selects:
        return None
    sql = with_sql + " UNION ALL ".join(selects)
    notes = [
        _(
            "One row per changed field of every audited record: forms, visits (their dates), "
            "participants, consents, transplantation, end of study and the other tracked "
            "records; a created record lists its filled fields, a deleted one its last values."
        )
    ]
    if ctx.deid:
        notes.append(
            _(
                "De-identified: participant records only; no user names, reasons or times of "
                "day; identifier and free-text values withheld (value_withheld = 1)."
            )
        )
    if left_out:
        notes.append(
            _("Not tied to a participant, site or trial, so not exported: %(models)s.")
            % {"models": ", ".join(left_out)}
        )
    return _finish(
        Table(
            name=AUDIT_TABLE,
            label=_("Audit log"),
            variables=variables,
            inner_sql=sql,
            order_by="_ord, _pid, _vpos, _vseq, _at, _model, _eid, _fpos",
            params=params,
            count_sql=f"SELECT count(*) FROM ({sql}) AS x",
            count_params=params,
            notes=notes,
        ),
        ctx.options,
    )
