"""Request types for the type checker."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind `@login_required`: its user is signed in.

    Only an annotation (Django never builds one); the type checker then knows
    `request.user` is a `User`, not `User | AnonymousUser`.
    """

    user: User
