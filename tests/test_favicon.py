"""Every page names its icon, a vendored static file: browsers otherwise ask for /favicon.ico,
which answered 404 on every first page of `make run` (a console error in each walk)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_the_login_page_names_an_icon_that_is_a_static_file(client):
    html = client.get("/accounts/login/").content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert link, "no <link rel=icon> in the page head"
    assert "/static/" in link.group(1)
    name = link.group(1).split("/static/", 1)[1]
    assert finders.find(name), f"{name} is not among the static files"
