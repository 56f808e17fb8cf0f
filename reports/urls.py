from django.urls import URLPattern

# Each page's route joins this list with its view (dashboard, cohort, casebook).
urlpatterns: list[URLPattern] = []
