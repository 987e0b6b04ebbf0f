"""The package layout shows the architecture: no import cycles, and no stage imports a later one.

Stages, in data-flow order: the platform and domain rules every stage stands on, then scraping,
landing loaders, the vault, publishing, the optimizer, and orchestration on top. Demo-only code
(`scrapers.demo_market`, `warehouse.demo`, `orchestration.demo`) is never imported by production code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("warehouse", "scrapers", "optimizer", "orchestration")

# Lower number = earlier layer; a module may import only its own layer or earlier ones.
LAYERS = {
    "warehouse.platform": 0,
    "warehouse.domain": 0,
    "scrapers": 1,
    "warehouse.landing": 2,
    "warehouse.vault": 2,
    "warehouse.publishing": 3,
    "optimizer": 4,
    "orchestration": 5,
}
DEMO_PREFIXES = ("scrapers.demo_market", "warehouse.demo", "orchestration.demo")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if ".venv" not in path.parts
    }


def _runtime_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules imported at run time (imports under `if TYPE_CHECKING:` do not count)."""
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for child in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                # `from pkg import submodule` depends on the submodule, not on the package's __init__.
                found.add(submodule if submodule in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in modules}


def _layer(module: str) -> int | None:
    matches = [prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")]
    return LAYERS[max(matches, key=len)] if matches else None


@pytest.fixture(scope="module")
def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _runtime_imports(path, modules) - {name} for name, path in modules.items()}


def test_no_import_cycles(import_graph):
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in import_graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(import_graph):
        if node not in index:
            visit(node)
    assert cycles == [], f"import cycles: {cycles}"


def test_no_stage_imports_a_later_one(import_graph):
    backwards = [
        f"{module} -> {target}"
        for module, targets in import_graph.items()
        for target in targets
        if (_layer(module) is not None and _layer(target) is not None and _layer(target) > _layer(module))
    ]
    assert backwards == [], "a stage imports a later one:\n" + "\n".join(sorted(backwards))


def test_production_code_never_imports_demo_code(import_graph):
    def is_demo(module: str) -> bool:
        return module.startswith(DEMO_PREFIXES)

    # The CLI's `demo` and `market` commands are the one sanctioned door into demo code.
    doors = {"orchestration.cli"}
    leaks = [
        f"{module} -> {target}"
        for module, targets in import_graph.items()
        if not is_demo(module) and module not in doors
        for target in targets
        if is_demo(target)
    ]
    assert leaks == [], "production code imports demo-only code:\n" + "\n".join(sorted(leaks))
