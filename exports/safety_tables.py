"""The safety tables of an export: adverse events and concomitant medication (long, one row
per event or medication, reported at a visit) and each visit's safety review.

They are built from `exports.tables`' pieces (key and visit columns, the subject join, date
shifts, missing reasons) but not by its generic form code, because the safety records
differ from a form in three ways: a visit holds many of them (so each row has its own
number, which is also the ODM ItemGroupRepeatKey), their coded term is a list of codes
(`safety.coding`) rather than model choices, and only the fields the models declare as
`free_text_fields` are free text (the generic rule would drop the coded term too).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from crfs.base import FormRecord
from exports.options import ExportOptions
from exports.tables import (
    MISSING_CODELIST,
    Column,
    Context,
    _field_variable,
    _finish,
    _hidden,
    _key_columns,
    _literal,
    _select,
    _status_columns,
    _value_expr,
    _visit_columns,
    _visit_from,
    qn,
    record_table,
)
from exports.variables import (
    BOOLEAN,
    INTEGER,
    MISSING_SUFFIX,
    TEXT,
    YES_NO,
    CodeList,
    Table,
    Variable,
)
from participants.choices import DatePrecision
from safety import coding
from safety.choices import ALS_DRUGS
from safety.models import (
    AdverseEvent,
    AdverseEventAssessment,
    ConcomitantMedication,
    VisitSafetyReview,
)

ADVERSE_EVENTS = "adverse_events"
CONMEDS = "conmeds"
SAFETY_REVIEW = "safety_review"
SAFETY_TABLES = (ADVERSE_EVENTS, CONMEDS, SAFETY_REVIEW)

# A partial date's precision column, by the date column it qualifies.
_PRECISION = {
    "onset_date": "onset_precision",
    "end_date": "end_precision",
    "start_date": "start_precision",
    "stop_date": "stop_precision",
}


def safety_choices() -> list[tuple[str, str]]:
    """The export form's checkboxes of the safety tables."""
    return [
        (
            ADVERSE_EVENTS,
            _("Adverse events (one row per event, with the investigator's assessment)"),
        ),
        (CONMEDS, _("Concomitant medication (one row per medication)")),
        (SAFETY_REVIEW, _("Visit safety review (no adverse events / no medication change)")),
    ]


def term_codelist() -> CodeList:
    return CodeList(
        "adverseevent.term_code", TEXT, tuple((term.code, term.term) for term in coding.TERMS)
    )


def _concrete(model: type[models.Model], name: str) -> models.Field:
    f = model._meta.get_field(name)
    assert isinstance(f, models.Field)  # a field of the model, not a reverse relation
    return f


def _partial_date(ctx: Context, model: type[models.Model], f: models.Field, alias: str) -> str:
    """A partial date, shifted when de-identified and brought back to the first day of its
    period: a shifted month-precision date stays a month (the export's convention for
    partial dates), so the shift hides the true month without faking a day."""
    expr = _value_expr(ctx, f, alias)
    assert expr is not None  # dates are kept in every export
    if not ctx.deid or ctx.options.date_mode == "days":
        return expr
    precision = f"{alias}.{qn(_PRECISION[f.name])}"  # the column is named as its field
    return (
        f"CASE {precision} WHEN {_literal(DatePrecision.MONTH.value)}"
        f" THEN date_trunc('month', {expr})::date"
        f" WHEN {_literal(DatePrecision.YEAR.value)} THEN date_trunc('year', {expr})::date"
        f" ELSE {expr} END"
    )


def _answer_columns(ctx: Context, model: type[FormRecord], alias: str = "t") -> list[Column]:
    """Each answer of a safety record (definition order) and its `_miss` reason; the fields
    the model declares as free text are left out of de-identified exports, reason and all."""
    answers = set(model.answer_fields())
    free_text = set(getattr(model, "free_text_fields", ()))
    columns: list[Column] = []
    for f in model._meta.concrete_fields:
        if f.name not in answers or (ctx.deid and f.name in free_text):
            continue
        value = (
            _partial_date(ctx, model, f, alias)
            if f.name in _PRECISION
            else _value_expr(ctx, f, alias)
        )
        assert value is not None  # answers are never date-times
        expr: str = value
        variable = _field_variable(ctx, model, f, "answer")
        if f.name == "term_code":
            variable.codelist = term_codelist()
        columns.append((variable, expr))
        columns.append(
            (
                Variable(
                    f"{f.name}{MISSING_SUFFIX}",
                    _("%(label)s: reason missing") % {"label": f.verbose_name},
                    TEXT,
                    "missing",
                    codelist=MISSING_CODELIST,
                    source=f"{model._meta.label}.missing_reasons[{f.name}]",
                ),
                f"{alias}.{qn('missing_reasons')} ->> {_literal(f.name)}",
            )
        )
    return columns


def _days_from_tx(name: str, label: str, column: str) -> Column:
    return (
        Variable(
            name,
            label,
            INTEGER,
            "derived",
            derivation=_("%(date)s - transplantation date (first day of a partial date)")
            % {"date": column},
        ),
        f"(t.{qn(column)} - tx.performed_on)",
    )


# --- adverse events ----------------------------------------------------------------------


def _ae_derived(ctx: Context) -> list[Column]:
    columns: list[Column] = [
        (
            Variable(
                "term_soc",
                _("System organ class of the coded term"),
                TEXT,
                "derived",
                derivation=_("the MedDRA system organ class CTCAE v5.0 files the term under"),
            ),
            "terms.soc",
        ),
        (
            Variable(
                "procedure_event",
                _("One of the procedure's expected events"),
                BOOLEAN,
                "derived",
                codelist=YES_NO,
                derivation=_("the coded term is a procedure-specific event of the protocol"),
            ),
            "terms.procedure::int",
        ),
        _days_from_tx("onset_days_from_tx", _("Onset: days from transplantation"), "onset_date"),
    ]
    alerted = _concrete(AdverseEvent, "sae_alerted_at")
    sae_reported = _value_expr(ctx, alerted, "t")
    if sae_reported is not None:  # a time of day: identified exports only
        variable = _field_variable(ctx, AdverseEvent, alerted, "derived")
        variable.name = "sae_reported_at"
        variable.derivation = _("when the first serious save raised the SAE alert")
        columns.append((variable, sae_reported))
    return columns


def _assessment_columns(ctx: Context) -> list[Column]:
    """The investigator's latest signed assessment (alias `a`) and how many there are."""
    model = AdverseEventAssessment
    columns: list[Column] = [
        (
            Variable(
                "inv_assessments",
                _("Investigator assessments signed"),
                INTEGER,
                "assessment",
                source=f"{model._meta.label} (count)",
            ),
            "COALESCE(a.n, 0)",
        )
    ]
    for name in ("serious", "related_procedure", "related_cells", "event_version", "comment"):
        f = _concrete(model, name)
        if ctx.deid and name == "comment":
            continue  # free text
        variable = _field_variable(ctx, model, f, "assessment", f"inv_{name}")
        variable.label = _("Investigator: %(label)s") % {"label": variable.label}
        expr = _value_expr(ctx, f, "a")
        assert expr is not None
        columns.append((variable, expr))
    signed_at = _concrete(model, "signed_at")
    signed = _value_expr(ctx, signed_at, "a")
    if signed is not None:  # a time of day: identified exports only
        variable = _field_variable(ctx, model, signed_at, "assessment", "inv_signed_at")
        variable.label = _("Investigator: %(label)s") % {"label": variable.label}
        columns.append((variable, signed))
    return columns


def _terms_join() -> tuple[str, list[Any]]:
    """The coding list as a relation (codes as parameters), for the SOC and procedure flag."""
    return (
        " LEFT JOIN unnest(%s::text[], %s::text[], %s::boolean[]) AS terms(code, soc, procedure)"
        " ON terms.code = t.term_code",
        [
            [t.code for t in coding.TERMS],
            [t.soc for t in coding.TERMS],
            [t.procedure for t in coding.TERMS],
        ],
    )


def adverse_event_table(ctx: Context) -> Table:
    model = AdverseEvent
    number = Variable("ae_number", _("AE number"), INTEGER, "key", source="AdverseEvent.number")
    columns = (
        _key_columns(ctx)
        + _visit_columns(ctx)
        + [(number, "t.number")]
        + _status_columns(model)
        + _answer_columns(ctx, model)
        + (_ae_derived(ctx) if ctx.options.derived else [])
        + _assessment_columns(ctx)
    )
    from_sql, params = _visit_from(ctx, qn(model._meta.db_table))
    terms, term_params = _terms_join()
    assessments = qn(AdverseEventAssessment._meta.db_table)
    # The latest assessment by signing time, and the count, in one lateral subquery (the
    # table name comes from _meta, quoted: nothing a user typed).
    lateral = (
        " LEFT JOIN LATERAL (SELECT x.*, count(*) OVER () AS n"  # noqa: S608
        f" FROM {assessments} x WHERE x.adverse_event_id = t.id"
        " ORDER BY x.signed_at DESC, x.id DESC LIMIT 1) a ON true"
    )
    head, where = from_sql.split(" WHERE ", 1)
    uses_terms = ctx.options.derived
    joined = head + (terms if uses_terms else "") + lateral + " WHERE " + where
    # The join parameters come before the WHERE clause's: the subject join's, then ours.
    split = 3 if ctx.deid else 0
    all_params = [*params[:split], *(term_params if uses_terms else []), *params[split:]]
    sql = _select(_hidden(ctx, "v.position", "v.sequence", "v.code", "t.number"), columns)
    return _finish(
        Table(
            name=ADVERSE_EVENTS,
            label=str(model._meta.verbose_name_plural).capitalize(),
            variables=[v for v, _e in columns],
            inner_sql=sql + joined,
            params=all_params,
            count_sql="SELECT count(*)" + from_sql,
            count_params=params,
            form_code=ADVERSE_EVENTS,
            group=ADVERSE_EVENTS,
            repeating=True,
            notes=[
                _(
                    "One row per adverse event, at the visit it was reported at; ae_number "
                    "numbers a participant's events. inv_* columns: the investigator's latest "
                    "signed assessment (the coordinator's entry is in the other columns)."
                )
            ],
        ),
        ctx.options,
    )


# --- concomitant medication --------------------------------------------------------------


def conmed_table(ctx: Context) -> Table:
    model = ConcomitantMedication
    row_number = "(ROW_NUMBER() OVER (PARTITION BY t.participant_id ORDER BY t.id))"
    number = Variable(
        "conmed_no",
        _("Medication number (per participant, in order of entry)"),
        INTEGER,
        "key",
        source="row order",
    )
    derived: list[Column] = [
        _days_from_tx("start_days_from_tx", _("Start: days from transplantation"), "start_date"),
        (
            Variable(
                "als_drug",
                _("An ALS drug (riluzole or edaravone)"),
                BOOLEAN,
                "derived",
                codelist=YES_NO,
                derivation=_("medication is riluzole or edaravone"),
            ),
            "(t.medication IN ("
            + ", ".join(_literal(drug.value) for drug in ALS_DRUGS)
            + "))::int",
        ),
    ]
    columns = (
        _key_columns(ctx)
        + _visit_columns(ctx)
        + [(number, row_number)]
        + _status_columns(model)
        + _answer_columns(ctx, model)
        + (derived if ctx.options.derived else [])
    )
    from_sql, params = _visit_from(ctx, qn(model._meta.db_table))
    sql = _select(_hidden(ctx, "v.position", "v.sequence", "v.code", row_number), columns)
    return _finish(
        Table(
            name=CONMEDS,
            label=str(model._meta.verbose_name_plural).capitalize(),
            variables=[v for v, _e in columns],
            inner_sql=sql + from_sql,
            params=params,
            count_sql="SELECT count(*)" + from_sql,
            count_params=params,
            form_code=CONMEDS,
            group=CONMEDS,
            repeating=True,
            notes=[
                _(
                    "One row per medication, at the visit it was recorded at; conmed_no "
                    "numbers a participant's medications among the exported visits."
                )
            ],
        ),
        ctx.options,
    )


# --- the visit's safety review -----------------------------------------------------------


def review_table(ctx: Context) -> Table:
    """One row per visit with a review: a form of one record per visit, so the forms' table."""
    title = str(VisitSafetyReview._meta.verbose_name).capitalize()
    table = record_table(ctx, SAFETY_REVIEW, title, VisitSafetyReview)
    table.notes.append(_("Long layout in every export: one row per reviewed visit."))
    return table


def safety_tables(ctx: Context) -> list[Table]:
    """The selected safety tables, in a fixed order (after the forms)."""
    selected = set(ctx.options.forms)
    builders = {
        ADVERSE_EVENTS: adverse_event_table,
        CONMEDS: conmed_table,
        SAFETY_REVIEW: review_table,
    }
    return [builders[code](ctx) for code in SAFETY_TABLES if code in selected]


def safety_sources(options: ExportOptions) -> list[tuple[str, str]]:
    """(column, join onto visits `v`) of the selected safety records' last changes, for
    the export's 'data as of' time (an assessment counts by its signing time)."""
    models_by_code: dict[str, type[models.Model]] = {
        ADVERSE_EVENTS: AdverseEvent,
        CONMEDS: ConcomitantMedication,
        SAFETY_REVIEW: VisitSafetyReview,
    }
    sources = [
        ("r.updated_at", f" JOIN {qn(model._meta.db_table)} r ON r.visit_id = v.id")
        for code, model in models_by_code.items()
        if code in options.forms
    ]
    if ADVERSE_EVENTS in options.forms:
        sources.append(
            (
                "a.signed_at",
                f" JOIN {qn(AdverseEvent._meta.db_table)} r ON r.visit_id = v.id"
                f" JOIN {qn(AdverseEventAssessment._meta.db_table)} a"
                " ON a.adverse_event_id = r.id",
            )
        )
    return sources
