"""What an export contains: the options an investigator chooses, as one frozen value."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

FORMATS = ("csv", "xlsx", "sav", "dta", "xpt", "odm")
LAYOUTS = ("long", "wide")
DATE_MODES = ("shift", "days")
PARTICIPANTS_TABLE = "participants"
REVIEW_TABLES = ("queries", "sdv", "signatures", "locks")  # optional, exports.review_tables


@dataclass(frozen=True)
class ExportOptions:
    forms: tuple[str, ...]  # registry form codes, plus "participants" for subject-level data
    visits: tuple[str, ...]  # visit codes (UNS for unscheduled visits)
    site_ids: tuple[int, ...]
    statuses: tuple[str, ...]  # participant statuses
    fmt: str = "csv"
    layout: str = "long"
    deidentify: bool = False
    pseudonymise: bool = False  # de-identified only: study ID → per-export pseudonym
    date_mode: str = "shift"  # de-identified only: random per-participant shift, or days from TX
    derived: bool = True
    audit: bool = False
    proact: bool = False  # PRO-ACT alias names for ALSFRS-R and FVC variables
    identifiers: bool = False  # identified exports only: the identity model (names, IDs, phone)
    # Review tables (exports.review_tables: queries, sdv, signatures, locks); none by default.
    review: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown format {self.fmt!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}")
        if self.date_mode not in DATE_MODES:
            raise ValueError(f"unknown date mode {self.date_mode!r}")
        unknown = set(self.review) - set(REVIEW_TABLES)
        if unknown:
            raise ValueError(f"unknown review tables {sorted(unknown)!r}")
        if self.deidentify and self.identifiers:
            raise ValueError("a de-identified export cannot carry identifiers")
        # Canonical order, so equal choices give equal fingerprints (and equal files).
        for name in ("forms", "visits", "statuses", "review"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))
        object.__setattr__(self, "site_ids", tuple(sorted({int(s) for s in self.site_ids})))

    def to_json(self) -> dict:
        data = asdict(self)
        for name in ("forms", "visits", "site_ids", "statuses", "review"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict) -> ExportOptions:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("forms", "visits", "site_ids", "statuses", "review"):
            values[name] = tuple(values.get(name, ()))
        return cls(**values)

    def fingerprint(self, *, content_only: bool = False) -> str:
        """A stable hash of the choices (content_only: ignoring file format and layout)."""
        data = self.to_json()
        if content_only:
            data.pop("fmt")
            data.pop("layout")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
