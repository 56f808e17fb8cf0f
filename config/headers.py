"""Response headers for pages with health data: a strict Content-Security-Policy, a
Permissions-Policy and no caching of anything Django renders.

Sits below WhiteNoise in MIDDLEWARE, so static files (served and answered by WhiteNoise)
never pass here and stay cacheable. Every response that does pass here is kept out of caches:
an authenticated page or download may be reached through a session, an API token or a token
in the URL (the calendar feed), and the anonymous pages (login) carry a CSRF token, so one
rule for all leaves no authenticated response behind.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# No 'unsafe-inline' or 'unsafe-eval': every script and style is a static file, htmx is told
# not to eval or inject its indicator style (the htmx-config meta in base.html). Charts are
# SVG with presentation attributes; the QR code and small images may be data: URIs.
DEFAULT_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)

# No page of the eCRF needs a device or browser feature beyond the page itself.
DEFAULT_PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = getattr(
            settings, "ECRF_CONTENT_SECURITY_POLICY", DEFAULT_CONTENT_SECURITY_POLICY
        )
        self.permissions = getattr(settings, "ECRF_PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)
        # Django serves static files itself only with runserver in DEBUG (no WhiteNoise hit).
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.csp)
        response.setdefault("Permissions-Policy", self.permissions)
        if request.path.startswith(self.static_prefix):
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
