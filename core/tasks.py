import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """A trivial periodic task: proves beat schedules and the worker executes."""
    logger.info("heartbeat: worker alive")
    return "ok"
