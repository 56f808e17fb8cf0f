"""The subject matrix's cells written in Python: a participant page has one per visit and form
(hundreds), and an included template per cell cost more than the rest of the page's markup.
The markup is the one clinic/_form_cell.html wrote (tests/clinic/test_matrix_cell.py)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from clinic.selectors import FormCell

register = template.Library()


def _queries(cell: FormCell) -> SafeString:
    n = cell.open_queries
    if not n:
        return mark_safe("")
    return format_html(
        '<span class="badge rounded-pill text-bg-warning matrix-queries"'
        ' data-testid="cell-{}-{}-queries"><span aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{}</span></span>',
        cell.visit_code,
        cell.code,
        n,
        ngettext("%(n)s open query", "%(n)s open queries", n) % {"n": n},
    )


@register.simple_tag
def matrix_cell(cell: FormCell) -> SafeString:
    """A link to the form when the cell has one, else a span: its state's icon, the state in
    words for screen readers and as a tooltip, and its unresolved queries."""
    state_label = cell.state_label
    inner = format_html(
        '<i class="bi {}" aria-hidden="true"></i><span class="visually-hidden">{}</span>{}',
        cell.icon,
        gettext("%(form)s at %(visit)s: %(state)s")
        % {"form": cell.label, "visit": cell.visit_code, "state": state_label},
        _queries(cell),
    )
    if cell.href:
        return format_html(
            '<a class="matrix-cell state-{}" href="{}" title="{}" data-testid="cell-{}-{}">{}</a>',
            cell.state,
            cell.href,
            state_label,
            cell.visit_code,
            cell.code,
            inner,
        )
    return format_html(
        '<span class="matrix-cell state-{}" title="{}" data-testid="cell-{}-{}">{}</span>',
        cell.state,
        state_label,
        cell.visit_code,
        cell.code,
        inner,
    )
