from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        """A revoked role ends the user's sessions (the audit app logs the revocation itself); a
        login loads the user's interface preferences into the session."""
        from django.contrib.auth.signals import user_logged_in

        from accounts import preferences, services
        from trials import hooks, i18n

        hooks.connect(hooks.ON_ROLE_CHANGED, services.on_role_changed)
        # What is sent to a user (e-mails, reminders, the calendar feed) is in their language.
        hooks.connect(i18n.LANGUAGE_SOURCES, preferences.saved_language)
        # The session starts with the user's language and calendar (accounts.preferences).
        user_logged_in.connect(preferences.on_logged_in, dispatch_uid="accounts.preferences")
