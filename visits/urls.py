from django.urls import path

from visits import views
from visits.crfs import views as crf_views

urlpatterns = [
    path("", views.participant_list, name="participant-list"),
    path("screening-log/", views.screening_log_page, name="screening-log"),
    path("screening-log.csv", views.screening_log_csv, name="screening-log-csv"),
    path("<int:pk>/", views.participant_page, name="participant-detail"),
    path(
        "<int:pk>/eligibility/override/",
        views.eligibility_override_page,
        name="eligibility-override",
    ),
    path("<int:pk>/screen-failure/", views.screen_failure_page, name="screen-failure"),
    path("<int:pk>/transplantation/", views.transplantation_page, name="transplantation"),
    path("<int:pk>/visits/unscheduled/", views.unscheduled_visit_page, name="visit-unscheduled"),
    path("<int:pk>/visits/<int:visit_pk>/", views.visit_page, name="visit-detail"),
    path(
        "<int:pk>/visits/<int:visit_pk>/forms/<str:form_code>/",
        crf_views.entry_page,
        name="crf-entry",
    ),
]
