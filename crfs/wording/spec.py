"""The wording file a trial provides: its format, and what each instrument must contain.

Pure (no database): `parse` checks a file's JSON and returns the wording to store, or raises
`WordingFileError` with every problem. The format is documented in docs/instrument-wording.md.

Only a validated translation belongs in such a file (the publisher's or the validation
study's wording, cited in "source"). The project never translates an instrument: without a
loaded file the items stay in the published English.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crfs.alsfrs_r.scoring import ITEM_CODES as ALSFRS_R_ITEM_CODES
from crfs.qol.scoring import ALSAQ40_ITEMS, RESPONSES

FORMAT = "als-ecrf/instrument-wording/1"
ORIGINAL_LANGUAGE = "en"  # the instruments' published language: never loaded from a file

ALSFRS_R = "alsfrs_r"
ALSAQ40 = "alsaq40"
SEIQOL = "seiqol"
# The file's instrument name -> the form code the wording is stored under.
INSTRUMENTS: Mapping[str, str] = {"ALSFRS-R": ALSFRS_R, "ALSAQ-40": ALSAQ40, "SEIQoL-DW": SEIQOL}


@dataclass(frozen=True)
class Shape:
    """What an instrument's file holds: item codes, each item's anchors, shared anchors."""

    items: tuple[str, ...]
    item_anchors: tuple[str, ...]  # every item's own answer wording (ALSFRS-R)
    anchors: tuple[str, ...]  # one answer scale for all items (ALSAQ-40), scale ends (SEIQoL)


SCORES_4_TO_0 = ("4", "3", "2", "1", "0")
SHAPES: Mapping[str, Shape] = {
    ALSFRS_R: Shape(items=tuple(ALSFRS_R_ITEM_CODES), item_anchors=SCORES_4_TO_0, anchors=()),
    ALSAQ40: Shape(
        items=tuple(str(item.number) for item in ALSAQ40_ITEMS),
        item_anchors=(),
        anchors=tuple(str(score) for score in RESPONSES),
    ),
    # The administration instruction read to the participant, and the level scale's ends.
    SEIQOL: Shape(items=("instructions",), item_anchors=(), anchors=("0", "100")),
}


class WordingFileError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Wording:
    instrument: str  # form code
    language: str
    version: str
    source: str
    texts: dict[str, Any]  # {"items": {code: {"text", "anchors"?}}, "anchors": {score: text}}
    sha256: str


def _text(value: object, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: a non-empty text is needed")
        return ""
    return value.strip()


def _keys(mapping: object, want: tuple[str, ...], where: str, problems: list[str]) -> dict:
    if not isinstance(mapping, dict):
        problems.append(f"{where}: an object is needed")
        return {}
    missing = [key for key in want if key not in mapping]
    unknown = sorted(str(key) for key in mapping if key not in want)
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    if unknown:
        problems.append(f"{where}: unknown {', '.join(unknown)}")
    return mapping


def parse(content: bytes, languages: tuple[str, ...]) -> Wording:
    """The wording in a file's bytes; `languages`: the codes the site may show."""
    problems: list[str] = []
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WordingFileError([f"not a UTF-8 JSON file: {error}"]) from None
    if not isinstance(data, dict):
        raise WordingFileError(["the file holds one JSON object"])
    fields = ("format", "instrument", "language", "version", "source", "items", "anchors")
    unknown = sorted(set(data) - set(fields) - {"note"})
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    if data.get("format") != FORMAT:
        problems.append(f'"format" must be "{FORMAT}"')
    instrument = INSTRUMENTS.get(data.get("instrument"))  # type: ignore[arg-type]
    if instrument is None:
        raise WordingFileError([*problems, f'"instrument" must be one of {", ".join(INSTRUMENTS)}'])
    language = data.get("language")
    if language == ORIGINAL_LANGUAGE:
        problems.append('"language": English is the published original, not loaded from a file')
    elif language not in languages:
        problems.append(f'"language" must be one of {", ".join(languages)}')
    version = _text(data.get("version"), '"version"', problems)
    source = _text(data.get("source"), '"source" (the citation of the validated version)', problems)
    if len(version) > 100:
        problems.append('"version": at most 100 characters')
    shape = SHAPES[instrument]
    items: dict[str, dict[str, Any]] = {}
    given = _keys(data.get("items"), shape.items, '"items"', problems)
    for code in shape.items:
        if code not in given:
            continue
        entry = given[code]
        where = f'item "{code}"'
        want = ("text", "anchors") if shape.item_anchors else ("text",)
        entry = _keys(entry, want, where, problems)
        item: dict[str, Any] = {"text": _text(entry.get("text"), f"{where} text", problems)}
        if shape.item_anchors and "anchors" in entry:
            own = _keys(entry["anchors"], shape.item_anchors, f"{where} anchors", problems)
            item["anchors"] = {
                score: _text(own.get(score), f"{where} anchor {score}", problems)
                for score in shape.item_anchors
                if score in own
            }
        items[code] = item
    anchors: dict[str, str] = {}
    if shape.anchors:
        given_anchors = _keys(data.get("anchors"), shape.anchors, '"anchors"', problems)
        anchors = {
            score: _text(given_anchors.get(score), f"anchor {score}", problems)
            for score in shape.anchors
            if score in given_anchors
        }
    elif "anchors" in data:
        problems.append(f'"anchors": {data["instrument"]} has none apart from its items\'')
    if problems:
        raise WordingFileError(problems)
    return Wording(
        instrument=instrument,
        language=str(language),
        version=version,
        source=source,
        texts={"items": items, "anchors": anchors},
        sha256=hashlib.sha256(content).hexdigest(),
    )
