from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class TrialsConfig(AppConfig):
    name = "trials"
    verbose_name = _("Trials")

    def ready(self) -> None:
        from trials.protocols.checks import check_protocols

        checks.register(check_protocols, checks.Tags.models)
