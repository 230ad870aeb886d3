from django.urls import path

from openiop.safety import views

app_name = "safety"

# Mounted at p/<uuid:program_id>/safety/.
EVENT = "events/<uuid:event_id>/"

urlpatterns = [
    path("", views.event_list, name="list"),
    path(EVENT, views.event_detail, name="detail"),
    path(f"{EVENT}acknowledge/", views.event_acknowledge, name="acknowledge"),
    path(f"{EVENT}steps/", views.event_step, name="step"),
    path(f"{EVENT}close/", views.event_close, name="close"),
    path("participants/<uuid:participant_id>/raise/", views.event_raise, name="raise"),
]
