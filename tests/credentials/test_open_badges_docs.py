"""The verifier printed in docs/open-badges.md, run as a third party would run it, on
what the server issues: both 3.0 forms verify, tampering fails, revocation shows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from ibl_credentials.models import Assertion
from tests.support.credentials_factories import AssertionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.live]
ROOT = Path(__file__).resolve().parents[2]


def verify_py() -> str:
    text = (ROOT / "docs/open-badges.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    [script] = [block for block in blocks if "def verify_data_integrity" in block]
    return script


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "verify.py").write_text(verify_py())
    for context in (ROOT / "ibl_credentials/openbadges/contexts").glob("*.jsonld"):
        shutil.copy(context, tmp_path / context.name)
    return tmp_path


def save(folder: Path, assertion: Assertion) -> None:
    client = APIClient()
    url = f"/ob/v3/credentials/{assertion.entity_id}"
    ldp = client.get(url, HTTP_ACCEPT="application/vc+ld+json")
    jwt = client.get(url, HTTP_ACCEPT="application/vc+jwt")
    listed = client.get(f"/ob/v3/status/{assertion.credential.issuer.entity_id}")
    assert ldp.status_code == jwt.status_code == listed.status_code == 200
    (folder / "credential.json").write_bytes(ldp.content)
    (folder / "credential.jwt").write_bytes(jwt.content)
    (folder / "status.json").write_bytes(listed.content)


def run(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "verify.py", "credential.json", "credential.jwt", "status.json"],
        cwd=folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_documented_verifier_accepts_then_sees_the_revocation(folder):
    assertion = AssertionFactory()
    save(folder, assertion)
    result = run(folder)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Data Integrity proof OK, signed by did:key:z6Mk")
    assert lines[1].startswith("VC-JWT OK, issuer did:key:z6Mk")
    assert lines[2] == "Not revoked"

    Assertion.objects.filter(pk=assertion.pk).update(revoked=True, revocation_reason="x")
    save(folder, assertion)
    result = run(folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2] == "REVOKED"


def test_the_documented_verifier_refuses_a_tampered_credential(folder):
    assertion = AssertionFactory()
    save(folder, assertion)
    credential = json.loads((folder / "credential.json").read_text())
    credential["credentialSubject"]["achievement"]["name"] += "!"
    (folder / "credential.json").write_text(json.dumps(credential))
    result = run(folder)
    assert result.returncode != 0 and "InvalidSignature" in result.stderr
