from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = _("Reminders")

    def ready(self) -> None:
        """Re-sync a participant's reminders whenever the schedule changes; cancel pending
        ones at the end of study; add the reminders panel to the home page."""
        from participants import lifecycle
        from reminders import services
        from reminders.home import reminders_panel, reminders_work
        from trials import home
        from trials.hooks import connect
        from visits import hooks

        connect(hooks.ON_SCHEDULE_CHANGED, services.sync_participant)
        # After visits' own ON_EXITED handler (apps are ready in INSTALLED_APPS order).
        lifecycle.connect(lifecycle.ON_EXITED, services.on_exited)
        connect(home.WORK, reminders_work)
        connect(home.PANELS, reminders_panel)
