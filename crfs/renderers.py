"""The form renderer of the entry forms: Django's own, with its input templates written in
Python.

An entry page draws every answer through Django's widget templates: the ALSFRS-R's twelve
questions are 60 radio inputs, each one `radio_option.html` including `input_option.html`,
`input.html` and `attrs.html` (over half the page's time under load, benchmarks/page_load.py).
Those four templates are a line of markup each; `FastInputRenderer` writes the same markup
(escaped the same way, character for character: tests/crfs/test_fast_renderer.py compares
them) without the template engine, and leaves every other template to Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{_string(value)}"')
    return "".join(parts)


def _string(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: str() of it, escaped unless it was safe."""
    return conditional_escape(value if isinstance(value, SafeData) else str(value))


def _input(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html."""
    value = "" if widget["value"] is None else f' value="{_string(widget["value"])}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}"'
        f' name="{conditional_escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    )


def _input_option(widget: dict[str, Any]) -> str | None:
    """django/forms/widgets/input_option.html (radio_option.html, checkbox_option.html)."""
    if not widget.get("wrap_label"):
        return _input(widget)
    label = _label(widget["label"])
    if label is None:
        return None
    element_id = widget["attrs"].get("id")
    label_for = f' for="{conditional_escape(element_id)}"' if element_id else ""
    # The include of input.html keeps that template's closing newline.
    return f"<label{label_for}>{_input(widget)}\n {label}</label>"


def _label(label: Any) -> str | None:
    """`{{ label }}` of a text; None for a number or a date, which the template localizes."""
    if isinstance(label, Promise):
        label = str(label)  # a lazy translation, as the template renders it
    return conditional_escape(label) if isinstance(label, str) else None


def _option(option: dict[str, Any]) -> str | None:
    """django/forms/widgets/select_option.html."""
    label = _label(option["label"])
    if label is None:
        return None
    return f'<option value="{_string(option["value"])}"{_attrs(option["attrs"])}>{label}</option>'


SELECT_OPTION = "django/forms/widgets/select_option.html"


def _select(widget: dict[str, Any]) -> str | None:
    """django/forms/widgets/select.html (its line breaks and indents included)."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            group = _label(group_name)
            if group is None:
                return None
            parts.append(f'\n  <optgroup label="{group}">')
        for option in group_choices:
            html = _option(option) if option["template_name"] == SELECT_OPTION else None
            if html is None:
                return None
            parts.append(f"\n  {html}\n")  # the include keeps the template's last newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


_INPUTS = ["text", "checkbox", "color", "date", "datetime", "email", "hidden", "number"]
_INPUTS += ["password", "search", "tel", "time", "url"]
FAST: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **{f"django/forms/widgets/{name}.html": _input for name in _INPUTS},
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/input_option.html": _input_option,
    "django/forms/widgets/radio_option.html": _input_option,
    "django/forms/widgets/checkbox_option.html": _input_option,
    "django/forms/widgets/select.html": _select,
    SELECT_OPTION: _option,
}


class FastInputRenderer(DjangoTemplates):
    """Django's template renderer, but an input (and a radio or checkbox option) is written
    in Python."""

    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        fast = FAST.get(template_name)
        html = fast(context["widget"]) if fast and set(context) == {"widget"} else None
        if html is None:
            return super().render(template_name, context, request)
        return mark_safe(html.strip())  # noqa: S308 (every part escaped above)


# One for all entry forms: its template engine is made once.
FAST_INPUT_RENDERER = FastInputRenderer()
