"""``make bench``: the example project under gunicorn, measured against references.

Run with ``python -m bench`` (``--help`` for the options); ``docs/performance.md``
explains the numbers.
"""
