"""The ASGI app for fault tests: ``config.asgi`` with a fault point installed
(``tests.reliability.faultpoints``). Run as ``daphne tests.reliability.fault_web:application``.

Static files come from the plain storage, as in every test (tests/conftest.py): the tests must not
depend on ``collectstatic`` having run."""

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import storages
from django.utils.functional import empty

from config.asgi import application
from tests.reliability import faultpoints

settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
storages._storages.pop("staticfiles", None)
staticfiles_storage._wrapped = empty

faultpoints.install()

__all__ = ["application"]
