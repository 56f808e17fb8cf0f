from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from exports.home import exports_panel
        from trials import home

        if exports_panel not in home.PANELS:
            home.PANELS.append(exports_panel)
