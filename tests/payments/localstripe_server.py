"""Runs localstripe (a stateful fake Stripe from PyPI) for the tests: ``python localstripe_server.py
--port N``. Started by ``tests/payments/conftest.py`` on a free port, one per test process.

localstripe pickles its whole store to /tmp/localstripe.pickle after every write, a file every process
on the machine would share; the tests start it ``--from-scratch`` and switch that dump off, so parallel
test processes never read or clobber each other's state.
"""

import sys

import localstripe.resources as resources

resources.Store.dump_to_disk = lambda self: None

from localstripe.server import start  # noqa: E402 - after the patch above

if __name__ == "__main__":
    sys.argv = ["localstripe", *sys.argv[1:]]
    start()
