"""Assertions: issuing (one, bulk), lists, revocation, the recipient's answer, public read."""
