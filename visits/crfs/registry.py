"""The catalogue of entry forms: protocol form code → model, entry form, template.

Built on first use (not at import) because the models need the app registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from visits.crfs.base import FormRecord, FormRecordForm


@dataclass(frozen=True)
class FormSpec:
    code: str
    model: type[FormRecord]
    form_class: type[FormRecordForm]
    template: str = "visits/crfs/form.html"

    @property
    def title(self) -> str:
        return str(self.model._meta.verbose_name)


@cache
def entry_forms() -> dict[str, FormSpec]:
    from visits.crfs import alsfrs_r, emg, qol

    specs = [
        FormSpec("alsfrs_r", alsfrs_r.AlsfrsR, alsfrs_r.AlsfrsRForm),
        FormSpec("emg", emg.Emg, emg.EmgForm, "visits/crfs/emg.html"),
        FormSpec("alsaq40", qol.Alsaq40, qol.Alsaq40Form, "visits/crfs/alsaq40.html"),
        FormSpec("seiqol", qol.Seiqol, qol.SeiqolForm, "visits/crfs/seiqol.html"),
    ]
    return {spec.code: spec for spec in specs}


def get(code: str) -> FormSpec | None:
    return entry_forms().get(code)
