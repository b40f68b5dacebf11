"""Admin pages for issuers, signatories and uploaded images.

Images added here go through the same pipeline as the API
(:func:`ibl_credentials.images.process_image`), so the admin cannot store a file the
API would refuse, nor one that still carries its metadata.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html

from ibl_core.forms import NullableJSONFormField

from . import images, services
from .models import IMAGE_NAME_MAX_LENGTH, Issuer, Signatory, UploadedImage


class SignatoryInline(admin.TabularInline):
    model = Signatory
    extra = 0
    fields = ("order", "name", "title", "signature_image")


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    list_display = ("name", "entity_id", "platform", "email", "created_by", "created")
    list_filter = ("platform",)
    search_fields = ("name", "entity_id", "email", "platform__key")
    list_select_related = ("platform", "created_by")
    autocomplete_fields = ("platform", "created_by")
    readonly_fields = ("created", "modified")
    inlines = (SignatoryInline,)
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https"},
        # allowed_template_tags: an empty box for "no restriction", never the text null.
        models.JSONField: {"form_class": NullableJSONFormField},
    }


@admin.register(Signatory)
class SignatoryAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "issuer", "platform", "order")
    list_filter = ("issuer__platform",)
    search_fields = ("name", "title", "issuer__name", "issuer__entity_id")
    list_select_related = ("issuer__platform",)
    autocomplete_fields = ("issuer",)

    @admin.display(ordering="issuer__platform__key")
    def platform(self, signatory: Signatory) -> Any:
        return signatory.issuer.platform


class UploadedImageAddForm(forms.ModelForm):
    """Adding an image: the file is validated and re-encoded by the image pipeline."""

    upload = forms.FileField(
        label="Image", help_text="PNG, JPEG, GIF or WEBP; metadata is removed on upload."
    )

    class Meta:
        model = UploadedImage
        fields = ("platform", "uploaded_by", "name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = "Defaults to the file's base name without extension."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("upload")
        if upload is not None:
            try:
                cleaned["processed"] = images.process_image(upload)
            except ValidationError as exc:
                self.add_error("upload", exc)
                return cleaned
            if not cleaned.get("name"):
                cleaned["name"] = images.default_image_name(upload.name, IMAGE_NAME_MAX_LENGTH)
                self.instance.name = cleaned["name"]
        return cleaned


@admin.register(UploadedImage)
class UploadedImageAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "platform",
        "uploaded_by",
        "format",
        "width",
        "height",
        "size",
        "created",
    )
    list_filter = ("format", "platform")
    search_fields = ("name", "file", "platform__key", "uploaded_by__username")
    list_select_related = ("platform", "uploaded_by")
    autocomplete_fields = ("platform", "uploaded_by")
    date_hierarchy = "created"
    readonly_fields = ("preview", "file", "format", "width", "height", "size", "created")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = UploadedImageAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("platform", "uploaded_by", "name", "upload")
        return ("platform", "uploaded_by", "name", *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: UploadedImage, form: Any, change: bool) -> None:
        processed = form.cleaned_data.get("processed")
        if change or processed is None:
            super().save_model(request, obj, form, change)
            return
        services.store_uploaded_image(obj, processed)

    @admin.display(description="Preview")
    def preview(self, image: UploadedImage) -> str:
        if not image.file:
            return "-"
        return format_html('<img src="{}" alt="" style="max-height: 120px">', image.file.url)


from .assertions import admin as assertions_admin  # noqa: E402, F401  (the assertion admin)
from .openbadges import admin as openbadges_admin  # noqa: E402, F401  (Open Badges, read-only)
