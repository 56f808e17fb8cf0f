"""Persian digits on Persian pages, for every number a page shows, without a filter in every
template: `PersianDigitsMiddleware` rewrites the digits of an HTML response's text (never its
tags, attributes, scripts or styles) when the page's language is Persian.

Left as they are (identifiers, and what is typed or copied):
- a run of characters with a digit and a Latin letter: study IDs (ISF-0001-7), visit codes
  (M06), trial and lot numbers (NCT02116634), versions, units glued to a number, addresses;
- the text inside <code>, <kbd>, <samp>, <pre>, <textarea>, <script>, <style>, and inside any
  element marked class="ltr", "study-id", "latin-digits" or "font-monospace", or
  data-digits="latin" (a national ID, a phone number, backup codes);
- input values (attributes) and everything that is not an HTML page: exports, the API, ODM,
  the calendar feed and downloads keep ASCII digits.
A number's one point between digits becomes the Arabic decimal separator U+066B.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from trials.jalali import persian_digits, uses_persian_digits

_PIECES = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)
_TAG = re.compile(r"^<\s*(/)?\s*([A-Za-z][\w:-]*)")
_CLASS = re.compile(r"""\bclass\s*=\s*(["'])(.*?)\1""", re.S)
_TOKEN = re.compile(r"&#?[0-9A-Za-z]+;|[0-9A-Za-z_./:@+\-]*[0-9][0-9A-Za-z_./:@+\-]*")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_SKIPPED_TAGS = frozenset({"script", "style", "textarea", "pre", "code", "kbd", "samp"})
_SKIPPED_CLASSES = frozenset({"ltr", "study-id", "latin-digits", "font-monospace"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr", "param"}
)


def _skipped(name: str, tag: str) -> bool:
    if name in _SKIPPED_TAGS or 'data-digits="latin"' in tag:
        return True
    match = _CLASS.search(tag)
    return bool(match and _SKIPPED_CLASSES & set(match.group(2).split()))


def _number(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.startswith("&") or _LATIN_LETTER.search(token):
        return token
    if token.count(".") == 1:
        token = re.sub(r"(?<=\d)\.(?=\d)", "\N{ARABIC DECIMAL SEPARATOR}", token)
    return persian_digits(token)


def text_digits(text: str) -> str:
    """The digits of a text (not HTML) in Persian, identifiers left as they are."""
    return _TOKEN.sub(_number, text)


def html_digits(html: str) -> str:
    """The digits of an HTML document's text in Persian (see the module's docstring)."""
    out: list[str] = []
    skip_name: str | None = None
    depth = 0
    for index, piece in enumerate(_PIECES.split(html)):
        if index % 2:  # a tag or a comment
            out.append(piece)
            match = _TAG.match(piece)
            if match is None:
                continue
            closing, name = bool(match.group(1)), match.group(2).lower()
            self_closing = piece.rstrip(">").rstrip().endswith("/") or name in _VOID
            if skip_name is not None:
                if name == skip_name and not self_closing:
                    depth += -1 if closing else 1
                    if depth == 0:
                        skip_name = None
            elif not closing and not self_closing and _skipped(name, piece):
                skip_name, depth = name, 1
        elif skip_name is None and piece:
            out.append(text_digits(piece))
        else:
            out.append(piece)
    return "".join(out)


class PersianDigitsMiddleware:
    """After the language is known (below LocaleMiddleware and the user's preference): an HTML
    page in Persian gets Persian digits (`html_digits`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            uses_persian_digits()
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and "attachment" not in response.get("Content-Disposition", "")
        ):
            charset = response.charset or "utf-8"
            response.content = html_digits(response.content.decode(charset)).encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
