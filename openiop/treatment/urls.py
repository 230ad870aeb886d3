from django.urls import path

from openiop.treatment import views

app_name = "treatment"

# Mounted at p/<uuid:program_id>/; every page is about one participant's plans.
P = "participants/<uuid:participant_id>/"
PLAN = f"{P}plans/<uuid:plan_id>/"

urlpatterns = [
    path(f"{P}plan/", views.plan_home, name="plan_home"),
    path(f"{P}plans/new/", views.plan_create, name="plan_create"),
    path(PLAN, views.plan_detail, name="plan_detail"),
    path(f"{PLAN}activate/", views.plan_activate, name="plan_activate"),
    path(f"{PLAN}review/", views.plan_review, name="plan_review"),
    path(f"{PLAN}problems/", views.problem_add, name="problem_add"),
    path(f"{PLAN}problems/<uuid:problem_id>/goals/", views.goal_add, name="goal_add"),
    path(f"{PLAN}problems/<uuid:problem_id>/status/", views.problem_status, name="problem_status"),
    path(f"{PLAN}goals/<uuid:goal_id>/objectives/", views.objective_add, name="objective_add"),
    path(f"{PLAN}goals/<uuid:goal_id>/status/", views.goal_status, name="goal_status"),
    path(
        f"{PLAN}objectives/<uuid:objective_id>/interventions/",
        views.intervention_add,
        name="intervention_add",
    ),
    path(
        f"{PLAN}objectives/<uuid:objective_id>/status/",
        views.objective_status,
        name="objective_status",
    ),
]
