from django.urls import path

from reminders import views

urlpatterns = [
    path("sites/<str:code>/reminders/", views.dashboard_page, name="site-reminders"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("reminders/preferences/", views.preferences_page, name="reminder-preferences"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
