from django.urls import path

from openiop.groupwork import correction_views, room_views, views

app_name = "groupwork"

S = "sessions/<uuid:session_id>/"
A = S + "attendance/<uuid:attendance_id>/"
N = S + "notes/<uuid:note_id>/"

urlpatterns = [
    path("sessions/", views.sessions_list, name="sessions"),
    path(S, views.runner, name="runner"),
    path(S + "start/", views.start_session, name="start"),
    path(S + "walk-in/", views.walk_in, name="walk_in"),
    path(S + "walk-in/search/", views.walk_in_search, name="walk_in_search"),
    path(S + "close/", views.session_close, name="close"),
    path(S + "print/", views.session_print, name="print"),
    path(S + "room/", room_views.room_screen, name="room_screen"),
    path(N + "print/", views.session_print_note, name="print_note"),
    path(S + "agenda/<int:block>/", views.agenda_toggle, name="agenda_toggle"),
    path(S + "shared/", views.shared_save, name="shared_save"),
    path(A + "arrive-now/", views.attendance_arrive_now, name="arrive_now"),
    path(A + "arrive/", views.attendance_arrive, name="arrive"),
    path(A + "depart/", views.attendance_depart, name="depart"),
    path(A + "absent/", views.attendance_absent, name="absent"),
    path(A + "remove/", views.attendance_remove, name="remove"),
    path(A + "correct/", correction_views.attendance_correct_view, name="attendance_correct"),
    path(A + "practice/", views.practice_save, name="practice"),
    path(A + "observe/", views.attendance_observe, name="observe"),
    path(S + "notes/draft/", views.notes_draft_all, name="notes_draft"),
    path(S + "notes/sign-all/", views.notes_sign_all, name="notes_sign_all"),
    path(N, views.note_save, name="note_save"),
    path(N + "replace-peers/", views.note_replace_peers, name="note_replace_peers"),
    path(
        N + "replace-peers/preview/",
        views.note_replace_peers_preview,
        name="note_replace_peers_preview",
    ),
    path(N + "override/", views.note_override, name="note_override"),
    path(N + "sign/", views.note_sign_one, name="note_sign"),
    path(
        "participants/<uuid:participant_id>/notes/<uuid:note_id>/",
        views.note_detail,
        name="note_detail",
    ),
    path(
        "participants/<uuid:participant_id>/notes/<uuid:note_id>/cosign/",
        views.note_cosign,
        name="note_cosign",
    ),
    path("ledger/", views.ledger_view, name="ledger"),
]
