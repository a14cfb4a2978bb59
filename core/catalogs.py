"""Translation catalogs without GNU gettext: compile every ``django.po`` of the checkout to ``django.mo``
with babel (pure Python), so a fresh clone, CI and the Docker image need nothing from Debian.

``python -m core.catalogs`` (no Django settings needed: ``make install`` runs it before any server
exists) or ``manage.py compile_catalogs``. Fuzzy entries are left out, as msgfmt does; a catalog whose
.mo is newer than its .po is skipped unless ``force``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", ".data", "node_modules", "staticfiles", ".git", "media"}


def catalog_files(root: Path = ROOT) -> list[Path]:
    """Every ``<dir>/locale/<lang>/LC_MESSAGES/*.po`` under ``root`` (the project's own, not the venv's)."""
    found = []
    for locale_dir in sorted(root.glob("**/locale")):
        if SKIP_DIRS.intersection(locale_dir.relative_to(root).parts):
            continue
        found.extend(sorted(locale_dir.glob("*/LC_MESSAGES/*.po")))
    return found


def compile_catalog(po_path: Path) -> Path:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    locale = po_path.parent.parent.name
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, abort_invalid=True)
    mo_path = po_path.with_suffix(".mo")
    temporary = mo_path.with_suffix(f".mo.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    temporary.replace(mo_path)
    return mo_path


def compile_all(root: Path = ROOT, *, force: bool = False) -> list[Path]:
    compiled = []
    for po_path in catalog_files(root):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        compiled.append(compile_catalog(po_path))
    return compiled


def main(argv: list[str]) -> int:
    compiled = compile_all(force="--force" in argv)
    if "-q" not in argv:
        print(f"compiled {len(compiled)} catalog(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
