"""Issuers and their signatories."""
