"""Credential assignments: "this credential is awarded to these people" (docs/assignments.md)."""
