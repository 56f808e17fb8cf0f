"""The catalogue of entry forms: protocol form code → model, entry form, template.

Built on first use (not at import) because the models need the app registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.utils.text import capfirst

from crfs.base import FormRecord, FormRecordForm


@dataclass(frozen=True)
class FormSpec:
    code: str
    model: type[FormRecord]
    form_class: type[FormRecordForm]
    template: str = "crfs/form.html"

    @property
    def title(self) -> str:
        return capfirst(str(self.model._meta.verbose_name))


@cache
def entry_forms() -> dict[str, FormSpec]:
    from crfs.alsfrs_r import models as alsfrs_r
    from crfs.eligibility import models as eligibility
    from crfs.emg import models as emg
    from crfs.fvc import models as fvc
    from crfs.qol import models as qol
    from crfs.vitals import models as vitals

    specs = [
        FormSpec("alsfrs_r", alsfrs_r.AlsfrsR, alsfrs_r.AlsfrsRForm),
        FormSpec("fvc", fvc.Fvc, fvc.FvcForm, "crfs/fvc.html"),
        FormSpec("vitals", vitals.Vitals, vitals.VitalsForm, "crfs/vitals.html"),
        FormSpec("emg", emg.Emg, emg.EmgForm, "crfs/emg.html"),
        FormSpec("alsaq40", qol.Alsaq40, qol.Alsaq40Form, "crfs/alsaq40.html"),
        FormSpec("seiqol", qol.Seiqol, qol.SeiqolForm, "crfs/seiqol.html"),
        FormSpec(
            "eligibility",
            eligibility.Eligibility,
            eligibility.EligibilityForm,
            "crfs/eligibility.html",
        ),
    ]
    return {spec.code: spec for spec in specs}


def get(code: str) -> FormSpec | None:
    return entry_forms().get(code)
