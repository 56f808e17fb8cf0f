"""JSON columns that a statistics package cannot tabulate, exported as one coded column
per key instead. The rest of the export reads every form off its `_meta`; a JSON map of
known keys is the one thing `_meta` does not describe, so each such map is named here."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import models
from django.utils.translation import gettext as _

from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import CRITERIA, Outcome
from exports.variables import TEXT, CodeList, Variable

_KEY = re.compile(r"^[a-z0-9_]+$")

# (variable, SQL of its value given the SQL of the JSON column)
Expanded = list[tuple[Variable, Callable[[str], str]]]


def _outcome_codelist() -> CodeList:
    return CodeList(
        "eligibility_outcome",
        TEXT,
        (
            (Outcome.PASS.value, _("Pass")),
            (Outcome.FAIL.value, _("Fail")),
            (Outcome.UNKNOWN.value, _("Unknown")),
        ),
    )


def _criterion_outcomes(model: type[models.Model]) -> Expanded:
    codelist = _outcome_codelist()
    columns: Expanded = []
    for criterion in CRITERIA:
        if not _KEY.match(criterion.code):
            raise ValueError(f"unsafe criterion code {criterion.code!r}")
        variable = Variable(
            f"crit_{criterion.code}",
            _("Criterion: %(label)s") % {"label": criterion.label},
            TEXT,
            "derived",
            codelist=codelist,
            source=f"{model._meta.label}.outcomes[{criterion.code}]",
            derivation=_("the checklist's outcome of this criterion (absent: unknown)"),
        )
        columns.append((variable, _outcome_sql(criterion.code)))
    return columns


def _outcome_sql(code: str) -> Callable[[str], str]:
    # An outcome not yet evaluated counts as unknown, as on the checklist page.
    def sql(json: str) -> str:
        return f"COALESCE({json} ->> '{code}', 'unknown')"

    return sql


EXPANSIONS: dict[tuple[type[models.Model], str], Callable[[type[models.Model]], Expanded]] = {
    (Eligibility, "outcomes"): _criterion_outcomes,
}


def expand(model: type[models.Model], field: models.Field) -> Expanded | None:
    """The coded columns that replace `field` in every format, or None to export it as is."""
    expansion = EXPANSIONS.get((model, field.name))
    return expansion(model) if expansion is not None else None
