from django.urls import path

from audit import views

# Routed at "" (config.urls): every page but the superusers' access log is under a site.
urlpatterns = [
    path("sites/<str:code>/audit/", views.audit_log, name="audit-log"),
    path("sites/<str:code>/audit/log.csv", views.audit_log_csv, name="audit-log-csv"),
    path(
        "sites/<str:code>/audit/records/<str:key>/<int:record_id>/",
        views.record_history,
        name="audit-record-history",
    ),
    path(
        "sites/<str:code>/participants/<int:pk>/history/",
        views.participant_history,
        name="audit-participant-history",
    ),
    path(
        "sites/<str:code>/participants/<int:pk>/visits/<int:visit_pk>/history/",
        views.visit_history,
        name="audit-visit-history",
    ),
    path("sites/<str:code>/access-log/", views.access_log, name="access-log"),
    path("access-log/", views.access_log_all, name="access-log-all"),
]
