"""The Celery application. Configuration comes from Django settings (``CELERY_*``); the beat schedule
lives in :mod:`config.beat`, the one place every periodic task is listed."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("virtualq")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
