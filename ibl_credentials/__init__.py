"""Credential issuers, signatories and the images used on badges."""
