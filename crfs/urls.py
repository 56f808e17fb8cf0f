from django.urls import path

from crfs import views
from crfs.screening import views as screening_views

urlpatterns = [
    path("screening-log/", screening_views.screening_log_page, name="screening-log"),
    path("screening-log.csv", screening_views.screening_log_csv, name="screening-log-csv"),
    path(
        "<int:pk>/eligibility/override/",
        screening_views.eligibility_override_page,
        name="eligibility-override",
    ),
    path("<int:pk>/screen-failure/", screening_views.screen_failure_page, name="screen-failure"),
    path(
        "<int:pk>/visits/<int:visit_pk>/forms/<str:form_code>/",
        views.entry_page,
        name="crf-entry",
    ),
]
