"""The product's URLconf plus the benchmark's yardstick: the least a signed-in page costs
(session, user, every middleware), with no query of its own and no template."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as product


@login_required
def minimal(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), *product]
