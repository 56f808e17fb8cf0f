from django.urls import path

from reports import views_cohort

urlpatterns = [
    path("reports/cohort/", views_cohort.cohort_page, name="reports-cohort"),
    path("reports/cohort/table.csv", views_cohort.cohort_table_csv, name="reports-cohort-csv"),
    path(
        "reports/cohort/participants.csv",
        views_cohort.cohort_participants_csv,
        name="reports-cohort-participants-csv",
    ),
]
