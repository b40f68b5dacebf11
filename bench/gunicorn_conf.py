"""Gunicorn settings of the bench server (``bench.server.gunicorn`` adds bind and workers).

Given explicitly, so the repository's ``gunicorn.conf.py`` (read from the working
directory by default) cannot change what is measured: sync workers, never recycled
during a run, no access log.
"""

wsgi_app = "example_project.wsgi:application"
worker_class = "sync"
timeout = 120
max_requests = 0
accesslog = None
errorlog = "-"
loglevel = "warning"
