from django.contrib import admin

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
