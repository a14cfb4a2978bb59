"""The Celery app for fault tests: the project's app (``config.celery``) with a fault point installed
(``tests.reliability.faultpoints``) and, when ``VQ_TEST_DEFAULT_QUEUE`` is set, that default queue, so
beat and workers started by a test never meet another test's (or a developer's) processes on a shared
Redis. Run as ``celery -A tests.reliability.fault_worker worker|beat``."""

import os

import django

from config.celery import app

django.setup()

if os.environ.get("VQ_TEST_DEFAULT_QUEUE"):
    app.conf.task_default_queue = os.environ["VQ_TEST_DEFAULT_QUEUE"]

from tests.reliability import faultpoints  # noqa: E402

faultpoints.install()

__all__ = ["app"]
