"""Celery is configured for reliability, and the beat schedule names only real tasks."""

from config.beat import BEAT_SCHEDULE
from config.celery import app
from notifications import conf


def test_reliability_settings(settings):
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > app.conf.task_time_limit
    # The outbox lease outlives a live task (hard limit) so only a dead worker loses its claim, and a
    # dispatch run stops claiming well before the soft limit.
    assert app.conf.task_time_limit < conf.claim_seconds() < visibility
    assert conf.sweep_seconds() < app.conf.task_soft_time_limit


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    assert "notifications-dispatch-due" in BEAT_SCHEDULE
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"{name}: {entry['task']} is not a registered task"


def test_outbox_tasks_inherit_acks_late():
    from notifications.tasks import deliver_messages, dispatch_due

    for task in (deliver_messages, dispatch_due):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
