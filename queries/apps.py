from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueriesConfig(AppConfig):
    name = "queries"
    verbose_name = _("Queries and edit checks")

    def ready(self) -> None:
        """Every save of a reviewable record re-runs the edit checks that read it and answers
        the queries on what it changed; the site cards link each role's queries."""
        from queries import history, services
        from queries.home import queries_panel, queries_work
        from trials import checks, home, timeline
        from trials.hooks import connect

        connect(checks.ON_RECORD_SAVED, services.on_record_saved)
        connect(timeline.HISTORY_SOURCES, history.record_history)
        connect(home.WORK, queries_work)
        connect(home.PANELS, queries_panel)
