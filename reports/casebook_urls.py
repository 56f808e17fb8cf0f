from django.urls import path

from reports import views_casebook as views

urlpatterns = [
    path(
        "sites/<str:code>/participants/<int:pk>/casebook/",
        views.casebook_create,
        name="casebook-create",
    ),
    path("sites/<str:code>/casebooks/<int:job_pk>/", views.casebook_job, name="casebook-job"),
    path(
        "sites/<str:code>/casebooks/<int:job_pk>/status/",
        views.casebook_status,
        name="casebook-status",
    ),
    path(
        "sites/<str:code>/casebooks/<int:job_pk>/download/",
        views.casebook_download,
        name="casebook-download",
    ),
]
