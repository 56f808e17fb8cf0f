from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueriesConfig(AppConfig):
    name = "queries"
    verbose_name = _("Queries and edit checks")

    def ready(self) -> None:
        """Every save of a reviewable record re-runs the edit checks that read it and answers
        the queries on what it changed."""
        from queries import services
        from trials import checks
        from trials.hooks import connect

        connect(checks.ON_RECORD_SAVED, services.on_record_saved)
