"""Credentials (badge classes)."""
