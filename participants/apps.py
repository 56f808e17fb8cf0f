from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = _("Participants")

    def ready(self) -> None:
        from participants.home import participants_panel
        from participants.records import register_records
        from trials import home

        if participants_panel not in home.PANELS:
            home.PANELS.append(participants_panel)
        register_records()
