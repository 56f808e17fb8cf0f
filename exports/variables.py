"""Variables and code lists of an export, derived from the models' `_meta`.

Nothing here names a particular form: answers, missing-data reasons and derived
values are read off each registered FormRecord subclass (fields, choices,
verbose names, `required_answers` / `optional_answers` / `free_text_fields`), so
forms added to the registry later are exported without code changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models.fields.related import RelatedField

MAX_NAME = 32  # Stata variable names (SAS transport v5 names: see `sas_names`)
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
    short: str = ""  # the name written to the data files (<= 32 characters)
    sas: str = ""  # the name in SAS transport (version 5) files (<= 8 characters)
    visit: str = ""  # wide layout: the visit this column belongs to


# Wide-layout columns end in _<VISIT>; visit codes longer than this are refused, so the
# stems below leave room for the longest suffix in every layout.
MAX_VISIT_CODE = 3
WIDE_SUFFIX = 1 + MAX_VISIT_CODE
MIN_WORD = 3


def fit_name(name: str, limit: int) -> str:
    """`name` as a valid variable name of at most `limit` characters, without hashes: the
    longest word (the last of equals) loses its final letter until the name fits, so every
    word keeps its start (q12_respiratory_insufficiency → q12_respira_insuffi)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "v_" + name
    words = name.split("_")
    while len("_".join(words)) > limit:
        longest = max(range(len(words)), key=lambda i: (len(words[i]), i))
        if len(words[longest]) <= MIN_WORD:
            break
        words[longest] = words[longest][:-1]
    return "_".join(words)[:limit].rstrip("_") or "v"


def stem_limit(*, coded: bool, has_reason: bool) -> int:
    """Room for a value column's stem: the wide suffix, and `_miss` when a missing-reason
    column (coded) goes with it, always fit."""
    if has_reason:
        return MAX_CODED_NAME - WIDE_SUFFIX - len(MISSING_SUFFIX)
    return (MAX_CODED_NAME if coded else MAX_NAME) - WIDE_SUFFIX


def wide_name(name: str, visit: str, *, missing: bool) -> str:
    """A per-visit column: <stem>_<VISIT>, and its reason <stem>_<VISIT>_miss."""
    if len(visit) > MAX_VISIT_CODE:
        raise ValueError(f"visit code {visit!r} is longer than {MAX_VISIT_CODE} characters")
    if missing:
        return f"{name.removesuffix(MISSING_SUFFIX)}_{visit}{MISSING_SUFFIX}"
    return f"{name}_{visit}"


def _stem(variable: Variable, base: str) -> str:
    if variable.role == "missing":
        base = base.removesuffix(MISSING_SUFFIX)
    if variable.visit:
        base = base.removesuffix(f"_{variable.visit}")
    return base


SAS_NAME = 8  # SAS transport version 5


def sas_name(name: str, used: set[str], *, suffix: str = "", limit: int = SAS_NAME) -> str:
    """A SAS version 5 name unique in `used` (case-insensitive; added to it): the start of
    every word of `name`, then `suffix`; a clash ends the stem in 2, 3, ... instead."""
    budget = limit - len(suffix)
    words = [w for w in fit_name(name, 64).split("_") if w] or ["v"]
    stem = "_".join(words)
    if len(stem) > budget:
        while sum(map(len, words)) > budget:
            longest = max(range(len(words)), key=lambda i: (len(words[i]), i))
            if len(words[longest]) <= 1:
                break
            words[longest] = words[longest][:-1]
        stem = "".join(words)[:budget]
    candidate, n = stem + suffix, 1
    while candidate.lower() in used:
        n += 1
        candidate = stem[: budget - len(str(n))] + str(n) + suffix
    used.add(candidate.lower())
    return candidate


def assign_short_names(variables: list[Variable], *, use_aliases: bool) -> None:
    """Fill `short` for a table's variables: <stem>[_<VISIT>][_miss], the stem fitted to
    leave room for both suffixes, so a value column and its reason share their stem in
    every layout. A PRO-ACT alias is used verbatim when it fits, else not at all (a cut
    PRO-ACT name would pass for the real one); the codebook lists it either way.
    Refuses a collision rather than renaming silently."""
    stems = [_stem(v, v.name) for v in variables]
    with_reason = {stem for v, stem in zip(variables, stems, strict=True) if v.role == "missing"}
    coded = {
        stem
        for v, stem in zip(variables, stems, strict=True)
        if v.codelist is not None and v.role != "missing"
    }
    seen: dict[str, str] = {}
    sas_used: set[str] = set()
    for variable, stem in zip(variables, stems, strict=True):
        limit = stem_limit(coded=stem in coded, has_reason=stem in with_reason)
        alias = _stem(variable, variable.alias) if use_aliases and variable.alias else ""
        short = alias if alias and fit_name(alias, limit) == alias else fit_name(stem, limit)
        if variable.visit:
            short += f"_{variable.visit}"
        if variable.role == "missing":
            short += MISSING_SUFFIX
        variable.short = short
        # SAS names keep the visit and mark a missing reason with a final M (M06 → ..M06M).
        sas_suffix = variable.visit + ("M" if variable.role == "missing" else "")
        sas_stem = _stem(variable, short)
        variable.sas = sas_name(sas_stem, sas_used, suffix=sas_suffix)
        key = short.lower()
        if key in seen:
            raise ValueError(
                f"variable names {seen[key]!r} and {variable.name!r} collide as {key!r}"
            )
        seen[key] = variable.name


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
