"""The catalogue of case report forms a protocol may expect at a visit."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from trials.protocols.definitions import FormDef

FORM_CATALOGUE: dict[str, FormDef] = {
    form.code: form
    for form in (
        FormDef("eligibility", _("Eligibility")),
        FormDef("consent", _("Informed consent")),
        FormDef("demographics", _("Demographics")),
        FormDef("als_history", _("ALS history")),
        FormDef("alsfrs_r", _("ALSFRS-R"), "Cedarbaum 1999"),
        FormDef("fvc", _("Forced vital capacity")),
        FormDef("emg", _("EMG / nerve conduction")),
        FormDef("alsaq40", _("ALSAQ-40")),
        FormDef("seiqol", _("SEIQoL-DW")),
        FormDef("vitals", _("Vital signs")),
        FormDef("transplantation", _("Transplantation")),
        FormDef("adverse_events", _("Adverse events")),
        FormDef("conmeds", _("Concomitant medication")),
    )
}
