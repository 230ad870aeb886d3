from django.urls import path

from openiop.accounts import views

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
]

# Program-scoped staff administration, mounted under /p/<program_id>/ as namespace "staff".
program_urlpatterns = [
    path("staff/", views.staff_roles, name="roles"),
    path("staff/<uuid:membership_id>/revoke/", views.staff_role_revoke, name="role_revoke"),
    path("break-glass/", views.break_glass_report, name="break_glass_report"),
]
