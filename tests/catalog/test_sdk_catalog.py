"""The suggestion operations driven through the published client, ``iblai`` 4.202.2.

The client was generated from the upstream server's schema: each ``CatalogApi``
method sends the request the way a real integrator's code does (including the
list's query parameters on writes) and returns the raw HTTP response, whose body is
parsed with the client's own models. Where the client's declared shape and the
contract disagree, the contract wins and the test says so.
"""

from __future__ import annotations

import json

import pytest
from iblai import models as sdk
from iblai.api.catalog_api import CatalogApi

from ibl_catalog.declarations import SUGGESTION_KINDS
from tests.support.catalog_helpers import make_item

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture(params=SUGGESTION_KINDS, ids=lambda kind: kind.label)
def kind(request):
    return request.param


def operation(api: CatalogApi, kind, name: str):
    return getattr(api, f"catalog_suggestions_{kind.label}_{name}")


def model(kind, name: str):
    """The client's model ``<Kind><name>``, e.g. ``ProgramSuggestionCreate``."""
    return getattr(sdk, f"{kind.label.title()}{name}")


def body(response) -> dict:
    return json.loads(response.data)


def item_fields(kind, item) -> dict[str, str]:
    """The identifiers of ``item`` as a request names them (every one: the client's
    models mark every identifier required)."""
    return {
        identifier.name: str(getattr(item, identifier.field)) for identifier in kind.identifiers
    }


@pytest.mark.sdk_operations(
    "catalog_suggestions_{kind}_manage_create",
    "catalog_suggestions_{kind}_manage_retrieve",
    "catalog_suggestions_{kind}_manage_bulk_create",
    "catalog_suggestions_{kind}_user_retrieve",
    "catalog_suggestions_{kind}_manage_destroy",
)
def test_each_suggestion_operation_through_the_published_client(kind, world, published_client):
    api = published_client.catalog(world.keys["platform_admin_p1"])
    learner = world.users["learner_p1"]
    item = make_item(kind, world.p1)
    label = kind.label

    # create: the client sends platform_key in the query string as well as the body
    create = model(kind, "SuggestionCreate")(
        platform_key="p1", user_id=str(learner.pk), metadata={"source": "sdk"},
        **item_fields(kind, item),
    )  # fmt: skip
    created = operation(api, kind, "manage_create")(
        platform_key="p1", **{f"{label}_suggestion_create": create}
    )
    assert created.status == 200
    detail = model(kind, "SuggestionDetail").from_dict(body(created))
    assert (detail.user_id, detail.username, detail.platform_key) == (
        learner.pk,
        "learner_p1",
        "p1",
    )
    assert detail.metadata == {"source": "sdk"}
    assert kind.model._default_manager.get(pk=detail.id).user == learner

    # retrieve: the client's page model reads next_page / previous_page
    listed = operation(api, kind, "manage_retrieve")(platform_key="p1", sort="-id")
    assert listed.status == 200
    paginated = getattr(sdk, f"Paginated{kind.label.title()}Suggestion").from_dict(body(listed))
    assert (paginated.count, paginated.next_page, paginated.previous_page) == (1, None, None)
    assert [row.id for row in paginated.results] == [detail.id]

    # bulk: rows are untyped dicts in the client
    other = world.users["department_admin"]
    bulk = model(kind, "SuggestionBulkCreate")(
        platform_key="p1",
        suggestion_data=[
            {"user_id": other.pk, **item_fields(kind, item)},
            {"user_id": 10**9, **item_fields(kind, item)},
        ],
    )
    answered = operation(api, kind, "manage_bulk_create")(
        **{f"{label}_suggestion_bulk_create": bulk}
    )
    assert answered.status == 200
    result = sdk.BulkSuggestionResponse.from_dict(body(answered))
    assert (result.successes, result.error_codes) == (1, ["1:user_not_found"])

    # the learner view, read by the platform admin (the client requires its own
    # learner parameter: user for courses, username otherwise)
    learner_parameter = "user" if label == "course" else "username"
    viewed = operation(api, kind, "user_retrieve")(**{learner_parameter: "learner_p1"})
    assert viewed.status == 200
    mine = getattr(sdk, f"Paginated{kind.label.title()}Suggestion").from_dict(body(viewed))
    assert [row.id for row in mine.results] == [detail.id]

    # destroy: suggestion_id and platform_key in the query string
    deleted = operation(api, kind, "manage_destroy")(suggestion_id=detail.id, platform_key="p1")
    assert deleted.status == 200
    assert body(deleted) == {"detail": "Suggestion deleted.", "suggestion_id": detail.id}
    assert not kind.model._default_manager.filter(pk=detail.id).exists()


def test_errors_come_back_as_the_contract_says(kind, world, published_client):
    api = published_client.catalog(world.keys["learner_p1"])
    item = make_item(kind, world.p1)
    create = model(kind, "SuggestionCreate")(
        platform_key="p1", user_id=str(world.users["learner_p1"].pk), **item_fields(kind, item)
    )
    refused = operation(api, kind, "manage_create")(
        platform_key="p1", **{f"{kind.label}_suggestion_create": create}
    )
    assert refused.status == 403
    assert body(refused) == {"detail": "You do not have permission to perform this action."}
    assert not kind.model._default_manager.exists()


@pytest.mark.sdk_operations(
    "catalog_suggestions_{kind}_manage_group_create",
    "catalog_suggestions_{kind}_manage_group_retrieve",
    "catalog_suggestions_{kind}_manage_group_destroy",
)
def test_each_group_suggestion_operation_through_the_published_client(
    kind, world, published_client
):
    from ibl_core.tenancy.groups import create_or_update_group

    api = published_client.catalog(world.keys["platform_admin_p1"])
    learner = world.users["learner_p1"]
    group, _ = create_or_update_group(world.p1, "Cohort", add=[learner])
    item = make_item(kind, world.p1)
    label = kind.label
    create_model = model(kind, "GroupSuggestionCreate")
    # The client's create model names the item by one identifier: course_id,
    # program_key, and for pathways pathway_uuid alone (although the upstream docstring
    # says pathway_id). The contract accepts either pathway identifier alone, so the
    # client's request is served as it is.
    identifiers = {
        identifier.name: str(getattr(item, identifier.field))
        for identifier in kind.identifiers
        if identifier.name in create_model.model_fields
    }
    assert identifiers  # one identifier at least: the request names the item
    create = create_model(
        platform_key="p1", group_id=group.pk, metadata={"source": "sdk"}, **identifiers
    )
    created = operation(api, kind, "manage_group_create")(
        platform_key="p1", **{f"{label}_group_suggestion_create": create}
    )
    assert created.status == 200
    detail = model(kind, "GroupSuggestionDetail").from_dict(body(created))
    assert (detail.group_id, detail.group_name, detail.platform_key) == (group.pk, "Cohort", "p1")
    # accepted and user_count are optional in the course and pathway detail models but
    # required in the program's: the contract always sends both, so every model parses.
    assert (detail.accepted, detail.visible, detail.user_count) == (False, True, 1)
    assert detail.metadata == {"source": "sdk"}
    # the member received it
    fanned = kind.model._default_manager.get(user=learner)
    assert (fanned.direct, fanned.metadata) == (False, {"source": "sdk"})

    listed = operation(api, kind, "manage_group_retrieve")(platform_key="p1", sort="id")
    assert listed.status == 200
    paginated = getattr(sdk, f"Paginated{label.title()}GroupSuggestion").from_dict(body(listed))
    assert (paginated.count, paginated.next_page, paginated.previous_page) == (1, None, None)
    assert [row.id for row in paginated.results] == [detail.id]
    assert paginated.results[0].user_count == 1

    deleted = operation(api, kind, "manage_group_destroy")(
        platform_key="p1", suggestion_id=detail.id
    )
    assert deleted.status == 200
    assert body(deleted) == {"detail": "Group suggestion deleted.", "suggestion_id": detail.id}
    assert not kind.group_model.objects.exists()
    assert not kind.model._default_manager.filter(user=learner).exists()
