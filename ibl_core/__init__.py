"""Platforms (tenants), memberships, departments, API keys, roles and shared API helpers."""
