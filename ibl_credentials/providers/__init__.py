"""External credential providers: a platform mirrors what it issues to an outside service."""
