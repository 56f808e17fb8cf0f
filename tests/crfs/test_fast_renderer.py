"""crfs.renderers.FastInputRenderer writes the entry forms' inputs in Python: the markup must
be Django's, character for character, for every field of every entry form, unbound and
bound (values with quotes, tags and ampersands, and errors), whole widgets and each radio."""

from __future__ import annotations

import pytest
from django.forms.renderers import DjangoTemplates

from crfs import registry
from crfs.renderers import FAST_INPUT_RENDERER, FastInputRenderer

pytestmark = pytest.mark.django_db

HOSTILE = "\"><script>alert('x')</script> & é"


def _data(form) -> dict[str, str]:
    data = {}
    for index, (name, field) in enumerate(form.fields.items()):
        choices = [value for value, _label in getattr(field, "choices", [])]
        data[name] = str(choices[-1]) if choices and index % 2 else HOSTILE
    data["version"] = "0"
    return data


def _markup(form) -> list[str]:
    html = []
    for bound in form:
        html.append(str(bound.as_widget(attrs={"class": 'form-control x"y'})))
        for option in bound.subwidgets:
            html.append(str(option.tag()))
            html.append(str(option.tag(wrap_label=True)))
    return html


@pytest.mark.parametrize("code", sorted(registry.entry_forms()))
def test_every_entry_form_renders_as_django_does(code):
    spec = registry.entry_forms()[code]
    unbound = spec.form_class()
    assert unbound.renderer is FAST_INPUT_RENDERER
    for data in (None, _data(unbound)):
        fast = spec.form_class(data)
        slow = spec.form_class(data, renderer=DjangoTemplates())
        if data is not None:
            fast.is_valid(), slow.is_valid()
        assert _markup(fast) == _markup(slow)


def test_the_radios_skip_the_template_engine(monkeypatch):
    """Not the same markup by the same templates: the ALSFRS-R's radios and inputs are
    written without loading Django's input templates."""
    loaded: list[str] = []
    original = FastInputRenderer.get_template

    def spy(self, template_name):
        loaded.append(template_name)
        return original(self, template_name)

    monkeypatch.setattr(FastInputRenderer, "get_template", spy)
    form = registry.get("alsfrs_r").form_class()
    markup = _markup(form)
    assert any('type="radio"' in html for html in markup)
    assert not {
        "django/forms/widgets/radio_option.html",
        "django/forms/widgets/input_option.html",
        "django/forms/widgets/input.html",
        "django/forms/widgets/hidden.html",
        "django/forms/widgets/select.html",
        "django/forms/widgets/select_option.html",
    } & set(loaded)
