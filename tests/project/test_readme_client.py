"""The README's example of the published client (``iblai``), run as written against a
live server: only the host and ``KEY`` are this test's."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from tests.support.factories import MembershipFactory, PlatformFactory, issue_key
from tests.support.live import ROOT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(
        r"<!-- iblai-example:start -->\n```python\n(.*?)```\n<!-- iblai-example:end -->",
        text,
        re.S,
    )
    assert found, "README.md has no iblai-example block"
    return found.group(1)


def test_the_readme_client_example_lists_the_platform_suggestions(live_server):
    platform = PlatformFactory(key="demo")
    admin = MembershipFactory(platform=platform, is_admin=True).user
    code = readme_example()
    assert '"http://127.0.0.1:8000"' in code
    code = code.replace('"http://127.0.0.1:8000"', repr(live_server.url))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {"KEY": issue_key(admin, platform)})
    assert printed.getvalue() == "200 0\n"
