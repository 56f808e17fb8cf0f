from django.urls import path

from participants import views

urlpatterns = [
    path("register/", views.register_page, name="participant-register"),
    path("<int:pk>/enrol/", views.enrol_page, name="participant-enrol"),
    path("<int:pk>/status/", views.status_page, name="participant-status"),
    path("<int:pk>/consent/", views.consent_page, name="participant-consent"),
    path("<int:pk>/contact-attempts/", views.contact_attempt_page, name="participant-contact"),
    path("<int:pk>/demographics/", views.demographics_page, name="participant-demographics"),
    path("<int:pk>/als-history/", views.als_history_page, name="participant-als-history"),
    path(
        "<int:pk>/return-to-screening/",
        views.return_to_screening_page,
        name="participant-return-to-screening",
    ),
]
