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

from ibl_catalog.models import Program
from ibl_core.models import APIKey, Department, DepartmentAdmin, DepartmentMember, Platform
from ibl_core.models import PlatformMembership as Membership

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.parametrize(
    "args",
    [
        ["ibl_platform"],
        ["ibl_api_key", "ann"],
        ["ibl_api_key", "ann", "--platform", "x", "--expires-in-days", "soon"],
        ["ibl_program", "k", "--platform", "x"],
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
