"""The Persian catalogue: complete, placeholders kept, compiled, consistent terms.

The completeness test extracts the project's messages as `make messages` does (Django's
makemessages, which needs GNU gettext's xgettext) from a copy of the sources in a temporary
folder, so the committed catalogue is never touched. Without xgettext it skips on a
developer's machine and fails in CI (CI=true: .ci/run installs gettext).
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from tests.i18n import pofile

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "fa" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
GLOSSARY = ROOT / "docs" / "persian-glossary.md"
# Not the project's user-facing sources: the same folders `make messages` ignores.
NOT_SOURCES = frozenset(
    {".venv", "var", "tests", "locale", "static", "benchmarks", "docs", "scripts", "node_modules"}
)


def _sources() -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(ROOT):
        relative = Path(dirpath).relative_to(ROOT)
        if relative.parts and (relative.parts[0] in NOT_SOURCES or relative.parts[0][0] == "."):
            dirnames[:] = []
            continue
        for name in filenames:
            if name.endswith((".py", ".html", ".txt")):
                yield relative / name


def _extract(tmp_path: Path) -> dict[tuple[str | None, str], pofile.Entry]:
    """The messages makemessages finds in the project's sources (an empty Persian catalogue)."""
    for relative in _sources():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, tmp_path / relative)
    (tmp_path / "locale").mkdir()
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
            call_command("makemessages", locale=["fa"], verbosity=0, no_location=True)
    finally:
        os.chdir(cwd)
    return pofile.messages(tmp_path / "locale" / "fa" / "LC_MESSAGES" / "django.po")


@pytest.fixture(scope="module")
def catalogue() -> dict[tuple[str | None, str], pofile.Entry]:
    return pofile.messages(PO)


def test_every_message_of_the_project_has_a_persian_translation(tmp_path, catalogue):
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("xgettext is missing: .ci/run installs Debian's gettext")
        pytest.skip("GNU gettext (xgettext) is not installed: apt-get install gettext")
    extracted = _extract(tmp_path)
    assert len(extracted) > 1500  # the extraction found the project, not an empty folder
    missing = sorted(entry.msgid for key, entry in extracted.items() if key not in catalogue)
    assert not missing, (
        f"{len(missing)} messages are not in locale/fa (run `make messages` and translate "
        f"them): {missing[:20]}"
    )
    untranslated = sorted(
        entry.msgid for key in extracted if not (entry := catalogue[key]).translated
    )
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"
    fuzzy = sorted(entry.msgid for key in extracted if "fuzzy" in (entry := catalogue[key]).flags)
    assert not fuzzy, f"{len(fuzzy)} fuzzy (check them, then drop the flag): {fuzzy[:20]}"
    # The flags the source gives (python-format, …) are the catalogue's: a stale flag would
    # leave a placeholder unchecked.
    stale = sorted(
        entry.msgid
        for key, entry in extracted.items()
        if {f for f in entry.flags if f.endswith("-format")}
        != {f for f in catalogue[key].flags if f.endswith("-format")}
    )
    assert not stale, f"format flags differ from the sources' (run `make messages`): {stale[:20]}"


def test_the_catalogue_has_no_empty_or_fuzzy_translation(catalogue):
    assert len(catalogue) > 1500
    assert not [e.msgid for e in catalogue.values() if not e.translated]
    assert not [e.msgid for e in catalogue.values() if "fuzzy" in e.flags]


def test_the_header_gives_persian_plural_forms():
    header = pofile.parse(PO)[0]
    assert header.msgid == ""
    assert "Language: fa\n" in header.msgstr
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header.msgstr
    assert "Content-Type: text/plain; charset=UTF-8" in header.msgstr


def test_translations_keep_every_placeholder_and_tag(catalogue):
    problems = [p for entry in catalogue.values() for p in pofile.placeholder_problems(entry)]
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize(
    ("msgid", "msgstr", "flags"),
    [
        ("Visit %(visit)s is overdue.", "ویزیت عقب‌افتاده است.", {"python-format"}),
        ("Visit %(visit)s is overdue.", "ویزیت %(vist)s عقب‌افتاده است.", {"python-format"}),
        ("%(n)d of %(t)d", "%(n)s از %(t)d", {"python-format"}),
        ("%s saved", "ذخیره شد", {"python-format"}),
        ("%s saved", "%s %s ذخیره شد", {"python-format"}),
        ("Month {months}", "ماه", {"python-brace-format"}),
        ("Month {months}", "ماه {month}", {"python-brace-format"}),
        ("Send <code>Token</code>", "بفرستید Token", set()),
        ("Send <code>Token</code>", "<code>Token</code> را <b>بفرستید</b>", set()),
    ],
)
def test_the_placeholder_check_finds_a_dropped_or_added_placeholder(msgid, msgstr, flags):
    entry = pofile.Entry(msgid=msgid, msgstr=msgstr, flags=flags)
    assert pofile.placeholder_problems(entry)


def test_the_placeholder_check_accepts_reordered_named_placeholders_and_plurals():
    reordered = pofile.Entry(
        msgid="%(a)s at %(b)s", msgstr="در %(b)s، %(a)s", flags={"python-format"}
    )
    assert not pofile.placeholder_problems(reordered)
    plural = pofile.Entry(
        msgid="%(n)s open query",
        msgid_plural="%(n)s open queries",
        msgstr_plural={0: "%(n)s پرسش داده باز", 1: "%(n)s پرسش داده باز"},
        flags={"python-format"},
    )
    assert not pofile.placeholder_problems(plural)
    dropped = pofile.Entry(
        msgid="%(n)s open query",
        msgid_plural="%(n)s open queries",
        msgstr_plural={0: "%(n)s پرسش داده باز", 1: "پرسش‌های داده باز"},
        flags={"python-format"},
    )
    assert pofile.placeholder_problems(dropped)


def _mo_catalog() -> dict[object, str]:
    with MO.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


def _po_catalog(entries: list[pofile.Entry]) -> dict[object, str]:
    """What msgfmt writes for these entries, keyed as Python's gettext reads a .mo."""
    catalog: dict[object, str] = {}
    for entry in entries:
        if "fuzzy" in entry.flags and entry.msgid:
            continue
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is not None:
            if entry.translated:
                for index, text in entry.msgstr_plural.items():
                    catalog[(msgid, index)] = text
        elif entry.msgstr:
            catalog[msgid] = entry.msgstr
    return catalog


def test_the_compiled_catalogue_is_up_to_date_with_the_po():
    """A fresh machine may have no msgfmt: the .mo is committed, and must match the .po."""
    assert MO.exists(), "locale/fa/LC_MESSAGES/django.mo is missing: run `make messages`"
    po_catalog = _po_catalog(pofile.parse(PO))
    mo_catalog = _mo_catalog()
    po_catalog.pop("", None)
    mo_catalog.pop("", None)
    differ = sorted(str(k) for k in po_catalog.keys() ^ mo_catalog.keys())
    assert not differ, f"the .mo is stale (run `make messages`): {differ[:10]}"
    changed = sorted(str(k) for k in po_catalog if po_catalog[k] != mo_catalog[k])
    assert not changed, f"the .mo is stale (run `make messages`): {changed[:10]}"


def test_django_serves_the_persian_catalogue():
    with translation.override("fa"):
        assert translation.gettext("Participant") == "شرکت‌کننده"
        assert translation.gettext("Adverse event") == "عارضه جانبی"
        assert translation.ngettext("%(n)s open query", "%(n)s open queries", 3) % {"n": 3} == (
            "3 پرسش داده باز"
        )
    with translation.override("en"):
        assert translation.gettext("Participant") == "Participant"


def test_a_persian_page_is_in_persian(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fa")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="fa"' in html
    assert "گذرواژه خود را فراموش کرده‌اید؟" in html
    assert "Forgotten your password?" not in html


def _glossary() -> list[tuple[list[str], list[str]]]:
    rows = []
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    start = lines.index("| English | Persian | Note |") + 2
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        english, persian = (cell.strip() for cell in line.strip("|").split("|")[:2])
        rows.append(
            ([form.strip() for form in english.split(",")], [f.strip() for f in persian.split("/")])
        )
    return rows


PLACEHOLDER = re.compile(r"%\([^)]*\)[#0\- +]*\d*(?:\.\d+)?[a-zA-Z]|\{[A-Za-z_]*\}")


def test_clinical_terms_are_translated_as_the_glossary_says(catalogue):
    rows = _glossary()
    assert len(rows) >= 20
    inconsistent = []
    for english, persian in rows:
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, english)) + r")\b", re.IGNORECASE)
        for entry in catalogue.values():
            source = PLACEHOLDER.sub("", f"{entry.msgid} {entry.msgid_plural or ''}")
            if pattern.search(source):
                inconsistent += [
                    f"{english[0]!r} in {entry.msgid!r}: {text!r} has none of {persian}"
                    for text in entry.translations
                    if not any(form in text for form in persian)
                ]
    assert not inconsistent, "\n".join(inconsistent[:30])
