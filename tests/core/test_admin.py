"""Every admin changelist and add page answers 200 with data present, in bounded queries."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_catalog.models import SuggestionCount
from ibl_core.models import (
    APIKey,
    Event,
    UserGroupMember,
    WebhookAttempt,
    WebhookDelivery,
    hash_api_key,
)
from ibl_core.tenancy import groups
from ibl_credentials.models import (
    Assertion,
    AssertionSync,
    BulkIssueJob,
    ExternalCredentialMapping,
    GroupAssignment,
    IssuerKey,
    ProviderConfig,
    Revocation,
    SignedCredential,
    StatusEntry,
    StatusList,
    UserAssignment,
)
from tests.support.factories import (
    CourseFactory,
    DepartmentMemberFactory,
    PathwayFactory,
    ProgramFactory,
    UserFactory,
    UserGroupFactory,
)

pytestmark = pytest.mark.django_db

GROUP_MODELS = [
    model
    for kind in SUGGESTION_KINDS
    for model in (kind.group_model, kind.support_model)
    if model is not None
]
# Made by the Open Badges endpoints and the issuer's creation: read-only in the admin.
OPEN_BADGES_MODELS = [IssuerKey, SignedCredential, StatusList, StatusEntry, Revocation]
ASSIGNMENT_MODELS = [UserAssignment, GroupAssignment]
MODELS = [model for model in admin.site._registry if model._meta.app_label.startswith("ibl_")]


@pytest.fixture
def superuser_client(client, world):
    # A department's groups hold only its members.
    DepartmentMemberFactory(department=world.department, user=world.users["department_admin"])
    for n in range(5):
        ProgramFactory(platform=world.p1, program_key=f"program-v1:x+{n}+r")
        CourseFactory(platform=world.p1)
        PathwayFactory(platform=world.p1)
        group = UserGroupFactory(platform=world.p1, department=world.department)
        groups.add_members(group, [world.users["learner_p1"], world.users["department_admin"]])
    client.force_login(world.users["dm_admin"])
    return client


def test_every_ibl_model_is_registered():
    from django.apps import apps

    for label in ("ibl_core", "ibl_catalog", "ibl_credentials"):
        for model in apps.get_app_config(label).get_models():
            if not model._meta.auto_created:
                assert model in admin.site._registry, model


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_add_pages(superuser_client, model, django_assert_max_num_queries):
    opts = model._meta
    with django_assert_max_num_queries(15):
        response = superuser_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        )
    assert response.status_code == 200
    with django_assert_max_num_queries(15):
        response = superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    # Read-only bookkeeping (the counts the database keeps) has no add page; group
    # members are added on their group's page; group suggestions are written with the
    # API only (it fans them out to the members); assertions are issued with the API;
    # keys, signed credentials and status lists are made by the server; events,
    # deliveries, attempts and bulk issue jobs are the system's records; credential
    # assignments are made with the API (removing one revokes what it issued); provider
    # configurations (their API key) and mappings are written with the API, provider
    # syncs by the server.
    read_only = (SuggestionCount, UserGroupMember, *GROUP_MODELS, Assertion, *OPEN_BADGES_MODELS,
                 Event, WebhookDelivery, WebhookAttempt, BulkIssueJob,
                 *ASSIGNMENT_MODELS, ProviderConfig, ExternalCredentialMapping,
                 AssertionSync)  # fmt: skip
    assert response.status_code == (403 if model in read_only else 200)


def test_changelist_queries_do_not_grow_with_rows(
    superuser_client, world, django_assert_max_num_queries
):
    url = reverse("admin:ibl_core_apikey_changelist")
    superuser_client.get(url)
    for _ in range(20):
        APIKey.objects.issue(user=UserFactory(), platform=world.p1)
    with django_assert_max_num_queries(12):
        assert superuser_client.get(url).status_code == 200


def test_api_key_created_from_admin_is_shown_once(superuser_client, world):
    user = world.users["learner_p1"]
    response = superuser_client.post(
        reverse("admin:ibl_core_apikey_add"),
        {"user": user.pk, "platform": world.p1.pk, "name": "from admin"},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    raw_key = re.search(r"The API key is ([0-9a-f]{64})", text).group(1)
    key = APIKey.objects.get(name="from admin")
    assert key.hashed_key == hash_api_key(raw_key)
    assert (key.user, key.platform) == (user, world.p1)
    # Never again: the change page does not contain it.
    page = superuser_client.get(reverse("admin:ibl_core_apikey_change", args=[key.pk]))
    assert raw_key not in page.content.decode()


# Pages of the example project's admin, as a superuser sees them ---------------------


def test_api_key_status_says_active_for_a_healthy_key(superuser_client, world):
    from datetime import timedelta

    from django.utils import timezone

    user = world.users["learner_p1"]
    APIKey.objects.filter(user=user).delete()
    APIKey.objects.issue(user=user, platform=world.p1, name="healthy")
    revoked, _ = APIKey.objects.issue(user=user, platform=world.p1, name="revoked")
    revoked.revoked = True
    revoked.save()
    APIKey.objects.issue(
        user=user, platform=world.p1, name="expired", expires=timezone.now() - timedelta(days=1)
    )
    page = superuser_client.get(
        reverse("admin:ibl_core_apikey_changelist"), {"user__id__exact": user.pk}
    ).content.decode()
    statuses = {
        name: re.search(rf'{name}</td>.*?<td class="field-status">(\w+)</td>', page, re.S).group(1)
        for name in ("healthy", "revoked", "expired")
    }
    assert statuses == {"healthy": "Active", "revoked": "Revoked", "expired": "Expired"}
    assert "icon-no.svg" not in page  # no red cross for anything on this page


def test_issuer_add_page_leaves_the_template_tags_box_empty(superuser_client, world):
    from ibl_credentials.models import Issuer

    page = superuser_client.get(reverse("admin:ibl_credentials_issuer_add")).content.decode()
    box = re.search(r'<textarea name="allowed_template_tags"[^>]*>(.*?)</textarea>', page, re.S)
    assert box.group(1).strip() == ""
    assert ">null<" not in page.replace("\n", "")
    response = superuser_client.post(
        reverse("admin:ibl_credentials_issuer_add"),
        {
            "platform": world.p1.pk,
            "entity_id": "from-admin",
            "name": "From admin",
            "allowed_template_tags": "",
            "signatories-TOTAL_FORMS": "0",
            "signatories-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()
    issuer = Issuer.objects.get(entity_id="from-admin")
    assert issuer.allowed_template_tags is None
    change = superuser_client.get(reverse("admin:ibl_credentials_issuer_change", args=[issuer.pk]))
    box = re.search(
        r'<textarea name="allowed_template_tags"[^>]*>(.*?)</textarea>',
        change.content.decode(),
        re.S,
    )
    assert box.group(1).strip() == ""


def issuer_form(world, **fields) -> dict:
    return {
        "platform": world.p1.pk,
        "entity_id": "acme",
        "name": "Acme",
        "allowed_template_tags": "",
        "signatories-TOTAL_FORMS": "0",
        "signatories-INITIAL_FORMS": "0",
        **fields,
    }


FOREIGN_IMAGE = (
    "Use an http or https URL, or an image uploaded to this platform "
    "(a path under uploaded_images/p1/)."
)


def test_issuer_admin_refuses_another_platforms_images(superuser_client, world):
    from django.utils.html import escape

    from ibl_credentials.models import Issuer

    url = reverse("admin:ibl_credentials_issuer_add")
    icon = superuser_client.post(url, issuer_form(world, icon_image="uploaded_images/p2/x.png"))
    assert icon.status_code == 200
    assert escape(FOREIGN_IMAGE) in icon.content.decode()
    signatory = superuser_client.post(
        url,
        issuer_form(
            world,
            **{
                "signatories-TOTAL_FORMS": "1",
                "signatories-0-order": "0",
                "signatories-0-name": "Dana",
                "signatories-0-title": "Dean",
                "signatories-0-signature_image": "/media/uploaded_images/p2/sig.png",
            },
        ),
    )
    assert signatory.status_code == 200
    assert escape(FOREIGN_IMAGE) in signatory.content.decode()
    assert not Issuer.objects.exists()
    own = superuser_client.post(
        url,
        issuer_form(
            world,
            icon_image="uploaded_images/p1/x.png",
            **{
                "signatories-TOTAL_FORMS": "1",
                "signatories-0-order": "0",
                "signatories-0-name": "Dana",
                "signatories-0-signature_image": "uploaded_images/p1/sig.png",
            },
        ),
    )
    assert own.status_code == 302
    issuer = Issuer.objects.get()
    assert issuer.signatories.get().signature_image == "uploaded_images/p1/sig.png"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"key": "org-two", "org": "new-org"}, "'org-two' is the org of platform 'p2'"),
        ({"key": "new", "org": "p2"}, "'p2' is the key of platform 'p2'"),
    ],
)
def test_platform_admin_refuses_a_key_or_org_of_another_platform(
    superuser_client, world, fields, message
):
    from django.utils.html import escape

    from ibl_core.models import Platform

    response = superuser_client.post(
        reverse("admin:ibl_core_platform_add"), {"name": "New", "active": "on", **fields}
    )
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert Platform.objects.count() == 2


def test_platform_admin_accepts_its_own_key_as_org(superuser_client, world):
    from ibl_core.models import Platform

    response = superuser_client.post(
        reverse("admin:ibl_core_platform_add"), {"key": "p3", "org": "p3", "name": "Three"}
    )
    assert response.status_code == 302
    platform = Platform.objects.get(key="p3")
    change = superuser_client.post(
        reverse("admin:ibl_core_platform_change", args=[platform.pk]),
        {"key": "p3", "org": "p3", "name": "Three again"},
    )
    assert change.status_code == 302


def test_user_list_shows_each_users_id(superuser_client, world):
    page = superuser_client.get(reverse("admin:auth_user_changelist")).content.decode()
    learner = world.users["learner_p1"]
    assert '<th scope="col" class="sortable column-id' in page
    row = re.search(rf'<td class="field-id">{learner.pk}</td>.*?</tr>', page, re.S)
    assert row is not None and "learner_p1" in row.group(0)


def test_the_admin_names_the_project(superuser_client):
    body = superuser_client.get("/admin/").content.decode()
    assert "ibl-data-manager administration" in body and "Django administration" not in body


# Credentials (badge classes) ----------------------------------------------------------


def credential_form(world, issuer, **fields) -> dict:
    return {
        "platform": world.p1.pk,
        "issuer": issuer.pk,
        "entity_id": "badge",
        "name": "Badge",
        "credential_type": "badge",
        "signal": "COURSE_PASSED",
        "tags": "[]",
        "metadata": "{}",
        "public": "on",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
        "own_signatories-TOTAL_FORMS": "0",
        "own_signatories-INITIAL_FORMS": "0",
        **fields,
    }


def test_credential_pages_in_bounded_queries(
    superuser_client, world, django_assert_max_num_queries
):
    from tests.support.credentials_factories import (
        CredentialFactory,
        CredentialItemFactory,
        SignatoryFactory,
    )

    for _ in range(20):
        credential = CredentialFactory(issuer__platform=world.p1)
        CredentialItemFactory(credential=credential)
        SignatoryFactory(issuer=credential.issuer, credential=credential)
    for name in ("credential", "credentialitem", "signatory"):
        with django_assert_max_num_queries(15):
            response = superuser_client.get(reverse(f"admin:ibl_credentials_{name}_changelist"))
        assert response.status_code == 200
        assert "Credential" in response.content.decode()
    with django_assert_max_num_queries(20):
        response = superuser_client.get(
            reverse("admin:ibl_credentials_credential_change", args=[credential.pk])
        )
    page = response.content.decode()
    assert credential.items.get().key in page
    assert credential.own_signatories.get().name in page


def test_credential_added_in_the_admin_with_links_and_signatories(superuser_client, world):
    from ibl_credentials.models import Credential
    from tests.support.credentials_factories import IssuerFactory, SignatoryFactory

    issuer = IssuerFactory(platform=world.p1)
    SignatoryFactory(issuer=issuer, name="Issuer-wide")
    form = credential_form(
        world,
        issuer,
        **{
            "items-TOTAL_FORMS": "1",
            "items-0-kind": "course",
            "items-0-key": "course-v1:a+b+c",
            "own_signatories-TOTAL_FORMS": "1",
            "own_signatories-0-order": "0",
            "own_signatories-0-name": "Prof",
            "own_signatories-0-title": "Chair",
            "own_signatories-0-signature_image": "https://x.org/s.png",
        },
    )
    response = superuser_client.post(reverse("admin:ibl_credentials_credential_add"), form)
    assert response.status_code == 302, response.content.decode()
    credential = Credential.objects.get(entity_id="badge")
    assert list(credential.items.values_list("kind", "key")) == [("course", "course-v1:a+b+c")]
    signatory = credential.own_signatories.get()
    assert (signatory.name, signatory.issuer) == ("Prof", issuer)
    # The issuer's page lists its issuer-wide signatories only.
    page = superuser_client.get(
        reverse("admin:ibl_credentials_issuer_change", args=[issuer.pk])
    ).content.decode()
    assert "Issuer-wide" in page and 'value="Prof"' not in page


def test_credential_admin_refuses_a_foreign_issuer_and_images(superuser_client, world):
    from ibl_credentials.models import Credential
    from tests.support.credentials_factories import IssuerFactory

    p2_issuer = IssuerFactory(platform=world.p2)
    url = reverse("admin:ibl_credentials_credential_add")
    response = superuser_client.post(url, credential_form(world, p2_issuer))
    assert response.status_code == 200
    assert "The issuer must belong to the same platform." in response.content.decode()
    issuer = IssuerFactory(platform=world.p1)
    response = superuser_client.post(
        url, credential_form(world, issuer, icon_image="uploaded_images/p2/x.png")
    )
    assert response.status_code == 200
    assert not Credential.objects.exists()


def test_signatory_admin_refuses_a_credential_of_another_issuer(superuser_client, world):
    from ibl_credentials.models import Signatory
    from tests.support.credentials_factories import CredentialFactory, IssuerFactory

    issuer = IssuerFactory(platform=world.p1)
    other = CredentialFactory(issuer__platform=world.p1)
    response = superuser_client.post(
        reverse("admin:ibl_credentials_signatory_add"),
        {"issuer": issuer.pk, "credential": other.pk, "order": 0, "name": "N", "title": "T"},
    )
    assert response.status_code == 200
    assert "This credential belongs to another issuer." in response.content.decode()
    assert not Signatory.objects.exists()
