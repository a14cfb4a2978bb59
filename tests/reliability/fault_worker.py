"""The Celery app for fault tests: the project's app (``config.celery``) with a fault point installed
(``tests.reliability.faultpoints``) and, when ``VQ_TEST_DEFAULT_QUEUE`` is set, that default queue, so
beat and workers started by a test never meet another test's (or a developer's) processes on a shared
Redis. ``VQ_TEST_BEAT_TASKS`` (comma-separated entry names of ``config.beat``) keeps only those entries,
each every ``VQ_TEST_BEAT_SECONDS`` (default 1), so a test sees many ticks in a few seconds.
Run as ``celery -A tests.reliability.fault_worker worker|beat``."""

import os
from datetime import timedelta

import django

from config.celery import app

django.setup()

if os.environ.get("VQ_TEST_DEFAULT_QUEUE"):
    app.conf.task_default_queue = os.environ["VQ_TEST_DEFAULT_QUEUE"]

if os.environ.get("VQ_TEST_BEAT_TASKS"):
    from config.beat import BEAT_SCHEDULE

    every = timedelta(seconds=float(os.environ.get("VQ_TEST_BEAT_SECONDS", "1")))
    app.conf.beat_schedule = {
        name: {**BEAT_SCHEDULE[name], "schedule": every}
        for name in os.environ["VQ_TEST_BEAT_TASKS"].split(",")
    }

from tests.reliability import faultpoints  # noqa: E402

faultpoints.install()

__all__ = ["app"]
