"""Static files storage: WhiteNoise's compressed, hashed storage, minus JavaScript source-map rewriting.

Third-party bundles (the JSON-schema admin widget) reference ``.map`` files they do not ship; rewriting
those references would fail ``collectstatic``. CSS ``url()`` references are still rewritten.
"""

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    patterns = tuple(item for item in HashedFilesMixin.patterns if item[0] != "*.js")
    manifest_strict = False
