"""The codebook: every variable of every file, its label, type, code list and derivation,
and the name mappings (at most 32 characters in every file; 8 in SAS transport files)."""

from __future__ import annotations

import csv
import io
import json

from exports.variables import TEXT, Table, neutralise_formula

COLUMNS = [
    "file",
    "variable",
    "long_name",
    "pro_act_alias",
    "label",
    "type",
    "role",
    "visit",
    "code_list",
    "codes",
    "numeric_codes",
    "source",
    "derivation",
    "sas_name",  # the variable's name in the SAS transport (.xpt) files
]


def _codes(variable) -> tuple[str, str]:
    codelist = variable.codelist
    if codelist is None:
        return "", ""
    text = "; ".join(f"{code}={label}" for code, label in codelist.items)
    numeric = ""
    if codelist.kind == TEXT:
        numeric = "; ".join(
            f"{codelist.numeric_codes[code]}={code}" for code, _label in codelist.items
        )
    return text, numeric


def codebook_rows(tables: list[Table], *, header: bool = False) -> list[list[str]]:
    rows = [list(COLUMNS)] if header else []
    for table in tables:
        for v in table.variables:
            codes, numeric = _codes(v)
            rows.append(
                [
                    table.name,
                    v.short,
                    v.name,
                    v.alias,
                    v.label,
                    v.kind,
                    v.role,
                    v.visit,
                    v.codelist.name if v.codelist else "",
                    codes,
                    numeric,
                    v.source,
                    v.derivation,
                    v.sas,
                ]
            )
    return rows


def codebook_csv(tables: list[Table]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in codebook_rows(tables, header=True):
        writer.writerow([neutralise_formula(cell) for cell in row])
    return buffer.getvalue()


def codebook_json(tables: list[Table]) -> str:
    data = {
        "tables": [
            {
                "name": t.name,
                "label": t.label,
                "notes": t.notes,
                "variables": [dict(zip(COLUMNS[1:], row[1:], strict=True)) for row in rows],
            }
            for t in tables
            for rows in [codebook_rows([t])]
        ],
        "code_lists": {
            v.codelist.name: {
                "type": v.codelist.kind,
                "items": [
                    {
                        "code": code,
                        "label": label,
                        "numeric_code": v.codelist.numeric_codes[code],
                    }
                    for code, label in v.codelist.items
                ],
            }
            for t in tables
            for v in t.variables
            if v.codelist is not None
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n"
