from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from openiop.accounts.models import Membership, User


@admin.register(User)
class OpenIOPUserAdmin(UserAdmin[User]):
    list_display = ["username", "display_name", "kind", "is_active"]
    fieldsets = [*(UserAdmin.fieldsets or []), ("OpenIOP", {"fields": ["kind", "display_name"]})]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "program", "role", "is_active"]
    list_filter = ["role", "is_active"]
