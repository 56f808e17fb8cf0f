from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/two-factor/", views.verify_page, name="accounts-verify"),
    path("accounts/two-factor/enrol/", views.enrol_page, name="accounts-enrol"),
    path(
        "accounts/two-factor/backup-codes/", views.backup_codes_page, name="accounts-backup-codes"
    ),
    path("accounts/security/", views.security_page, name="accounts-security"),
    path("accounts/keep-alive/", views.keep_alive, name="accounts-keep-alive"),
    path("accounts/language/", views.switch_language, name="accounts-language"),
    path("accounts/preferences/", views.preferences_page, name="accounts-preferences"),
]
