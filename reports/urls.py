from django.urls import URLPattern, URLResolver

from reports import casebook_urls, cohort_urls, dashboard_urls

# Each page keeps its routes beside its views.
urlpatterns: list[URLPattern | URLResolver] = [
    *dashboard_urls.urlpatterns,
    *cohort_urls.urlpatterns,
    *casebook_urls.urlpatterns,
]
