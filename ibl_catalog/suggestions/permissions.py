"""Who may read a learner's suggestions (``GET .../user/``), as permission classes.

Both read the request's :class:`~.learners.LearnerScope`, computed once. They compose
with ``ibl_core``'s classes::

    permission_classes = [IsDMAdmin | IsNamedLearner | IsPlatformAdminOfNamedLearner]
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from ibl_catalog.suggestions.learners import learner_scope


class IsNamedLearner(BasePermission):
    """The learner the request names is the caller (their own visible suggestions)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        scope = learner_scope(request)
        return scope.user_id == user.pk and bool(scope.own_platform_ids)


class IsPlatformAdminOfNamedLearner(BasePermission):
    """A platform admin of a platform the named learner is a member of (read-only)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated or request.method not in SAFE_METHODS:
            return False
        return bool(learner_scope(request).admin_platform_ids)
