from django.urls import path

from openiop.medical import views

app_name = "medical"

# Mounted at p/<uuid:program_id>/.
PROMPT = "participants/<uuid:participant_id>/medical-risk/<uuid:prompt_id>/"

urlpatterns = [
    path(PROMPT, views.prompt_detail, name="detail"),
    path(f"{PROMPT}review/", views.prompt_review, name="review"),
    path(f"{PROMPT}naloxone/", views.prompt_naloxone, name="naloxone"),
]
