"""The second factor's pages: verify a session, enrol an authenticator, backup codes, and the
idle timeout's keep-alive."""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticToken

from accounts import preferences, services
from accounts.forms import EnrolForm, PreferenceForm, TokenForm
from accounts.middleware import session_verified
from trials import permissions
from trials.forms import NOT_RUN, form_status, run_service
from trials.http import AuthenticatedHttpRequest

NEW_CODES_KEY = "ecrf_new_backup_codes"


def _next(request: AuthenticatedHttpRequest) -> str:
    """Where to go once done: `next` when it is a page of this site, else the home page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _to(name: str, request: AuthenticatedHttpRequest) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


@login_required
@require_http_methods(["GET", "POST"])
def verify_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The second step of a login: a code from the app or a backup code."""
    if session_verified(request):
        return redirect(_next(request))
    if not user_has_device(request.user):
        return _to("accounts-enrol", request)
    form = TokenForm(request.POST or None)
    done = run_service(form, lambda data: services.verify_second_factor(request, data["token"]))
    if done is not NOT_RUN:
        return redirect(_next(request))
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "next": _next(request)},
        status=form_status(form),
    )


def _qr_svg(url: str) -> str:
    # segno writes plain SVG paths (no script, no style attribute), made here from our own data.
    return mark_safe(segno.make(url, error="m").svg_inline(scale=5, dark="#000", light="#fff"))  # noqa: S308


@login_required
@require_http_methods(["GET", "POST"])
def enrol_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then type its code."""
    if user_has_device(request.user):
        if session_verified(request):
            return redirect("accounts-security")
        # Replacing a device needs the device (or a superuser's reset), not only the password.
        return _to("accounts-verify", request)
    device = services.pending_authenticator(request.user)
    form = EnrolForm(request.POST or None)
    codes = run_service(form, lambda data: services.confirm_enrolment(request, data["token"]))
    if codes is not NOT_RUN:
        request.session[NEW_CODES_KEY] = codes
        return _to("accounts-backup-codes", request)
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": _next(request),
        "qr": _qr_svg(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": permissions.requires_second_factor(request.user),
    }
    return render(request, "accounts/enrol.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def backup_codes_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New backup codes, shown once (after enrolment, or asked for again: the old ones end)."""
    if request.method == "POST":
        if not (session_verified(request) and user_has_device(request.user)):
            return _to("accounts-verify", request)
        request.session[NEW_CODES_KEY] = services.new_backup_codes(request.user)
        return _to("accounts-backup-codes", request)
    codes = request.session.pop(NEW_CODES_KEY, None)
    if not codes:
        return redirect("accounts-security")
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next(request)})


@login_required
def security_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's second factor: set up or not, backup codes left."""
    context = {
        "has_device": user_has_device(request.user),
        "required": permissions.requires_second_factor(request.user),
        "backup_left": StaticToken.objects.filter(device__user=request.user).count(),
    }
    return render(request, "accounts/security.html", context)


@require_POST
def keep_alive(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Stay signed in" under the idle warning: the request itself restarts the idle clock."""
    if not request.user.is_authenticated:
        return JsonResponse({"seconds_left": 0}, status=401)
    return JsonResponse({"seconds_left": getattr(request, "idle_seconds_left", None)})


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """The navbar's language switch (also before signing in): Django's set_language (the
    language cookie, back to `next`), and for a signed-in user the saved choice too."""
    language = request.POST.get("language", "")
    if language in preferences.LANGUAGE_CODES and request.user.is_authenticated:
        preferences.remember_in_session(
            request, preferences.save_preference(request.user, language=language)
        )
    return set_language(request)


@login_required
@require_http_methods(["GET", "POST"])
def preferences_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's language and calendar."""
    current = preferences.preference_of(request.user)
    initial = {"language": current.language, "calendar": current.calendar} if current else {}
    form = PreferenceForm(request.POST or None, initial=initial)
    saved = run_service(
        form,
        lambda data: preferences.save_preference(
            request.user, language=data["language"], calendar=data["calendar"]
        ),
    )
    if saved is not NOT_RUN:
        preferences.remember_in_session(request, saved)
        translation.activate(saved.language or translation.get_language_from_request(request))
        messages.success(request, _("Your preferences are saved."))
        response = redirect("accounts-preferences")
        if saved.language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                saved.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
    return render(request, "accounts/preferences.html", {"form": form}, status=form_status(form))
