from django.urls import path

from openiop.accounts import invitation_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("locked/", views.locked_view, name="locked"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("mfa/reset/", views.mfa_reset_view, name="mfa_reset"),
    path("reauth/", views.reauth_view, name="reauth"),
    path("password/", views.password_change_view, name="password_change"),
    path("break-glass/", views.break_glass_view, name="break_glass"),
    path("invite/", invitation_views.invite_code, name="invite"),
    path("invite/<str:invite_token>/", invitation_views.invite_accept, name="invite_accept"),
    path("password/forgot/", invitation_views.password_forgot, name="password_forgot"),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        invitation_views.password_reset,
        name="password_reset",
    ),
]

# Program-scoped staff administration, mounted under /p/<program_id>/ as namespace "staff".
program_urlpatterns = [
    path("staff/", views.staff_roles, name="roles"),
    path("staff/<uuid:membership_id>/revoke/", views.staff_role_revoke, name="role_revoke"),
    path("break-glass/", views.break_glass_report, name="break_glass_report"),
    path("staff/invitations/", invitation_views.staff_invitations, name="invitations"),
    path(
        "staff/invitations/<uuid:staff_invitation_id>/revoke/",
        invitation_views.staff_invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "invitations/<uuid:invitation_id>/revoke/",
        invitation_views.portal_invite_revoke,
        name="portal_invite_revoke",
    ),
    path(
        "participants/<uuid:participant_id>/invite/",
        invitation_views.portal_invite,
        name="portal_invite",
    ),
]
