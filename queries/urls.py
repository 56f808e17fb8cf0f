from django.urls import path

from queries import views

urlpatterns = [
    path("sites/<str:code>/queries/", views.query_list_page, name="query-list"),
    path("sites/<str:code>/queries/new/", views.open_query_page, name="query-open"),
    path("sites/<str:code>/queries/<int:query_pk>/", views.query_page, name="query-detail"),
    path(
        "sites/<str:code>/participants/<int:pk>/queries/",
        views.participant_queries_page,
        name="participant-queries",
    ),
    path("sites/<str:code>/checks/", views.check_list_page, name="check-list"),
    path("sites/<str:code>/checks/<str:key>/", views.check_run_page, name="check-run"),
]
