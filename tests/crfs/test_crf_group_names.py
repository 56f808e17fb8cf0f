"""A screen-reader user moves through a CRF by its questions: every group of answers is a
fieldset whose first child is its legend (a legend anywhere else names nothing, and the
ALSFRS-R's radios were heard as "4 · Normal" with no question), and each "Missing because"
select says which answer it is for (eleven selects shared one name)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

FORMS = ("alsfrs_r", "fvc", "vitals", "emg", "alsaq40", "seiqol")
VOID = {"input", "br", "img", "hr", "meta", "link", "col", "area", "base", "source", "wbr"}


class Groups(HTMLParser):
    """Each fieldset.crf-item's first child tag and legend text; every label's text by `for`."""

    def __init__(self, html: str):
        super().__init__()
        self.groups: list[tuple[str, str]] = []  # (first child tag, legend text)
        self.labels: dict[str, str] = {}
        self._stack: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        parent = self._stack[-1][1] if self._stack else None
        if parent is not None and parent.get("_item") and "_first" not in parent:
            parent["_first"] = tag
            self.groups.append((tag, ""))
            a["_names_group"] = len(self.groups) - 1
        if tag == "fieldset" and "crf-item" in (a.get("class") or "").split():
            a["_item"] = True
        if tag not in VOID:
            self._stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag in VOID or not self._stack:
            return
        open_tag, attrs = self._stack.pop()
        if open_tag == "label" and attrs.get("for"):
            self.labels[attrs["for"]] = " ".join(attrs.get("_text", "").split())

    def handle_data(self, data):
        for tag, attrs in self._stack:
            if tag == "label":
                attrs["_text"] = attrs.get("_text", "") + data
            if tag == "legend" and "_names_group" in attrs:
                index = attrs["_names_group"]
                self.groups[index] = ("legend", self.groups[index][1] + data)


def test_every_answer_group_is_named_by_its_question(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    p = m06.participant
    for code in FORMS:
        html = client.get(reverse("crf-entry", args=[p.site.code, p.pk, m06.pk, code])).text
        page = Groups(html)
        # The scales are groups of answers; the other forms' groups (if any) obey the same rule.
        assert page.groups or code not in ("alsfrs_r", "alsaq40"), code
        for first, legend in page.groups:
            assert first == "legend", (code, first)
            assert legend.strip(), code


def test_each_missing_reason_says_which_answer_it_is_for(client_for, coordinator_a, m06):
    p = m06.participant
    html = (
        client_for(coordinator_a)
        .get(reverse("crf-entry", args=[p.site.code, p.pk, m06.pk, "alsfrs_r"]))
        .text
    )
    names = [text for key, text in Groups(html).labels.items() if key.endswith("__missing")]
    assert len(names) >= 11
    assert len(set(names)) == len(names), names
    assert any("Speech" in name for name in names), names
