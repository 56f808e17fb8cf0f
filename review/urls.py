from django.urls import path

from review import views

# Routed at "" (config.urls): every page sits under its site.
urlpatterns = [
    path("sites/<str:code>/review/", views.queue_page, name="review-queue"),
    path("sites/<str:code>/review/lock/", views.lock_page, name="review-lock-site"),
    path(
        "sites/<str:code>/review/locks/<int:lock_pk>/unlock/",
        views.unlock_page,
        name="review-unlock",
    ),
    path(
        "sites/<str:code>/review/trials/<int:trial_pk>/targets/",
        views.targets_page,
        name="review-targets",
    ),
    path(
        "sites/<str:code>/review/participants/<int:pk>/",
        views.participant_page,
        name="review-participant",
    ),
    path(
        "sites/<str:code>/review/participants/<int:pk>/lock/",
        views.lock_page,
        name="review-lock",
    ),
    path(
        "sites/<str:code>/review/participants/<int:pk>/sign/<str:kind>/",
        views.sign_page,
        name="review-sign",
    ),
    path(
        "sites/<str:code>/review/participants/<int:pk>/records/<str:key>/<int:record_id>/",
        views.record_page,
        name="review-record",
    ),
]
