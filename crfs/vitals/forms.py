"""The vital signs entry form."""

from __future__ import annotations

from crfs.base import FormRecordForm
from crfs.vitals.models import Vitals
from crfs.vitals.scoring import PLAUSIBLE, plausibility_errors


class VitalsForm(FormRecordForm):
    class Meta:
        model = Vitals
        fields = list(Vitals.required_answers)

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned.get(name) for name in PLAUSIBLE if name not in self.errors}
        for name, message in plausibility_errors(values).items():
            self.add_error(name, message)
        return cleaned
