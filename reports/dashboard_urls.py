from django.urls import path

from reports import views_dashboard

urlpatterns = [
    path("reports/dashboard/", views_dashboard.dashboard_page, name="reports-dashboard"),
    path(
        "sites/<str:code>/dashboard/",
        views_dashboard.site_dashboard_page,
        name="reports-dashboard-site",
    ),
]
