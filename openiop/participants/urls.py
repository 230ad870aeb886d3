from django.urls import path

from openiop.participants import views

app_name = "participants"

urlpatterns = [
    path("", views.program_home, name="program_home"),
    path("participants/", views.participant_list, name="list"),
    path("participants/admit/", views.participant_admit, name="admit"),
    path("participants/<uuid:participant_id>/", views.participant_chart, name="chart"),
    path("participants/<uuid:participant_id>/edit/", views.participant_edit, name="edit"),
    path("participants/<uuid:participant_id>/readmit/", views.enrollment_readmit, name="readmit"),
    path(
        "participants/<uuid:participant_id>/episodes/<uuid:enrollment_id>/phase/",
        views.enrollment_change_phase,
        name="change_phase",
    ),
    path(
        "participants/<uuid:participant_id>/episodes/<uuid:enrollment_id>/discharge/",
        views.enrollment_discharge,
        name="discharge",
    ),
]
