"""CDISC ODM 1.3.2 XML: metadata (Study / MetaDataVersion with StudyEventDef, FormDef,
ItemGroupDef, ItemDef, CodeList), sites and users (AdminData), and clinical data
(SubjectData / StudyEventData / FormData / ItemGroupData / ItemData), with the last
change of each form at each visit as its AuditRecord when the audit log is asked for
(identified exports only; the full log is in the other formats). Validates against the official schema that odmlib ships.

Rows of every table are merged in one pass (heapq.merge over the server-side
cursors, all ordered by subject, visit, form), so a subject's data nests without
holding the study in memory. The layout option does not apply: ODM nests data.
"""

from __future__ import annotations

import heapq
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO

from exports.options import PARTICIPANTS_TABLE
from exports.tables import AUDIT_TABLE, HIDDEN, SUBJECT_EVENT, stream_rows, visit_codelist
from exports.variables import BOOLEAN, DATE, DATETIME, DECIMAL, FLOAT, INTEGER, Table
from exports.writers import Progress, Written

NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
FILE = "data/dataset.odm.xml"
DATA_TYPES = {
    INTEGER: "integer",
    BOOLEAN: "integer",
    FLOAT: "float",
    DECIMAL: "float",
    DATE: "date",
    DATETIME: "datetime",
}
STRUCTURAL = {"study_id", "site", "visit", "visit_seq", "row_no"}
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def esc(value: Any) -> str:
    text = _INVALID_XML.sub("", str(value))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def odm_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def oid(*parts: str) -> str:
    return ".".join(re.sub(r"[^A-Za-z0-9_\-]", "_", p) for p in parts)


def text(label: str) -> str:
    return f'<TranslatedText xml:lang="en">{esc(label)}</TranslatedText>'


def _items(table: Table) -> list[tuple[int, Any]]:
    return [(i, v) for i, v in enumerate(table.variables) if v.name not in STRUCTURAL]


def write_metadata(out: TextIO, tables: list[Table], context: dict) -> None:
    study, mdv = context["study_oid"], context["mdv_oid"]
    out.write(f'<Study OID="{esc(study)}">')
    out.write(
        f"<GlobalVariables><StudyName>{esc(context['study_name'])}</StudyName>"
        f"<StudyDescription>{esc(context['description'])}</StudyDescription>"
        f"<ProtocolName>{esc(study)}</ProtocolName></GlobalVariables>"
    )
    out.write(
        f'<MetaDataVersion OID="{esc(mdv)}" Name="{esc(context["mdv_name"])}"'
        f' Description="{esc(context["mdv_description"])}">'
    )
    data_tables = [t for t in tables if t.name != AUDIT_TABLE]
    # A form is a table of its own (a child table's rows go in its parent's form); the
    # safety logs are forms whose one item group repeats, once per event or medication.
    forms = [t for t in data_tables if not t.parent and t.name != PARTICIPANTS_TABLE]
    events: list[tuple[str, str, bool]] = []
    if any(t.name == PARTICIPANTS_TABLE for t in data_tables):
        events.append((SUBJECT_EVENT, "Participant", False))
    for code, label in visit_codelist().items:
        if code in context["visits"]:
            events.append((code, label, code == "UNS"))
    out.write("<Protocol>")
    for order, (code, _label, _rep) in enumerate(events, start=1):
        out.write(
            f'<StudyEventRef StudyEventOID="{oid("SE", code)}" OrderNumber="{order}"'
            f' Mandatory="No"/>'
        )
    out.write("</Protocol>")
    for code, label, repeating in events:
        out.write(
            f'<StudyEventDef OID="{oid("SE", code)}" Name="{esc(label)}"'
            f' Repeating="{"Yes" if repeating else "No"}"'
            f' Type="{"Common" if code == SUBJECT_EVENT else ("Unscheduled" if repeating else "Scheduled")}">'
        )
        refs = (
            [t for t in data_tables if t.name == PARTICIPANTS_TABLE]
            if code == SUBJECT_EVENT
            else forms
        )
        for order, table in enumerate(refs, start=1):
            out.write(
                f'<FormRef FormOID="{oid("F", table.form_code)}" OrderNumber="{order}"'
                f' Mandatory="No"/>'
            )
        out.write("</StudyEventDef>")
    for table in [t for t in data_tables if not t.parent]:
        out.write(
            f'<FormDef OID="{oid("F", table.form_code)}" Name="{esc(table.label)}" Repeating="No">'
        )
        groups = [table] + [t for t in data_tables if t.parent == table.form_code]
        for order, group in enumerate(groups, start=1):
            out.write(
                f'<ItemGroupRef ItemGroupOID="{oid("IG", group.group)}" OrderNumber="{order}"'
                f' Mandatory="{"Yes" if group is table else "No"}"/>'
            )
        out.write("</FormDef>")
    for table in data_tables:
        out.write(
            f'<ItemGroupDef OID="{oid("IG", table.group)}" Name="{esc(table.label)}"'
            f' Repeating="{"Yes" if table.repeating else "No"}">'
        )
        for order, (_i, variable) in enumerate(_items(table), start=1):
            out.write(
                f'<ItemRef ItemOID="{oid("IT", table.name, variable.short)}"'
                f' OrderNumber="{order}" Mandatory="No"/>'
            )
        out.write("</ItemGroupDef>")
    codelists: dict[str, Any] = {}
    for table in data_tables:
        for _i, variable in _items(table):
            data_type = DATA_TYPES.get(variable.kind, "text")
            out.write(
                f'<ItemDef OID="{oid("IT", table.name, variable.short)}"'
                f' Name="{esc(variable.short)}" DataType="{data_type}">'
            )
            out.write(f"<Description>{text(variable.label)}</Description>")
            if variable.codelist is not None:
                codelists[variable.codelist.name] = variable.codelist
                out.write(f'<CodeListRef CodeListOID="{oid("CL", variable.codelist.name)}"/>')
            if variable.name != variable.short:
                out.write(f'<Alias Context="ecrf_long_name" Name="{esc(variable.name)}"/>')
            if variable.alias:
                out.write(f'<Alias Context="PRO-ACT" Name="{esc(variable.alias)}"/>')
            out.write("</ItemDef>")
    for name in sorted(codelists):
        codelist = codelists[name]
        data_type = "text" if codelist.kind == "text" else "integer"
        out.write(f'<CodeList OID="{oid("CL", name)}" Name="{esc(name)}" DataType="{data_type}">')
        for code, label in codelist.items:
            out.write(
                f'<CodeListItem CodedValue="{esc(odm_value(code))}">'
                f"<Decode>{text(label)}</Decode></CodeListItem>"
            )
        out.write("</CodeList>")
    out.write("</MetaDataVersion></Study>")


def _merged(tables: list[Table], form_order: dict[str, int]) -> Iterator[tuple]:
    """(key, table index, row) over every table, in subject → visit → form → group order."""

    def keyed(index: int, table: Table):
        form_index = form_order.get(table.form_code, 0)
        group = 1 + int(table.repeating)
        form_column = next((i for i, v in enumerate(table.variables) if v.name == "form"), None)
        for row in stream_rows(table):
            if table.name == AUDIT_TABLE:
                assert form_column is not None  # the audit table names each row's form
                # Only the changes of a form in the file give its AuditRecord; every audit
                # row of a visit comes before its forms (-1), in the log's own order.
                if row[HIDDEN + form_column] not in form_order:
                    continue
                yield (row[0], row[1], row[2], row[3], -1, 0, 0), index, row
                continue
            yield (row[0], row[1], row[2], row[3], form_index, group, row[5]), index, row

    streams = [keyed(i, t) for i, t in enumerate(tables)]
    return heapq.merge(*streams, key=lambda item: item[0])


def write_clinical(
    out: TextIO, tables: list[Table], context: dict, progress: Progress
) -> tuple[dict[str, int], set[str], dict[str, str]]:
    counts = {t.name: 0 for t in tables}
    users: set[str] = set()
    sites: dict[str, str] = {}
    form_order = {t.form_code: i for i, t in enumerate(tables) if t.form_code}
    audit_index = next((i for i, t in enumerate(tables) if t.name == AUDIT_TABLE), None)
    audit_vars = (
        {v.name: i for i, v in enumerate(tables[audit_index].variables)}
        if audit_index is not None
        else {}
    )
    with_audit = audit_index is not None and "changed_by" in audit_vars
    items = {i: _items(t) for i, t in enumerate(tables)}
    site_column = {
        i: next(j for j, v in enumerate(t.variables) if v.name == "site")
        for i, t in enumerate(tables)
    }
    subject_column = {
        i: next(j for j, v in enumerate(t.variables) if v.name == "study_id")
        for i, t in enumerate(tables)
    }
    out.write(
        f'<ClinicalData StudyOID="{esc(context["study_oid"])}"'
        f' MetaDataVersionOID="{esc(context["mdv_oid"])}">'
    )
    pending = 0
    for _subject, subject_rows in groupby(
        _merged(tables, form_order), key=lambda item: (item[0][0], item[0][1])
    ):
        subject_rows = list_iter(subject_rows)
        first = subject_rows.peek()
        _key, index, row = first
        subject_key = row[HIDDEN + subject_column[index]]
        site = row[HIDDEN + site_column[index]]
        sites[site] = site
        out.write(f'<SubjectData SubjectKey="{esc(subject_key)}">')
        out.write(f'<SiteRef LocationOID="{oid("LOC", site)}"/>')
        for (_vpos, _vseq), visit_rows in groupby(
            subject_rows, key=lambda item: (item[0][2], item[0][3])
        ):
            visit_rows = list_iter(visit_rows)
            _key, _index, row = visit_rows.peek()
            code, seq = row[4], row[3]
            repeat = f' StudyEventRepeatKey="{seq}"' if code == "UNS" else ""
            out.write(f'<StudyEventData StudyEventOID="{oid("SE", code)}"{repeat}>')
            last_audit: dict[str, tuple] = {}  # form code → its latest change at this visit
            for form_index, form_rows in groupby(visit_rows, key=lambda item: item[0][4]):
                opened = False
                for _key, index, row in form_rows:
                    pending += 1
                    if index == audit_index:
                        last_audit[row[HIDDEN + audit_vars["form"]]] = row
                        continue
                    table = tables[index]
                    counts[table.name] += 1
                    if not opened:
                        out.write(f'<FormData FormOID="{oid("F", table.form_code)}">')
                        audit = last_audit.get(table.form_code)
                        if with_audit and audit is not None:
                            users.add(audit[HIDDEN + audit_vars["changed_by"]] or "system")
                            write_audit(out, audit, audit_vars, site)
                            counts[AUDIT_TABLE] += 1  # the log's rows in ODM
                        opened = True
                    repeat_key = f' ItemGroupRepeatKey="{row[5]}"' if table.repeating else ""
                    out.write(
                        f'<ItemGroupData ItemGroupOID="{oid("IG", table.group)}"{repeat_key}>'
                    )
                    for i, variable in items[index]:
                        value = row[HIDDEN + i]
                        if value is None or value == "":
                            continue
                        out.write(
                            f'<ItemData ItemOID="{oid("IT", table.name, variable.short)}"'
                            f' Value="{esc(odm_value(value))}"/>'
                        )
                    out.write("</ItemGroupData>")
                if opened:
                    out.write("</FormData>")
                del form_index
            out.write("</StudyEventData>")
        out.write("</SubjectData>\n")
        if pending >= 5000:
            progress(pending)
            pending = 0
    progress(pending)
    out.write("</ClinicalData>")
    return counts, users, sites


def write_audit(out: TextIO, row: tuple, columns: dict[str, int], site: str) -> None:
    user = row[HIDDEN + columns["changed_by"]] or "system"
    reason = row[HIDDEN + columns["reason"]]
    out.write(
        f'<AuditRecord><UserRef UserOID="{oid("USR", user)}"/>'
        f'<LocationRef LocationOID="{oid("LOC", site)}"/>'
        f"<DateTimeStamp>{esc(row[HIDDEN + columns['changed_at']])}</DateTimeStamp>"
    )
    if reason:
        out.write(f"<ReasonForChange>{esc(reason)}</ReasonForChange>")
    out.write("</AuditRecord>")


class list_iter:
    def __init__(self, iterable):
        self._it = iter(iterable)
        self._head: list = []

    def peek(self):
        if not self._head:
            self._head.append(next(self._it))
        return self._head[0]

    def __iter__(self):
        return self

    def __next__(self):
        if self._head:
            return self._head.pop()
        return next(self._it)


def write_admin(out: TextIO, context: dict, sites: dict[str, str], users: set[str]) -> None:
    if not sites and not users:
        return
    out.write("<AdminData>")
    for user in sorted(users):
        out.write(f'<User OID="{oid("USR", user)}"><LoginName>{esc(user)}</LoginName></User>')
    for code in sorted(set(sites) | set(context["site_names"])):
        out.write(
            f'<Location OID="{oid("LOC", code)}" Name="{esc(context["site_names"].get(code, code))}"'
            f' LocationType="Site"><MetaDataVersionRef StudyOID="{esc(context["study_oid"])}"'
            f' MetaDataVersionOID="{esc(context["mdv_oid"])}"'
            f' EffectiveDate="{context["created"][:10]}"/></Location>'
        )
    out.write("</AdminData>")


def write_odm(
    tables: list[Table], folder: Path, progress: Progress, *, context: dict
) -> list[Written]:
    path = folder / FILE
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=folder) as clinical:
        counts, users, sites = write_clinical(clinical, tables, context, progress)
        clinical.seek(0)
        with path.open("w", encoding="utf-8", newline="\n") as out:
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            out.write(
                f'<ODM xmlns="{NAMESPACE}" FileType="Snapshot" Granularity="All"'
                f' FileOID="{esc(context["file_oid"])}" CreationDateTime="{context["created"]}"'
                f' AsOfDateTime="{context["created"]}" ODMVersion="1.3.2"'
                f' Originator="{esc(context["originator"])}" SourceSystem="ALS eCRF"'
                f' SourceSystemVersion="{esc(context["software_version"])}">\n'
            )
            write_metadata(out, tables, context)
            out.write("\n")
            write_admin(out, context, sites, users)
            out.write("\n")
            shutil.copyfileobj(clinical, out, 1 << 20)
            out.write("\n</ODM>\n")
    return [Written(FILE, counts)]


def validate_odm(path: Path) -> list[str]:
    """Errors of the file against the ODM 1.3.2 schema shipped with odmlib ([] when valid)."""
    from odmlib.odm_parser import ODMSchemaValidator

    validator = ODMSchemaValidator(standard="odm", version="1.3.2")
    return [str(error) for error in validator.xsd.iter_errors(str(path))]
