"""did:web DID documents, at the root of the host (where the did:web method looks):
mounted by ``ibl_core.urls`` (or by a host project: ``path("", include(
"ibl_credentials.openbadges.did_urls"))``). ``/.well-known/did.json`` answers for an
issuer whose domain is the bare host, ``/<path>/did.json`` for one with a path."""

from django.urls import path

from ibl_credentials.openbadges import views

app_name = "ibl-did"

urlpatterns = [
    path(".well-known/did.json", views.DidDocumentRootView.as_view(), name="did-web-root"),
    path("<path:did_path>/did.json", views.DidDocumentView.as_view(), name="did-web-path"),
]
