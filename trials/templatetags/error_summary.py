"""The error summary every form page shows at its top (templates/_error_summary.html)."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.forms.formsets import BaseFormSet

register = template.Library()


def _target(bound: forms.BoundField) -> str:
    """The id of the input a summary link focuses: a choice list's first option, since the
    list itself has no element with the field's id; none for a hidden input."""
    if bound.is_hidden:
        return ""
    if isinstance(bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        options = bound.subwidgets
        return options[0].id_for_label if options else ""
    return bound.id_for_label


def _label(form: forms.BaseForm, name: str) -> str:
    """A form may name a field better than its label does where the label alone is ambiguous
    (e.g. an entry form's many "Missing because" selects)."""
    labelled = getattr(form, "error_label", None)
    return str(labelled(name) if labelled is not None else form[name].label)


@register.inclusion_tag("_error_summary.html")
def error_summary(*shown: object) -> dict[str, Any]:
    """Every error of the page's submitted forms and formsets: those of a field as
    (label, message, id of the input to focus), the others as ("", message, "")."""
    errors: list[tuple[str, str, str]] = []
    for item in shown:
        # A page passes its forms by name; one it does not have is the template's "".
        if not isinstance(item, forms.BaseForm | BaseFormSet) or not item.is_bound:
            continue
        members: list[forms.BaseForm] = [item] if isinstance(item, forms.BaseForm) else []
        if isinstance(item, BaseFormSet):
            errors += [("", str(m), "") for m in item.non_form_errors()]
            members = list(item.forms)
        for form in members:
            errors += [("", str(m), "") for m in form.non_field_errors()]
            for name, messages in form.errors.items():
                if name in form.fields:
                    label, target = _label(form, name), _target(form[name])
                    errors += [(label, str(m), target) for m in messages]
    return {"errors": errors}
