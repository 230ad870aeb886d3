from django.urls import path

from openiop.scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("planner/", views.board, name="board"),
    path("planner/run/", views.run_planner, name="run_planner"),
    path("planner/runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("planner/runs/<uuid:run_id>/apply/", views.run_apply, name="run_apply"),
    path(
        "participants/<uuid:participant_id>/availability/", views.availability, name="availability"
    ),
]
