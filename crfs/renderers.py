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
from django.utils.safestring import SafeData, SafeString, mark_safe


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
    if not isinstance(widget["label"], str | Promise):
        return None  # a number or a date the template would localize: left to it
    element_id = widget["attrs"].get("id")
    label_for = f' for="{conditional_escape(element_id)}"' if element_id else ""
    # The include of input.html keeps that template's closing newline.
    return f"<label{label_for}>{_input(widget)}\n {conditional_escape(widget['label'])}</label>"


_INPUTS = ["text", "checkbox", "color", "date", "datetime", "email", "hidden", "number"]
_INPUTS += ["password", "search", "tel", "time", "url"]
FAST: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **{f"django/forms/widgets/{name}.html": _input for name in _INPUTS},
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/input_option.html": _input_option,
    "django/forms/widgets/radio_option.html": _input_option,
    "django/forms/widgets/checkbox_option.html": _input_option,
}


class FastInputRenderer(DjangoTemplates):
    """Django's template renderer, but an input (and a radio or checkbox option) is written
    in Python."""

    def render(self, template_name: str, context: dict[str, Any], request=None) -> SafeString:
        fast = FAST.get(template_name)
        html = fast(context["widget"]) if fast and set(context) == {"widget"} else None
        if html is None:
            return super().render(template_name, context, request)
        return mark_safe(html.strip())  # noqa: S308 (every part escaped above)


# One for all entry forms: its template engine is made once.
FAST_INPUT_RENDERER = FastInputRenderer()
