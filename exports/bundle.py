"""The export bundle: data files, codebook, manifest.json and a README in one zip.

The data files and codebook are deterministic (same options on unchanged data →
identical sha256); only manifest.json says who ran the export and when. The zip's
entries are sorted and carry a fixed date.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation

from exports import codebook, files, tables
from exports.options import ExportOptions
from exports.writers import write
from participants.choices import ParticipantStatus
from trials.models import Site, Trial

README_NAME = "README.txt"


@cache
def software_version() -> str:
    pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


@dataclass
class Result:
    manifest: dict[str, Any]
    row_counts: dict[str, int]
    path: Path


def _rows_text(rows: dict[str, int]) -> str:
    """'2 rows' for a file of one table, 'participants: 3 rows; alsfrs_r: 9 rows' for more."""

    def count(n: int) -> str:
        return f"{n} row" if n == 1 else f"{n} rows"

    if len(rows) == 1:
        return count(next(iter(rows.values())))
    return "; ".join(f"{name}: {count(n)}" for name, n in rows.items())


def _readme(options: ExportOptions, table_list: list[tables.Table], manifest: dict) -> str:
    from exports.writers.stats import PART_ROWS as part_rows  # pandas: only when writing

    de_id = (
        "De-identified: the participant identity (name, national ID, contact details, date "
        "of birth: the age at screening stays), free-text answers (with their missing reasons), screening numbers, times of day and "
        "user names are left out; "
        + (
            "study IDs are replaced by pseudonyms that hold for this export's choices only; "
            if options.pseudonymise
            else "study IDs are kept; "
        )
        + (
            "every date is given as days from the participant's transplantation (empty "
            "before a transplantation is recorded)."
            if options.date_mode == "days"
            else "every date of a participant is shifted by the same random number of days "
            "(between -182 and +182, never 0), so intervals within a participant hold."
        )
        if options.deidentify
        else "Identified: study IDs and dates as recorded"
        + (
            ", with the participant identity and date of birth."
            if options.identifiers
            else ", without the identity and the date of birth (the age at screening stays)."
        )
    )
    lines = [
        f"ALS eCRF dataset export — {manifest['study']['nct_id']} (protocol version "
        f"{manifest['study']['protocol_version']})",
        "",
        f"Format: {options.fmt}; layout: {options.layout}"
        + (" (ODM nests data by subject, visit and form)" if options.fmt == "odm" else ""),
        de_id,
        "",
        "Files",
        "-----",
    ]
    for entry in manifest["files"]:
        rows = entry.get("rows")
        lines.append(f"{entry['path']}" + (f"  ({_rows_text(rows)})" if rows else ""))
    lines += [
        "",
        "Conventions",
        "-----------",
        "- codebook.csv / codebook.json list every variable: the name written to the files",
        "  (at most 32 characters; a longer name is cut word by word, keeping the start of",
        "  each word, and the long name stays in the codebook), its label, type, code list",
        "  and derivation.",
        "- A missing answer is empty in its column; its reason (not_done, not_applicable,",
        "  unknown, refused) is in <variable>_miss. No magic values in data columns.",
        "- PRO-ACT names (when asked for) are used as they are where they fit; otherwise the",
        "  eCRF name is used and the codebook's pro_act_alias column gives the PRO-ACT name.",
        "- CSV and Excel files: text that starts with =, +, -, @, a tab, a carriage return",
        "  or a single quote is written with one more single quote in front, so no",
        "  spreadsheet runs it as a formula (OWASP's advice against CSV injection). To get",
        "  the recorded text back, remove the first character of every text value that",
        "  starts with a single quote. Numeric columns (negative numbers too) are unchanged;",
        "  SPSS, Stata, SAS and ODM files carry the text as recorded.",
        "- Eligibility: one column per criterion, crit_<criterion>, coded pass / fail /",
        "  unknown (value labels in SPSS and Stata, codes in the codebook).",
        "- Partial dates are a date (the first day of the period) plus <name>_precision.",
        "  De-identified by shifting, an adverse event's or medication's partial date is",
        "  shifted, then brought back to the first day of its month or year.",
        "  Precision jmon / jyear: a Jalali (Solar Hijri) month or year, typed in that",
        "  calendar; the date is the Gregorian day its Jalali period starts (1404 is",
        "  2025-03-21 to 2026-03-20: no Gregorian month or year holds it). Imputed, as",
        "  for delta-FS, at the middle: the Jalali month's 15th, the Jalali year's first day +",
        "  182 days (28 Shahrivar), as the 15th and 1 July for Gregorian months and years.",
        "  A shifted Jalali period is not brought back to a period's first day.",
        "- adverse_events and conmeds: one row per event or medication (long in every",
        "  layout) at the visit it was reported at; term_code is coded with the shipped",
        "  CTCAE v5.0 list (codebook), inv_* columns are the investigator's latest signed",
        "  assessment; safety_review: each visit's 'nothing since the last visit' answers.",
        "- Visit columns: target_date, actual_date, days_from_tx (visit date minus",
        "  transplantation date), days_off_target (visit date minus target date),",
        "  in_window (1 when the visit date lies within the protocol window).",
        "- In SPSS, Stata and SAS files coded text (form status, missing reasons, ...) is",
        "  stored as integers 1..n with value labels; codebook 'numeric_codes' gives the map.",
        "  SAS transport files have no value labels: run data/formats.sas.",
        "- SAS transport files are XPORT version 5: variable and dataset names of at most",
        "  8 characters (the codebook's sas_name column maps them; a final M marks a",
        "  missing reason, a visit code ends a wide-layout name) and labels of at most 40.",
        "  pandas.read_sas reads an exact zero of such a file as 5.4e-79 (pandas issue",
        "  50670): round the values, or read the files with pyreadstat.read_xport.",
        f"- SPSS, Stata and SAS files of a table longer than {part_rows:,} rows come in parts",
        "  (<table>.sav, <table>_part2.sav, ...): append them in order. In Excel a table",
        "  longer than a sheet goes on in the sheet <table>~2, <table>~3, ...",
        "- audit_log: one row per changed field of every audited record (forms, visit",
        "  dates, participants, consents, transplantation, end of study, ...): old_value and",
        "  new_value as text in the data files' coding; value_withheld = 1 where this export",
        "  leaves the field's values out.",
        "- queries, sdv, signatures, locks (when asked for; not in ODM): one row per query,",
        "  source data verification, record an e-signature covers, and lock. record_type is",
        "  coded with the reviewable record types; record_id is the record's id (de-identified:",
        "  the audit log's pseudonymous key of the same record, so the files join). Moments are",
        "  ISO 8601 UTC text (de-identified: <name>_on, a date shifted or in days like the",
        "  others). queries.age_days counts to the closing, or to the export while unresolved.",
        "  De-identified: no message text, lock reasons, user names or event numbers, and",
        "  participants' locks only (a site's lock has no participant to shift its dates by).",
        "- Wide layout: one row per participant and form; visit variables end in _<VISIT>",
        "  (their missing reasons in _<VISIT>_miss);",
        "  unscheduled visits and per-row child tables appear in the long layout only.",
        "- manifest.json: who exported what and when, the filters, row counts and the",
        "  sha256 of each file. Re-running the same export on unchanged data gives the",
        "  same data files (identical sha256); only the manifest differs.",
        "",
    ]
    for table in table_list:
        for note in table.notes:
            lines.append(f"{table.name}: {note}")
    return "\n".join(lines) + "\n"


def _study(options: ExportOptions) -> dict[str, str]:
    trial = (
        Trial.objects.filter(participants__site_id__in=options.site_ids).order_by("nct_id").first()
        or Trial.objects.order_by("nct_id").first()
    )
    if trial is None:
        return {"nct_id": "", "title": "", "protocol_version": ""}
    return {
        "nct_id": trial.nct_id,
        "title": trial.title,
        "protocol_version": trial.protocol_version,
    }


def _filters(options: ExportOptions) -> dict[str, Any]:
    data = options.to_json()
    data["sites"] = list(
        Site.objects.filter(pk__in=options.site_ids).order_by("code").values_list("code", flat=True)
    )
    del data["site_ids"]
    return data


def _snapshot():
    """One consistent snapshot for every query of the export (when we own the transaction)."""
    atomic = transaction.atomic()
    owns = not connection.in_atomic_block
    atomic.__enter__()
    if owns:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    return atomic


def build_bundle(
    options: ExportOptions,
    output: Path,
    *,
    requested_by: str,
    progress: Callable[[int], None] = lambda percent: None,
) -> Result:
    """Write the zip for `options` to `output`; `progress` gets whole percentages."""
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="export-", dir=output.parent))
    try:
        with translation.override(settings.LANGUAGE_CODE):
            atomic = _snapshot()
            try:
                table_list = tables.build_tables(options)
                total = sum(tables.count_rows(t) for t in table_list) or 1
                done = 0
                last = -1

                def rows_written(n: int) -> None:
                    nonlocal done, last
                    done += n
                    percent = min(99, done * 100 // total)
                    if percent != last:
                        last = percent
                        progress(percent)

                (work / "data").mkdir()
                study = _study(options)
                created = tables.data_as_of(options)
                context = {
                    "study_oid": study["nct_id"] or "STUDY",
                    "study_name": study["nct_id"] or "STUDY",
                    "description": study["title"] or "-",
                    "mdv_oid": f"MDV.{study['protocol_version'] or '1'}",
                    "mdv_name": f"Protocol version {study['protocol_version'] or '1'}",
                    "mdv_description": "ALS eCRF export",
                    "file_oid": f"ECRF.{options.fingerprint()[:16]}",
                    "created": created,
                    "originator": "ALS eCRF",
                    "software_version": software_version(),
                    "visits": options.visits,
                    "site_names": dict(
                        Site.objects.filter(pk__in=options.site_ids).values_list("code", "name")
                    ),
                }
                written = write(options.fmt, table_list, work, rows_written, context=context)
            finally:
                atomic.__exit__(None, None, None)
            (work / "codebook.csv").write_text(codebook.codebook_csv(table_list), encoding="utf-8")
            (work / "codebook.json").write_text(
                codebook.codebook_json(table_list), encoding="utf-8"
            )
            row_counts: dict[str, int] = {}
            entries: list[dict[str, Any]] = []
            for item in written:
                for name, rows in item.rows.items():  # a table written in parts: their sum
                    row_counts[name] = row_counts.get(name, 0) + rows
                entries.append(
                    {
                        "path": item.path,
                        "sha256": files.sha256_file(work / item.path),
                        "bytes": (work / item.path).stat().st_size,
                        "rows": item.rows or None,
                    }
                )
            for name in ("codebook.csv", "codebook.json"):
                entries.append(
                    {
                        "path": name,
                        "sha256": files.sha256_file(work / name),
                        "bytes": (work / name).stat().st_size,
                        "rows": None,
                    }
                )
            manifest: dict[str, Any] = {
                "who": requested_by,
                "when": datetime.now(tz=UTC).replace(microsecond=0).isoformat(),
                "data_as_of": created,
                "study": study,
                "software": {"name": "als-ecrf", "version": software_version()},
                "filters": _filters(options),
                "participant_statuses": {
                    s: str(ParticipantStatus(s).label) for s in options.statuses
                },
                "files": sorted(entries, key=lambda e: e["path"]),
            }
            readme = _readme(options, table_list, manifest)
            (work / README_NAME).write_text(readme, encoding="utf-8")
            manifest["files"].append(
                {
                    "path": README_NAME,
                    "sha256": files.sha256_file(work / README_NAME),
                    "bytes": (work / README_NAME).stat().st_size,
                    "rows": None,
                }
            )
            manifest["files"].sort(key=lambda e: e["path"])
            (work / "manifest.json").write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                encoding="utf-8",
            )
        partial = output.with_name(output.name + ".part")
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            names = [e["path"] for e in manifest["files"]] + ["manifest.json"]
            for name in sorted(names):
                files.add_file(archive, work / name, name)
        partial.replace(output)
        progress(100)
        return Result(manifest=manifest, row_counts=row_counts, path=output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
