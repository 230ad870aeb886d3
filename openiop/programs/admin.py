from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from openiop.accounts.requests import request_user
from openiop.programs.actions import program_portal_settings_update
from openiop.programs.models import Organisation, Program, Track


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "external_id"]


class TrackInline(admin.TabularInline[Track, Program]):
    model = Track
    extra = 0


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin[Program]):
    list_display = ["name", "organisation", "level_of_care", "population", "rule_pack"]
    inlines = [TrackInline]

    def save_model(self, request: HttpRequest, obj: Program, form: Any, change: bool) -> None:
        """Turning severity labels on or off for participants goes through its action, so the
        change is validated and audited like any other (the rest of the form saves as usual)."""
        if not change or "portal_shows_severity" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        wanted = obj.portal_shows_severity
        obj.portal_shows_severity = form.initial["portal_shows_severity"]
        super().save_model(request, obj, form, change)
        program_portal_settings_update(
            actor=request_user(request), program=obj, shows_severity=wanted
        )
