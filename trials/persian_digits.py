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


# One pass over a page (`html_digits`): `_EVENT` matches, from a piece boundary, everything
# that is left as it is (comments, tags that cannot start a skipped element, entities, other
# text, and runs of identifier characters that are no number) up to the next event: a number
# to write in Persian digits, or a tag that may start a skipped element (checked by
# `_skipped`). It splits the page exactly as `_PIECES` and `_TOKEN` do: a run of the
# characters of `_TOKEN` becomes Persian when it has a digit and no Latin letter. Atomic and
# possessive, so nothing is scanned twice (no backtracking over long words).
_RUN_CHARS = r"0-9A-Za-z_./:@+\-"
_NUMBER = r"[_./:@+\-]*+[0-9][0-9_./:@+\-]*+(?![A-Za-z])"
# A tag that starts no skipped element: not named as one, and without the words that mark
# one (class names, data-digits) anywhere inside; read a run at a time, without backtracking.
_PLAIN_TAG = (
    r"<(?!\s*(?i:script|style|textarea|pre|code|kbd|samp))"
    r'(?:[^>lsfd]++|l(?!tr|atin-digits)|s(?!tudy-id)|f(?!ont-monospace)|d(?!ata-digits="latin"))*+>'
)
_EVENT = re.compile(
    r"(?>(?:"
    r"<!--.*?-->"  # a comment
    rf"|{_PLAIN_TAG}"
    r"|&#?[0-9A-Za-z]+;"  # an entity
    rf"|[^{_RUN_CHARS}<&]++"  # other text
    r"|&|<(?![^>]*>)"  # a lone & or <
    rf"|(?!{_NUMBER})[{_RUN_CHARS}]++"  # a word, an identifier
    r")*)"
    rf"(?:(?P<number>{_NUMBER})|(?P<tag><[^>]*>))?",
    re.S,
)
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def _persian_number(token: str) -> str:
    """A token of digits (no Latin letter) in Persian digits (`_number`)."""
    if token.count(".") == 1:
        token = _DECIMAL_POINT.sub("\N{ARABIC DECIMAL SEPARATOR}", token)
    return persian_digits(token)


def _skipped_element(tag: str) -> str | None:
    """The name of the element `tag` opens when its text keeps its digits, else None."""
    match = _TAG.match(tag)
    if match is None or match.group(1):
        return None
    name = match.group(2).lower()
    if tag.rstrip(">").rstrip().endswith("/") or name in _VOID:
        return None
    return name if _skipped(name, tag) else None


def _end_of_skipped(html: str, name: str, start: int) -> int:
    """Where the element `name` opened just before `start` ends (after its closing tag; the
    end of the page when it is never closed), counting elements of the same name inside."""
    depth = 1
    for piece in _PIECES.finditer(html, start):
        match = _TAG.match(piece.group(0))
        if match is None or match.group(2).lower() != name:
            continue
        tag = piece.group(0)
        if tag.rstrip(">").rstrip().endswith("/") or name in _VOID:
            continue
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return piece.end()
    return len(html)


def html_digits(html: str) -> str:
    """The digits of an HTML document's text in Persian (see the module's docstring)."""
    out: list[str] = []
    position, end = 0, len(html)
    match_event = _EVENT.match
    while position < end:
        event = match_event(html, position)
        if event is None:  # never: the pattern matches the empty text
            out.append(html[position:])
            break
        number, tag = event.group("number", "tag")
        if number is not None:
            out.append(html[position : event.start("number")])
            out.append(_persian_number(number))
            position = event.end()
        elif tag is not None:
            after = event.end()
            name = _skipped_element(tag)
            if name is None:
                out.append(html[position:after])
                position = after
            else:
                stop = _end_of_skipped(html, name, after)
                out.append(html[position:stop])
                position = stop
        else:
            out.append(html[position:])
            break
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
