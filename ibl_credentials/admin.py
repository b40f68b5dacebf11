"""Admin pages for issuers, signatories, credentials (badge classes) and uploaded images.

Images added here go through the same pipeline as the API
(:func:`ibl_credentials.images.pipeline.process_image`), so the admin cannot store a file the
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

from ibl_core.admin.form_fields import NullableJSONFormField
from ibl_credentials.images import pipeline as images
from ibl_credentials.images.services import store_uploaded_image
from ibl_credentials.models import (
    IMAGE_NAME_MAX_LENGTH,
    Credential,
    CredentialItem,
    Issuer,
    Signatory,
    UploadedImage,
)


class SignatoryInline(admin.TabularInline):
    """The issuer's own signatories (those of one credential are on its page)."""

    model = Signatory
    fk_name = "issuer"
    extra = 0
    fields = ("order", "name", "title", "signature_image")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(credential__isnull=True)


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


class SignatoryForm(forms.ModelForm):
    """A signatory of one credential belongs to that credential's issuer."""

    class Meta:
        model = Signatory
        fields = ("issuer", "credential", "order", "name", "title", "signature_image")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        issuer, credential = cleaned.get("issuer"), cleaned.get("credential")
        if issuer is not None and credential is not None and credential.issuer_id != issuer.pk:
            self.add_error("credential", "This credential belongs to another issuer.")
        return cleaned


@admin.register(Signatory)
class SignatoryAdmin(admin.ModelAdmin):
    form = SignatoryForm
    list_display = ("name", "title", "issuer", "credential", "platform", "order")
    list_filter = ("issuer__platform", ("credential", admin.EmptyFieldListFilter))
    search_fields = (
        "name",
        "title",
        "issuer__name",
        "issuer__entity_id",
        "credential__name",
        "credential__entity_id",
    )
    list_select_related = ("issuer__platform", "credential")
    autocomplete_fields = ("issuer", "credential")

    @admin.display(ordering="issuer__platform__key")
    def platform(self, signatory: Signatory) -> Any:
        return signatory.issuer.platform


class CredentialItemInline(admin.TabularInline):
    model = CredentialItem
    extra = 0
    fields = ("kind", "key")


class CredentialSignatoryFormSet(forms.BaseInlineFormSet):
    """A credential's signatories belong to the credential's issuer: set, not chosen."""

    def add_fields(self, form: Any, index: Any) -> None:
        super().add_fields(form, index)
        if self.instance.issuer_id is not None:
            form.instance.issuer = self.instance.issuer


class CredentialSignatoryInline(admin.TabularInline):
    """Signatories of this credential only (the issuer's are on the issuer's page)."""

    model = Signatory
    fk_name = "credential"
    formset = CredentialSignatoryFormSet
    extra = 0
    fields = ("order", "name", "title", "signature_image")
    verbose_name = "signatory of this credential"
    verbose_name_plural = "signatories of this credential"


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "entity_id",
        "platform",
        "issuer",
        "credential_type",
        "public",
        "created_by",
        "created",
    )
    list_filter = ("platform", "public", "credential_type", "signal")
    search_fields = ("name", "entity_id", "description", "issuer__name", "platform__key")
    list_select_related = ("platform", "issuer", "created_by")
    autocomplete_fields = ("platform", "issuer", "created_by")
    readonly_fields = ("created", "modified")
    date_hierarchy = "created"
    inlines = (CredentialItemInline, CredentialSignatoryInline)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(CredentialItem)
class CredentialItemAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "credential", "platform")
    list_filter = ("kind", "credential__platform")
    search_fields = ("key", "credential__name", "credential__entity_id")
    list_select_related = ("credential__platform",)
    autocomplete_fields = ("credential",)

    @admin.display(ordering="credential__platform__key")
    def platform(self, item: CredentialItem) -> Any:
        return item.credential.platform


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
        store_uploaded_image(obj, processed)

    @admin.display(description="Preview")
    def preview(self, image: UploadedImage) -> str:
        if not image.file:
            return "-"
        return format_html('<img src="{}" alt="" style="max-height: 120px">', image.file.url)


from ibl_credentials.assertions import admin as assertions_admin  # noqa: E402, F401  (the assertion admin)
from ibl_credentials.assignments import admin as assignments_admin  # noqa: E402, F401  (assignments)
from ibl_credentials.openbadges import admin as openbadges_admin  # noqa: E402, F401  (Open Badges, read-only)
from ibl_credentials.providers import admin as providers_admin  # noqa: E402, F401  (providers and syncs)
