"""Variables and code lists of an export, derived from the models' `_meta`.

Nothing here names a particular form: answers, missing-data reasons and derived
values are read off each registered FormRecord subclass (fields, choices,
verbose names, `required_answers` / `optional_answers` / `free_text_fields`), so
forms added to the registry later are exported without code changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models.fields.related import RelatedField

MAX_NAME = 32  # Stata and SAS (transport v8) variable names
# Coded variables: pyreadstat names a Stata value-label set <variable><counter>, which
# must fit in 32 characters too, so theirs stay within 28.
MAX_CODED_NAME = 28
MISSING_SUFFIX = "_miss"

# Kinds of values, as the writers see them.
TEXT, INTEGER, FLOAT, DECIMAL, DATE, DATETIME, BOOLEAN = (
    "text",
    "integer",
    "float",
    "decimal",
    "date",
    "datetime",
    "boolean",
)
NUMERIC_KINDS = frozenset({INTEGER, FLOAT, DECIMAL, BOOLEAN})

# OWASP's CSV-injection advice: a spreadsheet runs a cell that starts with one of these
# as a formula, so such text gets a leading single quote. Text that already starts with
# a quote gets one too, which makes the rule exactly reversible: drop the first
# character of every text value that starts with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_QUOTE = "'"


def neutralise_formula(value: str) -> str:
    if value[:1] in FORMULA_STARTS or value.startswith(FORMULA_QUOTE):
        return FORMULA_QUOTE + value
    return value


def neutralise_formula_sql(expr: str) -> str:
    """`neutralise_formula` in PostgreSQL, for the rows COPY writes straight to CSV."""
    starts = "'=', '+', '-', '@', E'\\t', E'\\r', ''''"
    return (
        f"CASE WHEN left({expr}::text, 1) IN ({starts})"
        f" THEN '''' || {expr}::text ELSE {expr}::text END"
    )


@dataclass(frozen=True)
class CodeList:
    """Coded values and their labels; text codes get integer codes 1..n in labelled formats."""

    name: str
    kind: str  # TEXT, INTEGER or BOOLEAN
    items: tuple[tuple[Any, str], ...]

    @property
    def numeric_codes(self) -> dict[Any, int]:
        """Code → the integer written to SPSS/Stata/SAS files (integers and booleans unchanged)."""
        if self.kind == TEXT:
            return {code: index for index, (code, _label) in enumerate(self.items, start=1)}
        return {code: int(code) for code, _label in self.items}

    @property
    def numeric_labels(self) -> dict[int, str]:
        codes = self.numeric_codes
        return {codes[code]: label for code, label in self.items}


@dataclass
class Variable:
    name: str  # the long, stable name (before the 32-character mapping)
    label: str
    kind: str
    role: str  # key, visit, answer, missing, derived, participant, identity, audit
    codelist: CodeList | None = None
    source: str = ""  # model field or SQL derivation, for the codebook
    derivation: str = ""
    alias: str = ""  # PRO-ACT name, when the alias set applies
    short: str = ""  # the name written to every data file (<= 32 characters)
    visit: str = ""  # wide layout: the visit this column belongs to


def short_name(name: str, limit: int = MAX_NAME) -> str:
    """A deterministic name of at most `limit` characters: unchanged when it fits, else
    the first characters, an underscore and 4 hex digits of the full name's SHA-1."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "v_" + name
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:4]
    return f"{name[: limit - 5]}_{digest}"


def assign_short_names(variables: list[Variable], *, use_aliases: bool) -> None:
    """Fill `short` for a table's variables; refuses a collision rather than renaming silently."""
    seen: dict[str, str] = {}
    for variable in variables:
        base = variable.alias if use_aliases and variable.alias else variable.name
        variable.short = short_name(base, MAX_CODED_NAME if variable.codelist else MAX_NAME)
        key = variable.short.lower()
        if key in seen:
            raise ValueError(f"variable names {seen[key]!r} and {base!r} collide as {key!r}")
        seen[key] = base


def field_kind(f: models.Field) -> str:
    if f.is_relation:
        assert isinstance(f, RelatedField)  # the export reads concrete foreign keys only
        return field_kind(f.target_field)
    if isinstance(f, models.BooleanField):
        return BOOLEAN
    if isinstance(f, models.IntegerField):
        return INTEGER
    if isinstance(f, models.FloatField):
        return FLOAT
    if isinstance(f, models.DecimalField):
        return DECIMAL
    if isinstance(f, models.DateTimeField):
        return DATETIME
    if isinstance(f, models.DateField):
        return DATE
    return TEXT


YES_NO = CodeList("yes_no", BOOLEAN, ((0, "No"), (1, "Yes")))


def codelist_for(f: models.Field, name: str) -> CodeList | None:
    kind = field_kind(f)
    if kind == BOOLEAN:
        return YES_NO
    if not f.choices:
        return None
    items = tuple((code, str(label)) for code, label in f.flatchoices)
    return CodeList(name, INTEGER if kind == INTEGER else TEXT, items)


def is_free_text(model: type[models.Model], f: models.Field) -> bool:
    """Declared free text, or any text/char answer without choices (both dropped when de-identified)."""
    declared = tuple(getattr(model, "free_text_fields", ()) or ())
    if f.name in declared:
        return True
    return isinstance(f, models.TextField | models.CharField) and not f.choices


def variable_for_field(
    model: type[models.Model], f: models.Field, *, role: str, name: str | None = None
) -> Variable:
    name = name or f.name
    list_name = f"{model._meta.model_name}.{f.name}"
    return Variable(
        name=name,
        label=str(f.verbose_name),
        kind=field_kind(f),
        role=role,
        codelist=codelist_for(f, list_name),
        source=f"{model._meta.label}.{f.name}",
    )


# --- PRO-ACT aliases ----------------------------------------------------------------
# Pooled-data names of the PRO-ACT database; applied only to fields that exist.
PROACT_ALSFRS_R = {
    "q1_speech": "Q1_Speech",
    "q2_salivation": "Q2_Salivation",
    "q3_swallowing": "Q3_Swallowing",
    "q4_handwriting": "Q4_Handwriting",
    "q5a_cutting_no_gastrostomy": "Q5a_Cutting_without_Gastrostomy",
    "q5b_cutting_gastrostomy": "Q5b_Cutting_with_Gastrostomy",
    "q6_dressing_hygiene": "Q6_Dressing_and_Hygiene",
    "q7_turning_in_bed": "Q7_Turning_in_Bed",
    "q8_walking": "Q8_Walking",
    "q9_climbing_stairs": "Q9_Climbing_Stairs",
    "q10_dyspnoea": "R1_Dyspnea",
    "q11_orthopnoea": "R2_Orthopnea",
    "q12_respiratory_insufficiency": "R3_Respiratory_Insufficiency",
    "total": "ALSFRS_R_Total",
}
_FVC_TRIAL = re.compile(
    r"^(?:fvc_|svc_|vc_)?(?:trial|manoeuvre|maneuver|attempt|effort)_?(\d+)(?:_(?:litres|liters|l|volume|fvc|vc))?$"
)


def proact_alias(form_code: str, field_name: str) -> str:
    if form_code == "alsfrs_r":
        return PROACT_ALSFRS_R.get(field_name, "")
    if form_code == "fvc":
        match = _FVC_TRIAL.match(field_name)
        if match:
            return f"Subject_Liters_Trial_{int(match.group(1))}"
    return ""


@dataclass
class Table:
    """One data file (or sheet): its variables and the SQL that yields its rows in order."""

    name: str
    label: str
    variables: list[Variable]
    inner_sql: str  # SELECT <6 hidden key columns>, c0 .. cN FROM ... (unordered)
    params: list[Any]
    count_sql: str
    count_params: list[Any]
    order_by: str = "_ord, _pid, _vpos, _vseq, _rep"
    # ODM: how rows of this table nest (form code, item group, repeating child rows).
    form_code: str = ""
    group: str = ""
    repeating: bool = False
    parent: str = ""
    notes: list[str] = field(default_factory=list)

    def _visible(self) -> str:
        return ", ".join(f'x."c{i}"' for i in range(len(self.variables)))

    @property
    def sql(self) -> str:
        """Hidden keys then the visible columns, in the export's order (for cursors)."""
        return (
            f"SELECT x._ord, x._pid, x._vpos, x._vseq, x._vcode, x._rep, {self._visible()}"
            f" FROM ({self.inner_sql}) AS x ORDER BY {self.order_by}"
        )

    @property
    def copy_sql(self) -> str:
        """The visible columns only, in the same order (for COPY ... TO STDOUT), text
        neutralised against formula injection (numbers are never touched)."""
        visible = ", ".join(
            neutralise_formula_sql(f'x."c{i}"') if v.kind == TEXT else f'x."c{i}"'
            for i, v in enumerate(self.variables)
        )
        return f"SELECT {visible} FROM ({self.inner_sql}) AS x ORDER BY {self.order_by}"
