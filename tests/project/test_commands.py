"""Management commands (operations.md): idempotent, one-line errors, non-zero exit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from ibl_catalog.models import Course, Pathway, Program
from ibl_core.models import (
    APIKey,
    Department,
    DepartmentAdmin,
    DepartmentMember,
    Platform,
    UserGroup,
    UserGroupMember,
)
from ibl_core.models import PlatformMembership as Membership
from ibl_core.tenancy.signals import group_members_changed

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_ibl_platform_creates_then_updates():
    run("ibl_platform", "acme", "--org", "acme-org", "--name", "Acme")
    run("ibl_platform", "acme", "--name", "Acme Academy")
    platform = Platform.objects.get()
    assert (platform.key, platform.org, platform.name) == ("acme", "acme-org", "Acme Academy")


def test_ibl_platform_org_defaults_to_key():
    run("ibl_platform", "acme")
    assert Platform.objects.get().org == "acme"


def test_ibl_platform_refuses_bad_key_and_taken_org():
    with pytest.raises(CommandError, match="Invalid platform key"):
        run("ibl_platform", "not a slug")
    run("ibl_platform", "one", "--org", "shared")
    with pytest.raises(CommandError, match="already belongs to platform 'one'"):
        run("ibl_platform", "two", "--org", "shared")
    assert Platform.objects.count() == 1


def test_ibl_platform_refuses_a_key_or_org_that_names_another_platform():
    run("ibl_platform", "acme", "--org", "acme-org")
    # {org} segments try keys first: "acme-org" as a key would hijack acme's org.
    with pytest.raises(CommandError, match="'acme-org' is the org of platform 'acme'"):
        run("ibl_platform", "acme-org")
    with pytest.raises(CommandError, match="'acme' is the key of platform 'acme'"):
        run("ibl_platform", "beta", "--org", "acme")
    run("ibl_platform", "beta", "--org", "beta-org")
    with pytest.raises(CommandError, match="'acme' is the key of platform 'acme'"):
        run("ibl_platform", "beta", "--org", "acme")  # an update, too
    assert dict(Platform.objects.values_list("key", "org")) == {
        "acme": "acme-org",
        "beta": "beta-org",
    }
    run("ibl_platform", "acme", "--org", "acme")  # its own key as its org is fine
    assert Platform.objects.get(key="acme").org == "acme"


def test_ibl_user_is_idempotent_with_departments():
    run("ibl_platform", "acme")
    args = (
        "ibl_user",
        "ann",
        "--platform",
        "acme",
        "--email",
        "ann@example.com",
        "--first-name",
        "Ann",
        "--department",
        "Eng",
        "--department-admin",
        "Ops",
        "--admin",
    )
    run(*args)
    run(*args)
    user = get_user_model().objects.get(username="ann")
    assert (user.email, user.first_name) == ("ann@example.com", "Ann")
    assert not user.has_usable_password()
    membership = Membership.objects.get()
    assert membership.is_admin and membership.active
    assert sorted(Department.objects.values_list("name", flat=True)) == ["Eng", "Ops"]
    assert DepartmentMember.objects.get().department.name == "Eng"
    assert DepartmentAdmin.objects.get().department.name == "Ops"


def test_ibl_user_superuser_and_password():
    run("ibl_user", "root", "--superuser", "--password", "s3cret-pass")
    user = get_user_model().objects.get(username="root")
    assert user.is_superuser and user.is_staff and user.check_password("s3cret-pass")


def test_ibl_user_errors():
    with pytest.raises(CommandError, match="does not exist"):
        run("ibl_user", "ann", "--platform", "missing")
    with pytest.raises(CommandError, match="need --platform"):
        run("ibl_user", "ann", "--admin")
    assert not get_user_model().objects.exists()


def test_ibl_program_is_idempotent():
    run("ibl_platform", "acme")
    run("ibl_program", "program-v1:a+b+c", "--platform", "acme", "--name", "One")
    run("ibl_program", "program-v1:a+b+c", "--platform", "acme", "--name", "Two")
    assert list(Program.objects.values_list("program_key", "name")) == [("program-v1:a+b+c", "Two")]
    with pytest.raises(CommandError, match="does not exist"):
        run("ibl_program", "x", "--platform", "missing", "--name", "X")


def test_ibl_course_is_idempotent():
    run("ibl_platform", "acme")
    run("ibl_platform", "beta")
    first = run("ibl_course", "course-v1:Org.X+CS-101+2026_T1", "--platform", "acme", "--name", "A")
    assert first == "Created course course-v1:Org.X+CS-101+2026_T1 on acme.\n"
    second = run(
        "ibl_course", "course-v1:Org.X+CS-101+2026_T1", "--platform", "acme", "--name", "B"
    )
    assert second == "Updated course course-v1:Org.X+CS-101+2026_T1 on acme.\n"
    run("ibl_course", "course-v1:Org.X+CS-101+2026_T1", "--platform", "beta", "--name", "C")
    run("ibl_course", "MITx/6.002x/2012_Fall", "--platform", "acme", "--name", "Old style")
    assert sorted(Course.objects.values_list("platform__key", "course_id", "name")) == [
        ("acme", "MITx/6.002x/2012_Fall", "Old style"),
        ("acme", "course-v1:Org.X+CS-101+2026_T1", "B"),
        ("beta", "course-v1:Org.X+CS-101+2026_T1", "C"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-a-course", "--name", "X"], "Invalid course id 'not-a-course'"),
        (["course-v1:a+b", "--name", "X"], "Invalid course id"),
        (["course-v1:a+b+c d", "--name", "X"], "Invalid course id"),
        (["course-v1:" + "x+" * 130 + "r", "--name", "X"], "at most 255 characters"),
        (["course-v1:a+b+c", "--name", " "], "--name must be 1 to 255 characters"),
        (["course-v1:a+b+c", "--name", "X", "--platform", "missing"], "does not exist"),
    ],
)
def test_ibl_course_errors(args, message):
    run("ibl_platform", "acme")
    with pytest.raises(CommandError, match=message):
        run("ibl_course", "--platform", "acme", *args)
    assert not Course.objects.exists()


def test_ibl_pathway_prints_its_uuid_and_is_idempotent():
    run("ibl_platform", "acme")
    first = run("ibl_pathway", "data-science", "--platform", "acme", "--name", "One")
    pathway = Pathway.objects.get()
    assert first == f"{pathway.pathway_uuid}\n"
    second = run("ibl_pathway", "data-science", "--platform", "acme", "--name", "Two")
    assert second == first  # the uuid stays
    chosen = "12345678-1234-5678-1234-567812345678"
    third = run(
        "ibl_pathway", "data-science", "--platform", "acme", "--name", "Two", "--uuid", chosen
    )
    assert third == f"{chosen}\n"
    assert third == run(
        "ibl_pathway",
        "data-science",
        "--platform",
        "acme",
        "--name",
        "Two",
        "--uuid",
        chosen.upper(),
    )
    assert list(Pathway.objects.values_list("pathway_id", "name")) == [("data-science", "Two")]
    assert str(Pathway.objects.get().pathway_uuid) == chosen


def test_ibl_pathway_refuses_a_uuid_of_another_pathway():
    run("ibl_platform", "acme")
    run("ibl_platform", "beta")
    chosen = "12345678-1234-5678-1234-567812345678"
    run("ibl_pathway", "one", "--platform", "acme", "--name", "One", "--uuid", chosen)
    for pathway_id, platform in (("two", "acme"), ("one", "beta")):
        with pytest.raises(
            CommandError, match=f"UUID {chosen} already belongs to pathway 'one' of platform 'acme'"
        ):
            run("ibl_pathway", pathway_id, "--platform", platform, "--name", "X", "--uuid", chosen)
    assert Pathway.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["has space", "--name", "X"], "Invalid pathway id 'has space'"),
        (["a/b", "--name", "X"], "Invalid pathway id"),
        (["x" * 256, "--name", "X"], "at most 255 characters"),
        (["p", "--name", "X", "--uuid", "nope"], "--uuid 'nope' is not a UUID"),
        (["p", "--name", ""], "--name must be 1 to 255 characters"),
        (["p", "--name", "X", "--platform", "missing"], "does not exist"),
    ],
)
def test_ibl_pathway_errors(args, message):
    run("ibl_platform", "acme")
    with pytest.raises(CommandError, match=message):
        run("ibl_pathway", "--platform", "acme", *args)
    assert not Pathway.objects.exists()


@pytest.fixture
def heard():
    calls: list[tuple[list[int], list[int]]] = []

    def receiver(sender, group, added, removed, **kwargs):
        calls.append((added, removed))

    group_members_changed.connect(receiver)
    yield calls
    group_members_changed.disconnect(receiver)


def group_world() -> dict[str, int]:
    run("ibl_platform", "acme")
    run("ibl_platform", "beta")
    for username in ("ann", "bob"):
        run("ibl_user", username, "--platform", "acme", "--department", "Eng")
    run("ibl_user", "cy", "--platform", "beta", "--department", "Ops")
    return dict(get_user_model().objects.values_list("username", "pk"))


def members_of(name: str) -> list[str]:
    return sorted(
        UserGroupMember.objects.filter(group__name=name).values_list("user__username", flat=True)
    )


def test_ibl_group_prints_its_id_and_is_idempotent(heard):
    ids = group_world()
    output = run("ibl_group", "Team", "--platform", "acme", "--add", "ann", "--add", "bob")
    group = UserGroup.objects.get()
    assert output == f"{group.pk}\n"
    assert run("ibl_group", "Team", "--platform", "acme", "--add", "ann") == output
    assert run("ibl_group", "Team", "--platform", "acme", "--remove", "bob") == output
    assert run("ibl_group", "Team", "--platform", "acme", "--remove", "bob") == output
    assert members_of("Team") == ["ann"] and group.department is None
    assert run("ibl_group", "Team", "--platform", "acme", "--department", "Eng") == output
    group.refresh_from_db()
    assert group.department.name == "Eng"
    run("ibl_group", "Team", "--platform", "acme")  # without --department: unchanged
    group.refresh_from_db()
    assert group.department.name == "Eng"
    # Another platform's group of that name is another group.
    other = run("ibl_group", "Team", "--platform", "beta", "--add", "cy")
    assert other != output and UserGroup.objects.count() == 2
    assert heard == [
        (sorted([ids["ann"], ids["bob"]]), []),
        ([], [ids["bob"]]),
        ([ids["cy"]], []),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--platform", "missing"],
            "Platform 'missing' does not exist (create it with ibl_platform).",
        ),
        (["--add", "zed"], "User 'zed' does not exist (create it with ibl_user)."),
        (["--remove", "zed"], "User 'zed' does not exist (create it with ibl_user)."),
        (["--add", "ann", "--add", "cy"], "Not active members of platform 'acme': cy."),
        (["--department", "Ops"], "Department 'Ops' does not exist on platform 'acme'."),
        (["--add", "ann", "--remove", "ann"], "User 'ann' is named by both --add and --remove."),
    ],
)
def test_ibl_group_errors_write_nothing(args, message, heard):
    group_world()
    with pytest.raises(CommandError) as error:
        run("ibl_group", "Team", "--platform", "acme", *args)
    assert str(error.value) == message
    assert not UserGroup.objects.exists() and heard == []


def test_ibl_group_refuses_bad_names():
    run("ibl_platform", "acme")
    for name in ("", " ", "x" * 256):
        with pytest.raises(CommandError, match="A group name must be 1 to 255 characters"):
            run("ibl_group", name, "--platform", "acme")
    assert not UserGroup.objects.exists()


def test_ibl_api_key_prints_only_the_key():
    run("ibl_platform", "acme")
    run("ibl_user", "ann", "--platform", "acme")
    output = run(
        "ibl_api_key", "ann", "--platform", "acme", "--name", "ci", "--expires-in-days", "30"
    )
    assert re.fullmatch(r"[0-9a-f]{64}\n", output)
    key = APIKey.objects.get()
    assert key.name == "ci" and key.expires is not None
    with pytest.raises(CommandError, match="between 1 and"):
        run("ibl_api_key", "ann", "--platform", "acme", "--expires-in-days", "0")
    with pytest.raises(CommandError, match="User 'bob' does not exist"):
        run("ibl_api_key", "bob", "--platform", "acme")


def demo_key(output: str) -> str:
    return re.search(r"\b([0-9a-f]{64})\b", output).group(1)


def key_works(client, key: str) -> bool:
    url = "/api/catalog/suggestions/program/manage/?platform_key=demo"
    return client.get(url, HTTP_AUTHORIZATION=f"Api-Token {key}").status_code == 200


def test_ibl_demo_is_idempotent_and_prints_a_working_key(client):
    first = run("ibl_demo")
    second = run("ibl_demo")
    assert Platform.objects.count() == 1
    assert Program.objects.count() == 3
    assert list(Course.objects.values_list("course_id", flat=True)) == [
        "course-v1:demo+python-101+2026"
    ]
    pathway = Pathway.objects.get()
    assert str(pathway.pathway_uuid) == "c7d0869a-738f-5a2d-ba31-a5c66f10d5f4"
    assert f"Demo: pathway data-analyst (uuid {pathway.pathway_uuid})\n" in second
    group = UserGroup.objects.get()
    assert (group.name, group.department.name) == ("Engineering cohort", "Engineering")
    assert members_of("Engineering cohort") == ["learner1", "learner2"]
    assert (
        f"Demo: user group 'Engineering cohort' (group_id {group.pk}): learner1, learner2\n"
        in second
    )
    key = demo_key(second)
    assert key != demo_key(first)
    assert "curl -H 'Authorization: Api-Token " + key in second
    # Run by hand, it never breaks a key in use (a running demo's)...
    assert key_works(client, demo_key(first)) and key_works(client, key)
    # ...`make run` replaces the earlier keys, once its port is known to be free.
    third = run("ibl_demo", "--replace-keys")
    assert APIKey.objects.count() == 1
    assert key_works(client, demo_key(third)) and not key_works(client, key)


def test_ibl_demo_prints_each_demo_users_id():
    output = run("ibl_demo")
    users = get_user_model().objects
    for username in ("demo-admin", "dept-admin", "learner1", "learner2", "learner3"):
        user_id = users.get(username=username).pk
        assert re.search(rf"^ +{user_id}  {username} ", output, re.M), output
    assert "learner in Design" in output


def test_ibl_demo_creates_an_admin_login_once(client):
    first = run("ibl_demo", "--base-url", "http://127.0.0.1:9000/")
    found = re.search(
        r"^Admin: http://127\.0\.0\.1:9000/admin/ as demo-superuser, password (\S+) ",
        first,
        re.M,
    )
    password = found.group(1)
    superuser = get_user_model().objects.get(username="demo-superuser")
    assert superuser.is_superuser and superuser.is_staff
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "demo-superuser", "password": password}
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    second = run("ibl_demo")
    assert password not in second
    assert "Admin: http://127.0.0.1:8000/admin/ as demo-superuser (password shown when" in second
    superuser.refresh_from_db()
    assert superuser.check_password(password)  # kept, not regenerated


def test_ibl_user_prints_the_users_id():
    output = run("ibl_user", "ann")
    assert output == f"Created user ann (id {get_user_model().objects.get().pk}).\n"


@pytest.mark.live
@pytest.mark.parametrize(
    "args",
    [
        ["ibl_platform"],
        ["ibl_api_key", "ann"],
        ["ibl_api_key", "ann", "--platform", "x", "--expires-in-days", "soon"],
        ["ibl_program", "k", "--platform", "x"],
        ["ibl_course", "course-v1:a+b+c", "--platform", "x"],
        ["ibl_course", "not-a-course", "--platform", "x", "--name", "X"],
        ["ibl_pathway", "p", "--name", "X"],
        ["ibl_pathway", "not a slug", "--platform", "x", "--name", "X"],
        ["ibl_pathway", "p", "--platform", "x", "--name", "X", "--uuid", "nope"],
        ["ibl_group", "--platform", "x"],
        ["ibl_group", "g", "--platform", "x", "--add", "a", "--remove", "a"],
        ["ibl_credential", "Badge"],
        ["ibl_credential", " ", "--platform", "x"],
        ["ibl_credential", "x" * 256, "--platform", "x"],
    ],
)
def test_bad_arguments_give_one_line_and_nonzero_exit(args):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr


# ibl_credential ---------------------------------------------------------------------


def credential_world() -> None:
    run("ibl_platform", "acme", "--name", "Acme Academy")
    run("ibl_platform", "beta")
    run("ibl_course", "course-v1:acme+c1+2026", "--platform", "acme", "--name", "C1")
    run("ibl_course", "course-v1:acme+c2+2026", "--platform", "acme", "--name", "C2")
    run("ibl_program", "program-v1:acme+p+run", "--platform", "acme", "--name", "P")
    run("ibl_pathway", "data", "--platform", "acme", "--name", "Data")
    run("ibl_course", "course-v1:beta+c9+2026", "--platform", "beta", "--name", "C9")


def links(credential) -> list[tuple[str, str]]:
    return list(credential.items.order_by("id").values_list("kind", "key"))


def test_ibl_credential_creates_the_default_issuer_and_prints_the_entity_id():
    from ibl_credentials.models import Credential, Issuer

    credential_world()
    output = run(
        "ibl_credential",
        "Python",
        "--platform",
        "acme",
        "--course",
        "course-v1:acme+c1+2026",
        "--program",
        "program-v1:acme+p+run",
        "--pathway",
        "data",
    )
    credential = Credential.objects.get()
    assert output == f"{credential.entity_id}\n"
    issuer = Issuer.objects.get()
    assert (issuer.platform.key, issuer.name) == ("acme", "Acme Academy")
    assert (credential.issuer, credential.platform.key, credential.name) == (
        issuer,
        "acme",
        "Python",
    )
    assert links(credential) == [
        ("course", "course-v1:acme+c1+2026"),
        ("program", "program-v1:acme+p+run"),
        ("pathway", "data"),
    ]


def test_ibl_credential_is_idempotent_by_name_and_replaces_the_kinds_given():
    from ibl_credentials.models import Credential, Issuer

    credential_world()
    first = run(
        "ibl_credential", "Python", "--platform", "acme", "--course", "course-v1:acme+c1+2026"
    )
    run("ibl_credential", "Other", "--platform", "acme")
    assert Issuer.objects.count() == 1  # the default issuer is reused
    second = run(
        "ibl_credential",
        "Python",
        "--platform",
        "acme",
        "--course",
        "course-v1:acme+c2+2026",
        "--program",
        "program-v1:acme+p+run",
    )
    assert second == first
    credential = Credential.objects.get(name="Python")
    assert links(credential) == [
        ("course", "course-v1:acme+c2+2026"),
        ("program", "program-v1:acme+p+run"),
    ]
    assert run("ibl_credential", "Python", "--platform", "acme") == first
    assert len(links(credential)) == 2  # kinds not given are kept
    # The same name on another platform is another credential.
    other = run("ibl_credential", "Python", "--platform", "beta")
    assert other != first and Credential.objects.count() == 3


def test_ibl_credential_uses_the_oldest_issuer_or_the_one_named():
    from ibl_credentials.models import Credential
    from tests.support.credentials_factories import IssuerFactory

    credential_world()
    oldest = IssuerFactory(platform=Platform.objects.get(key="acme"), entity_id="oldest")
    named = IssuerFactory(platform=oldest.platform, entity_id="named")
    run("ibl_credential", "A", "--platform", "acme")
    assert Credential.objects.get(name="A").issuer == oldest
    run("ibl_credential", "B", "--platform", "acme", "--issuer", "named")
    assert Credential.objects.get(name="B").issuer == named
    run("ibl_credential", "A", "--platform", "acme", "--issuer", "named")
    assert Credential.objects.get(name="A").issuer == named


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--platform", "missing"],
            "Platform 'missing' does not exist (create it with ibl_platform).",
        ),
        (["--issuer", "nope"], "Issuer 'nope' does not exist on platform 'acme'."),
        (["--issuer", "beta-issuer"], "Issuer 'beta-issuer' does not exist on platform 'acme'."),
        (
            ["--course", "course-v1:beta+c9+2026", "--course", "x"],
            "Unknown course keys on platform 'acme': 'course-v1:beta+c9+2026', 'x'.",
        ),
        (["--program", "nope"], "Unknown program keys on platform 'acme': 'nope'."),
        (["--pathway", "nope"], "Unknown pathway keys on platform 'acme': 'nope'."),
    ],
)
def test_ibl_credential_errors_write_nothing(args, message):
    from ibl_credentials.models import Credential, Issuer
    from tests.support.credentials_factories import IssuerFactory

    credential_world()
    IssuerFactory(platform=Platform.objects.get(key="beta"), entity_id="beta-issuer")
    with pytest.raises(CommandError) as error:
        run("ibl_credential", "Python", "--platform", "acme", *args)
    assert str(error.value) == message
    assert not Credential.objects.exists()
    assert Issuer.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "message"), [("", "NAME must not be blank."), ("x" * 256, "at most 255")]
)
def test_ibl_credential_refuses_bad_names(name, message):
    from ibl_credentials.models import Credential

    run("ibl_platform", "acme")
    with pytest.raises(CommandError, match=message):
        run("ibl_credential", name, "--platform", "acme")
    assert not Credential.objects.exists()
