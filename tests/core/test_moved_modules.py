"""A host project's settings that name the modules' old dotted paths keep working."""

from __future__ import annotations

import importlib
import sys

import pytest
from django.utils.module_loading import import_string

from ibl_core import MOVED_MODULES


@pytest.mark.parametrize(("old", "new"), sorted(MOVED_MODULES.items()))
def test_an_old_path_gives_the_module_at_its_new_home_with_a_warning(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__name__ == new  # the module itself is not renamed


def test_a_setting_with_an_old_path_still_imports_its_class():
    sys.modules.pop("ibl_core.middleware", None)
    with pytest.warns(DeprecationWarning):
        middleware = import_string("ibl_core.middleware.RequestLogMiddleware")
    from ibl_core.ops.middleware import RequestLogMiddleware

    assert middleware is RequestLogMiddleware


def test_every_new_path_exists():
    for new in MOVED_MODULES.values():
        assert importlib.import_module(new).__name__ == new


def test_a_path_that_never_existed_is_still_an_import_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("ibl_core.no_such_module")
