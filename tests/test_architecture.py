"""The layers of dyadsync only look down (docs/architecture.md).

``io -> features -> preprocess -> synchrony -> moments -> report``, with ``simulate`` beside ``report``, and
``pipeline`` (sessions, batches, caching, the run-folder layout) and ``cli`` on top. The base (``errors``,
``stats``, ``_validate``, ``_arrays``, ``_parallel``) serves every layer. Every import counts, also one inside a
function or under ``TYPE_CHECKING``: a lazy import is still a dependency.

Run alone: ``.venv/bin/python -m pytest tests/test_architecture.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dyadsync"

#: Rank of each layer: a module may import only from a lower rank or from its own layer.
LAYERS = {
    "base": 0, "io": 1, "features": 2, "preprocess": 3, "synchrony": 4, "moments": 5, "report": 6,
    "simulate": 6, "pipeline": 7, "cli": 8,
}
BASE = {"__init__", "errors", "stats", "_validate", "_arrays", "_parallel", "_lazy"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "base"
    return "base" if parts[1] in BASE else parts[1]


def _imports(module: str, path: Path) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every dyadsync import of a module."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "dyadsync"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "dyadsync":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # ``from . import figures``: the module itself
                    found.append((sub, "", node.lineno))
                else:
                    found.append((target, alias.name, node.lineno))
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_module_has_a_layer():
    unknown = sorted({layer(m) for m in MODULES} - set(LAYERS))
    assert not unknown, f"modules outside the known layers: {unknown}; add them to LAYERS and docs/architecture.md"


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for module, imports in GRAPH.items():
        for target, name, line in imports:
            if target == "dyadsync" and name in ("__version__", ""):
                continue
            if LAYERS[layer(target)] > LAYERS[layer(module)] or (
                layer(target) != layer(module) and LAYERS[layer(target)] == LAYERS[layer(module)]
            ):
                upward.append(f"{MODULES[module].relative_to(SRC.parent)}:{line} imports {target}")
    assert not upward, "imports from a higher (or a sibling) layer:\n" + "\n".join(upward)


def test_no_private_name_crosses_a_module_and_no_private_module_crosses_a_package():
    leaks = []
    for module, imports in GRAPH.items():
        for target, name, line in imports:
            where = f"{MODULES[module].relative_to(SRC.parent)}:{line}"
            if name.startswith("_") and not name.startswith("__"):
                leaks.append(f"{where} imports the private name {target}.{name}")
            private = [p for p in target.split(".")[1:] if p.startswith("_")]
            if private and layer(target) != "base" and layer(target) != layer(module):
                leaks.append(f"{where} imports the private module {target} of another package")
    assert not leaks, "\n".join(leaks)


def test_no_import_circle():
    edges = {m: {t for t, _, _ in GRAPH[m] if t in MODULES and t != m and t != "dyadsync"} for m in MODULES}
    # a package's __init__ re-exports its modules: an import of the package is an import of that file only
    circles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m, [])
    # a subpackage's __init__ importing its own modules, which import the package back, is not a circle of code
    real = [c for c in circles if not all(p.count(".") < 2 or p.endswith("__init__") for p in c.split(" -> "))]
    assert not real, "import circles:\n" + "\n".join(real)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) in ("report",)))
def test_report_renders_what_it_is_handed(module):
    assert not [t for t, _, _ in GRAPH[module] if layer(t) == "pipeline"]
