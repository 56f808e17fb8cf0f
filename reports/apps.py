from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Pictures of the study and its numbers: the dashboard, participant trajectories, the
    cohort view and the casebook PDF. Reads every app below it; nothing imports it."""

    name = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.panels import PARTICIPANT_PANELS
        from reports.casebook_panel import casebook_panel
        from reports.panels import trajectory_panel
        from trials.hooks import connect

        # The trajectory card first, above the casebook's.
        connect(PARTICIPANT_PANELS, trajectory_panel)
        connect(PARTICIPANT_PANELS, casebook_panel)
