# ruff: noqa: RUF001  (Persian digits in the expected text are meant)
"""Persian digits in a Persian page's text (trials.persian_digits), identifiers, tags and
files left alone."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from trials.persian_digits import PersianDigitsMiddleware, html_digits, text_digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 / 7 forms", "۲ / ۷ forms"),
        ("0 of 3 records (0 %)", "۰ of ۳ records (۰ %)"),
        ("165.0 cm", "۱۶۵٫۰ cm"),
        ("14:30", "۱۴:۳۰"),
        ("2025-10", "۲۰۲۵-۱۰"),
        ("ISF-0001-7", "ISF-0001-7"),
        ("NCT02116634 · M06 · v1.2", "NCT02116634 · M06 · v1.2"),
        ("ALSFRS-R 40", "ALSFRS-R ۴۰"),
        ("203.0.113.7", "۲۰۳.۰.۱۱۳.۷"),
        ("a &#39;quoted&#x27; &amp; 5", "a &#39;quoted&#x27; &amp; ۵"),
    ],
)
def test_text_digits(text, expected):
    assert text_digits(text) == expected


def test_html_digits_leaves_tags_scripts_and_marked_elements():
    html = (
        '<p title="5">Age 56 <a href="/sites/ISF/participants/12/">ISF-S002</a></p>'
        '<input value="165.0" name="h1"><script src="/x.js?v=2"></script>'
        "<code>12</code><kbd>3</kbd>"
        '<dd class="col-7 latin-digits">1234567890</dd>'
        '<span class="ltr"><span>99</span> 98</span> 7'
        "<!-- 42 --><textarea>note 5</textarea><br/>8"
    )
    assert html_digits(html) == (
        '<p title="5">Age ۵۶ <a href="/sites/ISF/participants/12/">ISF-S002</a></p>'
        '<input value="165.0" name="h1"><script src="/x.js?v=2"></script>'
        "<code>12</code><kbd>3</kbd>"
        '<dd class="col-7 latin-digits">1234567890</dd>'
        '<span class="ltr"><span>99</span> 98</span> ۷'
        "<!-- 42 --><textarea>note 5</textarea><br/>۸"
    )


def respond(content: bytes, content_type: str = "text/html; charset=utf-8", **headers):
    def view(request):
        response = HttpResponse(content, content_type=content_type)
        response["Content-Length"] = str(len(content))
        for name, value in headers.items():
            response[name] = value
        return response

    return PersianDigitsMiddleware(view)(RequestFactory().get("/"))


def test_only_persian_html_pages_change():
    with translation.override("fa"):
        page = respond(b"<p>12 visits</p>")
        assert page.content.decode() == "<p>۱۲ visits</p>"
        assert page["Content-Length"] == str(len(page.content))
        assert respond(b"a,b\n1,2\n", "text/csv").content == b"a,b\n1,2\n"
        assert respond(b'{"n": 1}', "application/json").content == b'{"n": 1}'
        download = respond(b"<p>1</p>", **{"Content-Disposition": "attachment; filename=x.html"})
        assert download.content == b"<p>1</p>"
    with translation.override("en"):
        assert respond(b"<p>12 visits</p>").content == b"<p>12 visits</p>"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # An element nested in one of the same name: skipped until the outer one closes.
        ("<pre>1<pre>2</pre>3</pre>4", "<pre>1<pre>2</pre>3</pre>۴"),
        ("<code>1<CODE>2</code>3</code>4", "<code>1<CODE>2</code>3</code>۴"),
        ("<code>1<code/>2</code>3", "<code>1<code/>2</code>۳"),
        # Never closed: the rest of the page keeps its digits.
        ("<samp>1 never closed <p>2</p>", "<samp>1 never closed <p>2</p>"),
        # A tag in a comment or an attribute opens nothing.
        (
            "<!-- <code> 1 --> 2 <b title='<code>'>3</b> 4",
            "<!-- <code> 1 --> ۲ <b title='<code>'>۳</b> ۴",
        ),
        # A lone < or > is text; a tag left open at the end is text.
        ("a < 5 and 6 > 2", "a < 5 and 6 > ۲"),
        ("12<", "۱۲<"),
        ("<p>9</p", "<p>۹</p"),
        # Entities are left as they are, the number after one is not.
        ("x&amp;12 &#1234;5 &nbsp1 &9;", "x&amp;۱۲ &#1234;۵ &nbsp1 &9;"),
        # Only the class names (and data-digits="latin") mark an element, not dir="ltr".
        (
            '<span dir="ltr">12</span> <p class="ltrx">3</p> <p class="x  ltr">4</p>',
            '<span dir="ltr">۱۲</span> <p class="ltrx">۳</p> <p class="x  ltr">4</p>',
        ),
        (
            "<div data-digits='latin'>5</div><div data-digits=\"latin\">6</div>7",
            "<div data-digits='latin'>۵</div><div data-digits=\"latin\">6</div>۷",
        ),
        # Numbers with signs, separators and points; identifiers with a Latin letter kept.
        (
            "1.5 1.2.3 .5 5. -3 +4 @5 a/1 1/2 1:2:3 __9",
            "۱٫۵ ۱.۲.۳ .۵ ۵. -۳ +۴ @۵ a/1 ۱/۲ ۱:۲:۳ __۹",
        ),
        ("<br>1<br/>2<img src=x>3<input>4", "<br>۱<br/>۲<img src=x>۳<input>۴"),
        # A tag whose name only begins like a skipped one; a skipped one with spaces.
        (
            "<prefix>1</prefix><pre >2</pre ><pre/>3",
            "<prefix>۱</prefix><pre >2</pre ><pre/>۳",
        ),
        ("Supercalifragilistic" * 50 + " 1", "Supercalifragilistic" * 50 + " ۱"),
    ],
)
def test_html_digits_edge_cases(html, expected):
    assert html_digits(html) == expected
