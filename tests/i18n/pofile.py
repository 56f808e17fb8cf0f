"""A small reader of gettext PO files and the placeholder rules the catalogue tests apply.

Only what the tests need: entries (context, msgid, plural, msgstr or plural msgstrs,
flags), obsolete entries (#~) skipped. No third-party package (polib is not in the lock).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}


def _unquote(text: str) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a PO string: {text!r}")
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]
        return [self.msgstr]

    @property
    def translated(self) -> bool:
        return bool(self.translations) and all(self.translations)


def parse(path: Path) -> list[Entry]:
    """The entries of a PO file, the header (msgid "") first."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None
    flags: set[str] = set()

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # obsolete
        if line.startswith("#,"):
            finish()
            flags = {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"{path}:{number}: continuation without a keyword")
            name, index = target
            if index is None:
                setattr(current, name, getattr(current, name) + _unquote(line))
            else:
                current.msgstr_plural[index] += _unquote(line)
            continue
        if current is not None and (
            keyword == "msgctxt" or (keyword == "msgid" and target and target[0] == "msgstr")
        ):
            finish()  # a new entry without a blank line before it
        if current is None:
            current = Entry(flags=flags, line=number)
            flags = set()
        if keyword == "msgctxt":
            current.msgctxt = _unquote(rest)
            target = ("msgctxt", None)
        elif keyword == "msgid":
            current.msgid = _unquote(rest)
            target = ("msgid", None)
        elif keyword == "msgid_plural":
            current.msgid_plural = _unquote(rest)
            target = ("msgid_plural", None)
        elif keyword == "msgstr":
            current.msgstr = _unquote(rest)
            target = ("msgstr", None)
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            current.msgstr_plural[index] = _unquote(rest)
            target = ("msgstr", index)
        else:
            raise ValueError(f"{path}:{number}: unknown line {raw!r}")
    finish()
    return entries


def messages(path: Path) -> dict[tuple[str | None, str], Entry]:
    """The entries by (context, msgid), without the header."""
    return {entry.key: entry for entry in parse(path) if entry.msgid}


# A Python %-conversion as msgfmt's python-format check reads it.
PYTHON_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
BRACE_FORMAT = re.compile(
    r"(?<!\{)\{(?P<field>[A-Za-z_][A-Za-z0-9_]*|\d*)(?:![rsa])?(?::[^{}]*)?\}"
)
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


def python_placeholders(text: str) -> Counter[str]:
    """Each %-directive but %%, named ones by name and conversion."""
    return Counter(m.group(0) for m in PYTHON_FORMAT.finditer(text) if m.group("conv") != "%")


def brace_placeholders(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in BRACE_FORMAT.finditer(text))


def html_tags(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in HTML_TAG.finditer(text))


def placeholder_problems(entry: Entry) -> list[str]:
    """Why a translation does not carry exactly the placeholders and tags of its source."""
    checks = [html_tags]
    if "python-format" in entry.flags:
        checks.append(python_placeholders)
    if "python-brace-format" in entry.flags:
        checks.append(brace_placeholders)
    problems = []
    if entry.msgid_plural is not None:
        pairs = [
            (entry.msgid if index == 0 else entry.msgid_plural, text, index)
            for index, text in sorted(entry.msgstr_plural.items())
        ]
    else:
        pairs = [(entry.msgid, entry.msgstr, None)]
    for source, text, index in pairs:
        if not text:
            continue
        for check in checks:
            want, got = check(source), check(text)
            if want != got and not (
                # The singular form of a plural may carry the plural's placeholders.
                index == 0 and entry.msgid_plural is not None and check(entry.msgid_plural) == got
            ):
                where = "" if index is None else f"[{index}]"
                problems.append(
                    f"{entry.msgid!r}{where}: {check.__name__} want {sorted(want.elements())}, "
                    f"got {sorted(got.elements())}"
                )
    return problems
