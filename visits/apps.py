from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self) -> None:
        """Create visits at registration and enrolment (once the screening checklist allows it);
        close them (then cancel their pending reminders) at the end of study; add the reminders
        panel to the home page."""
        from participants import lifecycle
        from trials import home
        from visits import services
        from visits.crfs import eligibility
        from visits.reminders import services as reminders
        from visits.reminders.home import reminders_panel

        lifecycle.connect(lifecycle.ENROLMENT_CHECKS, eligibility.check_enrolment)
        lifecycle.connect(lifecycle.ON_REGISTERED, services.on_registered)
        lifecycle.connect(lifecycle.ON_ENROLLED, services.on_enrolled)
        lifecycle.connect(lifecycle.ON_EXITED, services.on_exited)
        lifecycle.connect(lifecycle.ON_EXITED, reminders.on_exited)
        if reminders_panel not in home.PANELS:
            home.PANELS.append(reminders_panel)
