"""Fault points for the real-process fault tests (tests/reliability/test_faults.py). Test-only.

A process started by a fault test (Celery worker: ``tests.reliability.fault_worker``; daphne:
``tests.reliability.fault_web``) calls :func:`install`, which reads::

    VQ_FAULT_AT      "package.module:attribute[.attribute]" — the function to stop in
    VQ_FAULT_CALL    stop on this call (1-based, default 1); earlier calls run normally
    VQ_FAULT_WHEN    "before" (default) or "after" the real call
    VQ_FAULT_MARKER  a file written when the process reaches the point
    VQ_FAULT_SLEEP   seconds to stay there (default 600): the test kills the process meanwhile

Nothing else changes: the code before and after the point is the real code path, with its real
transaction open (or committed, for "after" points outside it). The test waits for the marker, sends
SIGKILL, and checks from the database what a crash at exactly that point leaves behind.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import time
from pathlib import Path


def install() -> None:
    target = os.environ.get("VQ_FAULT_AT")
    if not target:
        return
    module_name, _, attribute_path = target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = attribute_path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    original = getattr(owner, name)
    stop_on = int(os.environ.get("VQ_FAULT_CALL", "1"))
    when = os.environ.get("VQ_FAULT_WHEN", "before")
    marker = Path(os.environ["VQ_FAULT_MARKER"])
    pause = float(os.environ.get("VQ_FAULT_SLEEP", "600"))
    calls = 0
    lock = threading.Lock()

    def stop_here() -> None:
        marker.write_text(f"{target} call {stop_on} {when}\n")
        time.sleep(pause)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        nonlocal calls
        with lock:
            calls += 1
            this_call = calls
        if this_call == stop_on and when == "before":
            stop_here()
        result = original(*args, **kwargs)
        if this_call == stop_on and when == "after":
            stop_here()
        return result

    # A plain function set on a class is a method again, so "module:Class.method" works too.
    setattr(owner, name, wrapper)
