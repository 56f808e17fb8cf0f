"""The catalogue of entry forms: protocol form code → model, entry form, template.

Built on first use (not at import) because the models need the app registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db.models import QuerySet
from django.utils.text import capfirst

from crfs.base import FormRecord, FormRecordForm, FormStatus


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
    from crfs.alsfrs_r.forms import AlsfrsRForm
    from crfs.alsfrs_r.models import AlsfrsR
    from crfs.eligibility.forms import EligibilityForm
    from crfs.eligibility.models import Eligibility
    from crfs.emg.forms import EmgForm
    from crfs.emg.models import Emg
    from crfs.fvc.forms import FvcForm
    from crfs.fvc.models import Fvc
    from crfs.qol.forms import Alsaq40Form, SeiqolForm
    from crfs.qol.models import Alsaq40, Seiqol
    from crfs.vitals.forms import VitalsForm
    from crfs.vitals.models import Vitals

    specs = [
        FormSpec("alsfrs_r", AlsfrsR, AlsfrsRForm, "crfs/alsfrs_r.html"),
        FormSpec("fvc", Fvc, FvcForm, "crfs/fvc.html"),
        FormSpec("vitals", Vitals, VitalsForm, "crfs/vitals.html"),
        FormSpec("emg", Emg, EmgForm, "crfs/emg.html"),
        FormSpec("alsaq40", Alsaq40, Alsaq40Form, "crfs/alsaq40.html"),
        FormSpec("seiqol", Seiqol, SeiqolForm, "crfs/seiqol.html"),
        FormSpec("eligibility", Eligibility, EligibilityForm, "crfs/eligibility.html"),
    ]
    return {spec.code: spec for spec in specs}


def get(code: str) -> FormSpec | None:
    return entry_forms().get(code)


def in_progress(**filters) -> list[QuerySet[FormRecord]]:
    """Each entry form's records saved but not complete, filtered alike (e.g. by site through
    `visit__participant__site`); the callers union or OR them into one SQL query."""
    return [
        spec.model.objects.filter(status=FormStatus.IN_PROGRESS, **filters)
        for spec in entry_forms().values()
    ]
