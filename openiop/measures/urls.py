from django.urls import path

from openiop.measures import dashboard_views, views

app_name = "measures"

# Mounted at p/<uuid:program_id>/.
P = "participants/<uuid:participant_id>/measures/"
A = f"{P}a/<uuid:assessment_id>/"

urlpatterns = [
    path("measures/due/", views.due, name="due"),
    path("outcomes/", dashboard_views.outcomes_dashboard, name="outcomes"),
    path("measures/schedules/", views.schedules, name="schedules"),
    path(P, views.participant_measures, name="participant"),
    path(f"{P}new/<slug:instrument>/", views.assessment_enter, name="enter"),
    path(A, views.assessment_detail, name="detail"),
    path(f"{A}entered-in-error/", views.assessment_entered_in_error, name="entered_in_error"),
]
