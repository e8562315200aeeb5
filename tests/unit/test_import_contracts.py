"""The import contracts in .importlinter hold: devices, labels and the station agent stand alone, domains never
import pages, the API or the CLI, and the domains import only downwards (docs/decisions.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The linter is run the way .ci/run runs it, in a process of its own: it imports nothing, it reads the sources.
RUN_LINTER = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename='.importlinter', no_cache=True))"
)


def test_import_contracts_are_kept():
    result = subprocess.run([sys.executable, "-c", RUN_LINTER], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


#: Where an import of ``wms`` may sit inside a function: the app factory, so that importing one module (a rule in a
#: unit test, a model in the migrations) does not load every page and the API. Nowhere else: an import hidden in a
#: function is how a cycle between domains goes unseen.
LOCAL_IMPORTS_ALLOWED = {("wms/__init__.py", "create_app")}


def _local_imports_of_wms() -> list[str]:
    found = []
    for path in sorted((ROOT / "wms").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (name, function.name) in LOCAL_IMPORTS_ALLOWED:
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom):
                    modules = [("." * node.level) + (node.module or "")]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                if any(m == "wms" or m.startswith(("wms.", ".")) for m in modules):
                    found.append(f"{name}:{node.lineno} in {function.name}()")
    return found


def test_no_module_imports_wms_inside_a_function():
    assert _local_imports_of_wms() == []
