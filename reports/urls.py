from django.urls import URLPattern

# Each page's route joins this list with its view (dashboard, cohort, casebook).
urlpatterns: list[URLPattern] = []

from reports import cohort_urls  # noqa: E402 - the cohort view's routes, in their own module

urlpatterns += cohort_urls.urlpatterns

from reports import casebook_urls  # noqa: E402 - the casebook's routes, in their own module

urlpatterns += casebook_urls.urlpatterns

from reports import dashboard_urls  # noqa: E402 - the dashboard's routes, in their own module

urlpatterns += dashboard_urls.urlpatterns
