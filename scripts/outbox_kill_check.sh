#!/usr/bin/env bash
# Scripted check that killing a Celery worker in the middle of an outbox delivery loses nothing:
# a real worker (pool=solo, real Redis broker, the test database) claims a message whose delivery takes
# 4 s, gets SIGKILL after 1 s, a new worker starts, the beat sweep task reclaims the expired claim and
# the message is delivered exactly once (one line in the fake SMS outbox, attempts 1 lost + 2 sent).
# Also runs the end-to-end email delivery through a real worker.
set -euo pipefail
cd "$(dirname "$0")/.."
export VQ_FAST_PASSWORD_HASHER="${VQ_FAST_PASSWORD_HASHER:-1}"
exec .venv/bin/pytest -p no:xdist -v tests/notifications/test_worker_integration.py "$@"
