"""The catalogue of entry forms: protocol form code → model, entry form, template.

Built on first use (not at import) because the models need the app registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.utils.text import capfirst

from visits.crfs.base import FormRecord, FormRecordForm


@dataclass(frozen=True)
class FormSpec:
    code: str
    model: type[FormRecord]
    form_class: type[FormRecordForm]
    template: str = "visits/crfs/form.html"

    @property
    def title(self) -> str:
        return capfirst(str(self.model._meta.verbose_name))


@cache
def entry_forms() -> dict[str, FormSpec]:
    from visits.crfs import alsfrs_r, eligibility, emg, fvc, qol, vitals

    specs = [
        FormSpec("alsfrs_r", alsfrs_r.AlsfrsR, alsfrs_r.AlsfrsRForm),
        FormSpec("fvc", fvc.Fvc, fvc.FvcForm, "visits/crfs/fvc.html"),
        FormSpec("vitals", vitals.Vitals, vitals.VitalsForm, "visits/crfs/vitals.html"),
        FormSpec("emg", emg.Emg, emg.EmgForm, "visits/crfs/emg.html"),
        FormSpec("alsaq40", qol.Alsaq40, qol.Alsaq40Form, "visits/crfs/alsaq40.html"),
        FormSpec("seiqol", qol.Seiqol, qol.SeiqolForm, "visits/crfs/seiqol.html"),
        FormSpec(
            "eligibility",
            eligibility.Eligibility,
            eligibility.EligibilityForm,
            "visits/crfs/eligibility.html",
        ),
    ]
    return {spec.code: spec for spec in specs}


def get(code: str) -> FormSpec | None:
    return entry_forms().get(code)
