"""The subject matrix's cells, written in Python (clinic_cells.matrix_cell), are the markup
the included template clinic/_form_cell.html wrote, character for character: with and
without a link, with and without open queries, with hostile text, in English and Persian."""

from __future__ import annotations

import pytest
from django.template import Context, Engine
from django.utils import translation

from clinic.selectors import FormCell, FormState
from clinic.templatetags.clinic_cells import matrix_cell
from queries.selectors import Counts

# The two templates as they were (clinic/_form_cell.html including clinic/_cell_queries.html).
_QUERIES = (
    '{% load i18n %}{% if cell.open_queries %}<span class="badge rounded-pill text-bg-warning'
    ' matrix-queries" data-testid="cell-{{ cell.visit_code }}-{{ cell.code }}-queries"><span'
    ' aria-hidden="true">{{ cell.open_queries }}</span><span class="visually-hidden">'
    "{% blocktranslate count n=cell.open_queries %}{{ n }} open query{% plural %}{{ n }} open"
    " queries{% endblocktranslate %}</span></span>{% endif %}"
)
_INNER = (
    '<i class="bi {{ cell.icon }}" aria-hidden="true"></i><span class="visually-hidden">'
    "{% blocktranslate with form=cell.label visit=cell.visit_code state=cell.state_label %}"
    "{{ form }} at {{ visit }}: {{ state }}{% endblocktranslate %}</span>" + _QUERIES
)
_CELL = (
    '{% load i18n %}{% if cell.href %}<a class="matrix-cell state-{{ cell.state }}"'
    ' href="{{ cell.href }}" title="{{ cell.state_label }}"'
    ' data-testid="cell-{{ cell.visit_code }}-{{ cell.code }}">' + _INNER + "</a>{% else %}"
    '<span class="matrix-cell state-{{ cell.state }}" title="{{ cell.state_label }}"'
    ' data-testid="cell-{{ cell.visit_code }}-{{ cell.code }}">' + _INNER + "</span>{% endif %}"
)
HOSTILE = "\"><script>alert('x')</script> & é"


def _cells() -> list[FormCell]:
    queries = [None, Counts(open=1, answered=0), Counts(open=2, answered=3)]
    cells = []
    for state in FormState:
        for href in ("", "/sites/ISF/participants/1/visits/2/forms/alsfrs_r/?a=1&b=2"):
            for count in queries:
                cells.append(FormCell("alsfrs_r", "ALSFRS-R", "M06", state, href, queries=count))
    cells.append(FormCell(HOSTILE, HOSTILE, HOSTILE, FormState.REPORTED, HOSTILE, HOSTILE))
    return cells


@pytest.mark.parametrize("language", ["en", "fa"])
def test_every_cell_is_written_as_the_template_wrote_it(language):
    template = Engine.get_default().from_string(_CELL)
    with translation.override(language):
        for cell in _cells():
            assert matrix_cell(cell) == template.render(Context({"cell": cell})), cell
