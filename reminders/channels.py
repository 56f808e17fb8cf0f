"""How a reminder reaches its recipient: e-mail (text + HTML) or an in-app notification.

The message is rendered in the recipient's language and names the participant only by
study ID (or screening number): no names or other identifiers leave the system.
Safety alerts are rendered from the strings stored with the row (`Reminder.payload`), at
send time, in the recipient's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reminders.models import Channel, Notification, Reminder, ReminderKind

# The strings a safety alert's payload carries (reminders.alerts.raise_alert).
ALERT_PAYLOAD_KEYS = ("study_id", "term", "grade", "criteria", "onset", "reporter", "path")


@dataclass(frozen=True)
class Message:
    subject: str
    headline: str
    text: str
    html: str
    path: str


def channels_for(user) -> list[str]:
    """Everyone gets in-app notifications; e-mail only with an address."""
    return [Channel.IN_APP, Channel.EMAIL] if user.email else [Channel.IN_APP]


def _headline(reminder: Reminder) -> str:
    visit = reminder.visit
    # Reminders are kept only for scheduled visits, whose three dates are planned together
    # (`reminders.services` skips any visit without a window).
    assert visit.window_start is not None and visit.window_end is not None
    assert visit.target_date is not None
    values = {
        "visit": visit.code,
        "opens": visit.window_start.isoformat(),
        "closes": visit.window_end.isoformat(),
        "target": visit.target_date.isoformat(),
    }
    # Worded to stay true when a reminder goes out late (after a broker or worker outage).
    texts = {
        ReminderKind.BEFORE_WINDOW: _("The window of visit %(visit)s opens on %(opens)s."),
        ReminderKind.WINDOW_OPENS: _(
            "The window of visit %(visit)s is open from %(opens)s to %(closes)s."
        ),
        ReminderKind.TARGET_DATE: _(
            "The target date of visit %(visit)s is %(target)s; its window closes on %(closes)s."
        ),
        ReminderKind.OVERDUE: _("Visit %(visit)s is overdue: its window closed on %(closes)s."),
    }
    return texts[ReminderKind(reminder.kind)] % values


def absolute(path: str) -> str:
    """A site-relative path as a link in an e-mail (ECRF_SITE_URL, or where make run serves)."""
    return settings.SITE_URL.rstrip("/") + path


def render(reminder: Reminder, language: str) -> Message:
    """The reminder's text in `language` (the visit and participant must be loaded)."""
    if reminder.is_alert:
        return render_alert(reminder, language)
    visit = reminder.visit
    participant = visit.participant
    path = reverse("visit-detail", args=[participant.site.code, participant.pk, visit.pk])
    with translation.override(language):
        headline = _headline(reminder)
        definition = visit.definition
        context = {
            "headline": headline,
            "study_id": participant.study_id,
            "site_code": participant.site.code,
            "visit_code": visit.code,
            "visit_label": str(definition.label) if definition else visit.code,
            "window_start": visit.window_start,
            "window_end": visit.window_end,
            "target_date": visit.target_date,
            "url": absolute(path),
            "preferences_url": absolute(reverse("reminder-preferences")),
        }
        subject = _("[ALS eCRF] %(study_id)s · %(visit)s: %(kind)s") % {
            "study_id": participant.study_id,
            "visit": visit.code,
            "kind": ReminderKind(reminder.kind).label,
        }
        text = render_to_string("reminders/email/reminder.txt", context)
        html = render_to_string("reminders/email/reminder.html", context)
    return Message(subject=subject, headline=headline, text=text, html=html, path=path)


def _alert_headline(reminder: Reminder, values: dict[str, str]) -> str:
    texts = {
        ReminderKind.SAE: _(
            "A serious adverse event was reported for participant %(study_id)s at site %(site)s."
        ),
        ReminderKind.SAE_UPDATE: _(
            "A serious adverse event of participant %(study_id)s at site %(site)s was updated."
        ),
        ReminderKind.SAE_ESCALATION: _(
            "A serious adverse event of participant %(study_id)s at site %(site)s, reported "
            "on %(raised)s, has not been acknowledged by an investigator."
        ),
    }
    return texts[ReminderKind(reminder.kind)] % values


def render_alert(reminder: Reminder, language: str) -> Message:
    """A safety alert's text in `language`, from the strings stored when it was raised."""
    payload = {key: str(reminder.payload.get(key, "")) for key in ALERT_PAYLOAD_KEYS}
    site = reminder.visit.participant.site
    path = payload["path"]
    # When it was raised, in the site's time with the zone named.
    raised = timezone.localtime(reminder.created_at, site.zone).strftime("%Y-%m-%d %H:%M %Z")
    with translation.override(language):
        values = {"study_id": payload["study_id"], "site": site.code, "raised": raised}
        headline = _alert_headline(reminder, values)
        context = {
            **payload,
            "headline": headline,
            "site_code": site.code,
            "visit_code": reminder.visit.code,
            "url": absolute(path),
            "to_contact": reminder.recipient_id is None,
        }
        subject = _("[ALS eCRF] %(study_id)s: %(kind)s · %(term)s") % {
            "study_id": payload["study_id"],
            "kind": ReminderKind(reminder.kind).label,
            "term": payload["term"],
        }
        # One line (a header refuses line breaks, and a term may be typed over two), cut to
        # fit the notification's column.
        subject = " ".join(subject.split())[: Notification._meta.get_field("subject").max_length]
        text = render_to_string("reminders/email/alert.txt", context)
        html = render_to_string("reminders/email/alert.html", context)
    return Message(subject=subject, headline=headline, text=text, html=html, path=path)


def send_email(reminder: Reminder, message: Message) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.address],
    )
    email.attach_alternative(message.html, "text/html")
    email.send()


def send_in_app(reminder: Reminder, message: Message) -> None:
    assert reminder.recipient is not None  # only users have in-app rows
    Notification.objects.create(
        user=reminder.recipient,
        site=reminder.visit.participant.site,
        reminder=reminder,
        subject=message.subject,
        body=message.headline,
        url=message.path,
    )


SENDERS: dict[str, Callable[[Reminder, Message], None]] = {
    Channel.EMAIL: send_email,
    Channel.IN_APP: send_in_app,
}
