"""Reminder pages: a site's due-visit dashboard, notifications, preferences, calendar feed."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reminders import ics, selectors, services
from reminders.forms import PreferencesForm
from reminders.models import CalendarFeed, ReminderPreference
from trials import permissions
from trials.forms import NOT_RUN, form_status, run_service
from trials.http import AuthenticatedHttpRequest
from trials.i18n import language_for

PAGE_SIZE = 50


@login_required
@require_GET
def dashboard_page(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    board = selectors.dashboard(site, site.local_today())
    return render(request, "reminders/dashboard.html", {"site": site, "board": board})


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.mark_all_read(user=request.user)
        messages.success(request, _("All notifications marked as read."))
        return redirect("notifications")
    page = Paginator(selectors.notifications_for(request.user).select_related("site"), PAGE_SIZE)
    return render(
        request,
        "reminders/notifications.html",
        {"page": page.get_page(request.GET.get("page"))},
    )


@login_required
@require_POST
def notification_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = services.mark_read(user=request.user, pk=pk)
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}
    ):
        return redirect(notification.url)
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def preferences_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = ReminderPreference.objects.filter(user=request.user).first()
    initial = {"language": current.language, "muted_kinds": current.muted_kinds} if current else {}
    form = PreferencesForm(request.POST or None, initial=initial)
    saved = run_service(
        form,
        lambda data: services.save_preferences(
            user=request.user, language=data["language"], muted_kinds=data["muted_kinds"]
        ),
    )
    if saved is not NOT_RUN:
        messages.success(request, _("Reminder preferences saved."))
        return redirect("reminder-preferences")
    return render(
        request,
        "reminders/preferences.html",
        {"form": form},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.regenerate_calendar_token(user=request.user)
        messages.success(request, _("New calendar address made; the old one no longer works."))
        return redirect("calendar")
    feed = services.calendar_feed(user=request.user)
    url = request.build_absolute_uri(reverse("calendar-feed", args=[feed.token]))
    return render(request, "reminders/calendar.html", {"feed_url": url})


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's .ics feed; the secret token in the URL is the only credential (404 if wrong)."""
    feed = (
        CalendarFeed.objects.select_related("user", "user__reminder_preference")
        .filter(token=token, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    user = feed.user
    preference = getattr(user, "reminder_preference", None)
    now = timezone.now()
    # In the user's language of reminders, else their interface language, else the site's.
    with translation.override(language_for(user, preference.language if preference else None)):
        events = [
            ics.Event(
                uid=f"visit-{visit.pk}@als-ecrf",
                start=visit.window_start,
                end=visit.window_end,
                summary=_("%(visit)s window · %(study_id)s (%(site)s)")
                % {
                    "visit": visit.code,
                    "study_id": visit.participant.study_id,
                    "site": visit.participant.site.code,
                },
                description=_("Target date: %(target)s") % {"target": visit.target_date},
                url=request.build_absolute_uri(
                    reverse(
                        "visit-detail",
                        args=[visit.participant.site.code, visit.participant_id, visit.pk],
                    )
                ),
            )
            for visit in selectors.calendar_visits(user, now.date() - timedelta(days=1))
            if visit.window_start is not None and visit.window_end is not None  # as selected
        ]
        body = ics.calendar(events, name=_("ALS eCRF visit windows"), now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="visits.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
