from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WordingConfig(AppConfig):
    """Validated translations of the instruments' wording, loaded from the trial's files."""

    name = "crfs.wording"
    label = "instrument_wording"
    verbose_name = _("Instrument wording")
