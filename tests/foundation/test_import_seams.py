"""The seams between the apps hold in the code (issue 14): core knows no domain app; ticketing knows neither
the waiting room nor the waitlists (they plug into its extension points); queues does not know support
(support registers its kind). Imports inside functions count too."""

import ast
import weakref
from pathlib import Path

import pytest

from core.registry import project_apps

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "core": set(project_apps()) - {"core"},
    "ticketing": {"waitingroom", "waitlists"},
    "queues": {"support"},
}


def imported_apps(app: str) -> dict[str, list[str]]:
    """Top-level package of every import in ``app``'s modules (migrations aside) → where it happens."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_app_does_not_import_the_apps_that_build_on_it(app):
    imports = imported_apps(app)
    wrong = {other: imports[other] for other in sorted(FORBIDDEN[app]) if other in imports}
    assert not wrong, f"{app} imports {wrong}"


def test_the_checker_sees_imports_inside_functions(tmp_path, monkeypatch):
    # A checker that misses function-level imports would pass on exactly the imports that hide the seams.
    package = tmp_path / "demoapp"
    package.mkdir()
    (package / "views.py").write_text("def view():\n    from waitlists.services import settings_for\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert "waitlists" in imported_apps("demoapp")


def test_no_app_hangs_logic_on_a_model_signal():
    """Extension points are called explicitly (ticketing.sources, ticketing.panels, queues.kinds); nothing of
    ours listens to a model's save or delete."""
    from django.db.models import signals

    ours = set(project_apps())
    hooked = []
    for name in (
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
        "pre_delete",
        "post_delete",
        "m2m_changed",
    ):
        signal = getattr(signals, name)
        for entry in signal.receivers:
            receiver = entry[1]
            function = receiver() if isinstance(receiver, weakref.ReferenceType) else receiver
            module = getattr(function, "__module__", "") or ""
            if module.split(".")[0] in ours:
                hooked.append(f"{name}: {module}.{getattr(function, '__qualname__', function)}")
    assert not hooked, hooked
