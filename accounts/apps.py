from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        """A revoked role ends the user's sessions (the audit app logs the revocation itself)."""
        from accounts import services
        from trials import hooks

        hooks.connect(hooks.ON_ROLE_CHANGED, services.on_role_changed)
