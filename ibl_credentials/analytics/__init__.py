"""Counts over time of issued assertions and created credentials."""
