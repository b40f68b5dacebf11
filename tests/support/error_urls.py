"""The example project's URLs plus views that fail, for the error-handler tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from example_project.urls import handler400, handler403, handler404, handler500
from example_project.urls import urlpatterns as project_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


class BoomAPIView(APIView):
    permission_classes: list = []

    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug in a DRF view")


urlpatterns = [
    path("api/boom/", boom),
    path("api/boom-drf/", BoomAPIView.as_view()),
    path("boom/", boom),
    *project_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
