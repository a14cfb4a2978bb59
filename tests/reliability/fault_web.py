"""The ASGI app for fault tests: ``config.asgi`` with a fault point installed
(``tests.reliability.faultpoints``). Run as ``daphne tests.reliability.fault_web:application``."""

from config.asgi import application
from tests.reliability import faultpoints

faultpoints.install()

__all__ = ["application"]
