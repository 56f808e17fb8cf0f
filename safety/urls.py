from django.urls import path

from safety import views

# Under sites/<code>/ (config.urls): a participant's safety pages, and the site's listing.
urlpatterns = [
    path("adverse-events/", views.ae_listing_page, name="ae-listing"),
    path(
        "participants/<int:pk>/adverse-events/",
        views.adverse_event_log,
        name="adverse-event-list",
    ),
    path(
        "participants/<int:pk>/adverse-events/new/",
        views.adverse_event_page,
        name="adverse-event-new",
    ),
    path(
        "participants/<int:pk>/adverse-events/<int:ae_pk>/",
        views.adverse_event_page,
        name="adverse-event-edit",
    ),
    path(
        "participants/<int:pk>/adverse-events/<int:ae_pk>/assess/",
        views.assessment_page,
        name="adverse-event-assess",
    ),
    path("participants/<int:pk>/conmeds/", views.conmed_log, name="conmed-list"),
    path("participants/<int:pk>/conmeds/new/", views.conmed_page, name="conmed-new"),
    path("participants/<int:pk>/conmeds/<int:conmed_pk>/", views.conmed_page, name="conmed-edit"),
    path(
        "participants/<int:pk>/visits/<int:visit_pk>/safety/",
        views.visit_safety_page,
        name="visit-safety",
    ),
]
