"""One include for a host project: ``path("", include("ibl_core.urls"))``.

It mounts the catalog and credentials URLs when those apps are installed, so
``ibl_core`` itself does not depend on them.
"""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("api/core/", include("ibl_core.events.webhooks.urls")),
    # The browsable API's "Log in" link (DRF's session login, behind the same lockout
    # as the admin's).
    path("api-auth/", include("rest_framework.urls")),
]
if apps.is_installed("ibl_catalog"):
    urlpatterns.append(path("api/catalog/", include("ibl_catalog.urls")))
if apps.is_installed("ibl_credentials"):
    urlpatterns.append(path("api/credentials/", include("ibl_credentials.urls")))
    # Open Badges documents (public): ``docs/open-badges.md``.
    urlpatterns.append(path("ob/", include("ibl_credentials.openbadges.urls")))
    # did:web DID documents of issuers that have a domain (``docs/trust.md``).
    urlpatterns.append(path("", include("ibl_credentials.openbadges.did_urls")))
    # The badge page and the verifier page (``docs/sharing.md``).
    urlpatterns.append(path("", include("ibl_credentials.pages.urls")))
