"""Probe views for the authentication and permission tests."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from ibl_core.tenancy.permissions import (
    CanManagePlatform,
    IsDMAdmin,
    IsPlatformAdmin,
    IsPlatformMember,
)
from ibl_core.tenancy.platforms import platform_for_request


class ManageProbe(APIView):
    permission_classes = [CanManagePlatform]

    def get(self, request):
        return Response(
            {"platform": platform_for_request(request, self).key, "user": request.user.username}
        )

    def post(self, request):
        return self.get(request)


class MemberProbe(APIView):
    permission_classes = [IsDMAdmin | IsPlatformMember]

    def get(self, request, org):
        return Response({"platform": platform_for_request(request, self).key})


class AdminProbe(APIView):
    permission_classes = [IsDMAdmin | IsPlatformAdmin]

    def get(self, request, org):
        return Response({"platform": platform_for_request(request, self).key})


urlpatterns = [
    path("probe/manage/", ManageProbe.as_view()),
    path("probe/<str:org>/member/", MemberProbe.as_view()),
    path("probe/<str:org>/admin/", AdminProbe.as_view()),
]
