"""The login forms (the site's and the admin's)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class UsernameLengthChecked(AuthenticationForm):
    """Django's login form, with its username length enforced.

    Django sets the username's max_length only after the field is built, so it is never
    validated: a longer name reached authentication, and django-axes' record of the failed
    attempt (a 255-character column) failed with a 500. No account can have a longer
    name, so it is refused as a field error before authenticating.
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        assert isinstance(username, forms.CharField) and username.max_length
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginForm(UsernameLengthChecked):
    pass


class AdminLoginForm(UsernameLengthChecked, AdminAuthenticationForm):
    pass
