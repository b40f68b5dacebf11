"""The credentials paths of the contract, mounted at ``api/credentials/``.

Order matters: every literal segment (``images/``, ``issuers/``, ``issuers/authority/``,
``assertions/``, ``assignments/``, ``course-credentials/``, ``*-over-time/``) comes before the

``assertions/``, ``course-credentials/``, ``*-over-time/``, ``provider-config/``,
``external-mapping/``) comes before the
``{entity_id}`` routes, so none of them can be read as a credential's id (and
``validators.RESERVED_ENTITY_IDS`` keeps ids from taking those names). Detail routes are
published without a trailing slash; both forms are served (never a redirect: a
redirected PUT would lose its body), and only the published form is in the schema.
"""

from django.urls import URLPattern, path, register_converter
from django.urls.converters import StringConverter

from ibl_credentials.analytics.views import (
    AssertionsOverTimeView,
    CourseAssertionsOverTimeView,
    CredentialsOverTimeView,
)
from ibl_credentials.assertions import views as assertion_views
from ibl_credentials.assignments import views as assignment_views
from ibl_credentials.credentials.views import (
    CourseCredentialsView,
    CredentialDetailView,
    CredentialListView,
)
from ibl_credentials.exim import views as exim_views
from ibl_credentials.images.views import ImagesView
from ibl_credentials.issuers.views import IssuerDetailView, IssuersView, SignatoriesView
from ibl_credentials.openbadges.verify_views import VerifyCredentialView
from ibl_credentials.providers import views as provider_views
from ibl_credentials.validators import RESERVED_ENTITY_IDS

USER = "orgs/<str:org>/users/<str:user_id>/"


class UnreservedSegment(StringConverter):
    """A segment that is not one of the literal segments (no entityId is one).

    ``assertions/assertions/`` is then the list of a credential named ``assertions``
    (none: 404), not an assertion named ``assertions`` that refuses a POST (405).
    """

    def to_python(self, value: str) -> str:
        if value.lower() in RESERVED_ENTITY_IDS:
            raise ValueError(value)  # no match: the next route is tried
        return value


register_converter(UnreservedSegment, "unreserved")


def detail(route: str, view, name: str) -> list[URLPattern]:
    """A detail route without and with the trailing slash; the schema shows the first."""
    return [
        path(route, view.as_view(), name=name),
        path(f"{route}/", view.as_view(schema=None), name=f"{name}-slash"),
    ]


urlpatterns: list[URLPattern] = [
    # The verifier (public): a literal path, first, so no pattern can read it as an id.
    path("verify/", VerifyCredentialView.as_view(), name="credentials-verify"),
    # Course credential import/export (DM admins; no platform in the path) ------------
    path(
        "exim/credentials/course/<str:course_id>/export/",
        exim_views.CourseExportView.as_view(),
        name="credentials-exim-export",
    ),
    path(
        "exim/credentials/course/<str:course_id>/import/",
        exim_views.CourseImportView.as_view(),
        name="credentials-exim-import",
    ),
    # Images and issuers ------------------------------------------------------------
    path(f"{USER}images/", ImagesView.as_view(), name="credentials-images"),
    path(f"{USER}issuers/", IssuersView.as_view(), name="credentials-issuers"),
    path(
        f"{USER}issuers/authority/",
        SignatoriesView.as_view(),
        name="credentials-signatories",
    ),
    *detail(
        f"{USER}issuers/<str:entity_id>",
        IssuerDetailView,
        "credentials-issuer-detail",
    ),
    # A user's assertions -------------------------------------------------------------
    path(
        f"{USER}assertions/",
        assertion_views.UserAssertionsView.as_view(),
        name="credentials-user-assertions",
    ),
    *detail(
        f"{USER}assertions/<unreserved:entity_id>",
        assertion_views.AssertionDetailView,
        "credentials-assertion-detail",
    ),
    # Credential assignments -----------------------------------------------------------
    path(
        f"{USER}assignments/users/",
        assignment_views.UserAssignmentsView.as_view(),
        name="credentials-user-assignments",
    ),
    path(
        f"{USER}assignments/groups/",
        assignment_views.GroupAssignmentsView.as_view(),
        name="credentials-group-assignments",
    ),
    *detail(
        f"{USER}assignments/<str:assignment_id>",
        assignment_views.AssignmentDetailView,
        "credentials-assignment-detail",
    ),
    # Credentials linked to courses -----------------------------------------------------
    path(
        f"{USER}course-credentials/",
        CourseCredentialsView.as_view(),
        name="credentials-course-credentials",
    ),
    # Analytics -------------------------------------------------------------------------
    path(
        f"{USER}assertions-over-time/",
        AssertionsOverTimeView.as_view(),
        name="credentials-assertions-over-time",
    ),
    path(
        f"{USER}credentials-over-time/",
        CredentialsOverTimeView.as_view(),
        name="credentials-credentials-over-time",
    ),
    path(
        f"{USER}course-assertions-over-time/",
        CourseAssertionsOverTimeView.as_view(),
        name="credentials-course-assertions-over-time",
    ),
    # External providers -----------------------------------------------------------------
    path(
        f"{USER}provider-config/",
        provider_views.ProviderConfigView.as_view(),
        name="credentials-provider-config",
    ),
    path(
        f"{USER}external-mapping/",
        provider_views.ExternalMappingView.as_view(),
        name="credentials-external-mapping",
    ),
    # Credentials (badge classes) and their assertions: {entity_id} routes last ----------
    path(USER, CredentialListView.as_view(), name="credentials-list"),
    path(
        f"{USER}<str:entity_id>/assertions/",
        assertion_views.CredentialAssertionsView.as_view(),
        name="credentials-credential-assertions",
    ),
    path(
        f"{USER}<str:entity_id>/assertions/bulk/",
        assertion_views.BulkIssueView.as_view(),
        name="credentials-bulk-issue",
    ),
    *detail(
        f"{USER}<str:entity_id>/assertions/bulk/<str:job_id>",
        assertion_views.BulkIssueJobView,
        "credentials-bulk-issue-job",
    ),
    *detail(
        f"{USER}<str:entity_id>",
        CredentialDetailView,
        "credentials-credential-detail",
    ),
    # The providers this server knows (no platform) -----------------------------------------
    path("providers/", provider_views.ProvidersView.as_view(), name="credentials-providers"),
    # Public, without authentication ------------------------------------------------------
    path(
        "public/assertions/<str:entity_id>/",
        assertion_views.PublicAssertionView.as_view(),
        name="credentials-public-assertion",
    ),
]
