"""Platforms (tenants), memberships, departments, API keys, roles and shared API helpers.

The code lives in packages by concern: :mod:`ibl_core.tenancy`, :mod:`ibl_core.api`,
:mod:`ibl_core.events`, :mod:`ibl_core.ops` and :mod:`ibl_core.sql`.

Host projects named some modules by their dotted path in settings and URLconfs before
that split (``"ibl_core.middleware.RequestLogMiddleware"``, ``include("ibl_core.health_urls")``
...). Those paths keep working: importing one gives the module at its new home, with a
``DeprecationWarning`` that names the new path (docs/changelog.md, "Upgrading to 0.4").
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

#: The dotted paths a host project's settings or URLconf could name, old -> new.
MOVED_MODULES = {
    "ibl_core.authentication": "ibl_core.tenancy.authentication",
    "ibl_core.docs_urls": "ibl_core.api.docs_urls",
    "ibl_core.errors": "ibl_core.api.errors",
    "ibl_core.health_urls": "ibl_core.ops.health_urls",
    "ibl_core.log": "ibl_core.ops.log",
    "ibl_core.login_lockout": "ibl_core.ops.login_lockout",
    "ibl_core.middleware": "ibl_core.ops.middleware",
    "ibl_core.pagination": "ibl_core.api.pagination",
    "ibl_core.parsers": "ibl_core.api.parsers",
    "ibl_core.permissions": "ibl_core.tenancy.permissions",
    "ibl_core.renderers": "ibl_core.api.renderers",
    "ibl_core.throttling": "ibl_core.ops.throttling",
}


class _MovedModuleLoader(importlib.abc.Loader):
    """Puts the module at its new path where the import system looks for the old one."""

    def __init__(self, new_name: str) -> None:
        self.new_name = new_name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a placeholder, replaced in exec_module

    def exec_module(self, module: ModuleType) -> None:
        warnings.warn(
            f"{module.__name__} moved to {self.new_name}: name the new path instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        # The import system returns whatever sys.modules holds once this returns.
        sys.modules[module.__name__] = importlib.import_module(self.new_name)


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Answers an import of an old path with the module at its new path."""

    def find_spec(self, fullname: str, path: object, target: object = None):  # type: ignore[override]
        new_name = MOVED_MODULES.get(fullname)
        if new_name is None:
            return None
        return importlib.util.spec_from_loader(fullname, _MovedModuleLoader(new_name))


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedModuleFinder())
