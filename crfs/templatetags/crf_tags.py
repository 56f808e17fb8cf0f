from __future__ import annotations

from django import template

from crfs.base import MISSING_SUFFIX

register = template.Library()


@register.filter
def field(form, name: str):
    return form[name]


@register.filter
def missing_field(form, name: str):
    key = name + MISSING_SUFFIX
    return form[key] if key in form.fields else None


@register.filter
def add_class(bound_field, css: str):
    return bound_field.as_widget(attrs={"class": css})
