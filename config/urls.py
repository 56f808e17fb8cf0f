from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest
from django.urls import include, path

from accounts.forms import PasswordResetForm
from config.health import healthz, healthz_workers
from trials import views as trial_views
from trials.login import AdminLoginForm, LoginForm


def _superusers_only(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


# An instance-level override of the default site's permission check (no AdminSite subclass).
admin.site.has_permission = _superusers_only  # type: ignore[method-assign]
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", trial_views.home_page, name="home"),
    path("healthz", healthz, name="healthz"),
    path("healthz/workers", healthz_workers, name="healthz-workers"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    # The reset e-mail in the account's language (accounts.forms.PasswordResetForm).
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("sites/<str:code>/", trial_views.site_page, name="site"),
    path("sites/<str:code>/team/", trial_views.team_page, name="site-team"),
    path(
        "sites/<str:code>/team/<int:membership_id>/revoke/",
        trial_views.revoke_membership,
        name="site-team-revoke",
    ),
    path("sites/<str:code>/participants/", include("clinic.urls")),
    path("sites/<str:code>/participants/", include("participants.urls")),
    path("sites/<str:code>/participants/", include("visits.urls")),
    path("sites/<str:code>/participants/", include("crfs.urls")),
    path("sites/<str:code>/", include("safety.urls")),
    path("", include("audit.urls")),
    path("", include("review.urls")),
    path("", include("queries.urls")),
    path("", include("reminders.urls")),
    path("", include("exports.urls")),
    path("", include("accounts.urls")),
    path("", include("reports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
