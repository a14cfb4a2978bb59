"""The Celery application. Configuration comes from Django settings (``CELERY_*``); the beat schedule
lives in :mod:`config.beat`, the one place every periodic task is listed.

Reliability (settings ``CELERY_*``, checked by tests/notifications/test_celery_config.py):
- ``task_acks_late``: a task is acknowledged after it finishes, so a worker that dies mid-task leaves
  it on the broker; ``task_reject_on_worker_lost`` re-queues it when a prefork child is killed.
- ``worker_prefetch_multiplier = 1``: a dying worker holds at most one unacknowledged task.
- Time limits (soft 100 s, hard 120 s by default): a stuck task is interrupted, then killed.
- Redis ``visibility_timeout`` (600 s) exceeds the hard limit, so a running task is never handed to a
  second worker; an unacknowledged one is redelivered after it.
- Tasks are idempotent (ids in, state re-read); the outbox also keeps its own lease (shorter than the
  visibility timeout) so the beat sweep recovers a dead worker's message within minutes.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("virtualq")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
