from django.contrib import admin

from .models import Program


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("program_key", "name", "platform", "enabled", "modified")
    list_filter = ("enabled", "platform")
    search_fields = ("program_key", "name", "platform__key")
    list_select_related = ("platform",)
    autocomplete_fields = ("platform",)
