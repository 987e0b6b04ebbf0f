"""Settings are read when asked (warehouse.platform.config.Settings.from_env), never at import, and
no Dagster asset or check body writes os.environ: a scan of the source's syntax trees."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from warehouse.platform.config import REPO_ROOT

PACKAGES = ("orchestration", "warehouse", "optimizer", "scrapers")
# Decorators whose function is a step body Dagster runs.
STEP_DECORATORS = {
    "asset",
    "multi_asset",
    "dbt_assets",
    "asset_check",
    "multi_asset_check",
    "op",
    "graph_asset",
}


def _sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (REPO_ROOT / pkg).rglob("*.py") if ".venv" not in p.parts)


def _is_environ(node: ast.AST) -> bool:
    """`os.environ` (or `environ` imported from os)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _reads_environment(node: ast.AST) -> bool:
    if _is_environ(node):
        return True
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == "getenv")
        or (isinstance(node.func, ast.Name) and node.func.id == "getenv")
    )


def import_time_environment_reads(tree: ast.Module) -> list[int]:
    """Lines that touch the environment while the module is imported: anywhere outside a function
    body (module level, class bodies, default argument values, decorator arguments)."""
    lines: list[int] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # Defaults and decorators run at import; the body does not.
            for expr in [*node.args.defaults, *node.args.kw_defaults, *getattr(node, "decorator_list", [])]:
                if expr is not None:
                    visit(expr)
            return
        if _reads_environment(node):
            lines.append(node.lineno)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return lines


def _decorator_name(decorator: ast.expr) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")


def environment_writes(function: ast.AST) -> list[int]:
    """Lines in `function` that change os.environ: item assignment or deletion, update, setdefault,
    pop, clear, putenv."""
    lines = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            if any(isinstance(t, ast.Subscript) and _is_environ(t.value) for t in targets):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"update", "setdefault", "pop", "clear", "popitem"} and _is_environ(
                node.func.value
            ):
                lines.append(node.lineno)
            elif node.func.attr in {"putenv", "unsetenv"}:
                lines.append(node.lineno)
    return lines


def step_bodies(tree: ast.Module) -> list[ast.FunctionDef]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(_decorator_name(d) in STEP_DECORATORS for d in node.decorator_list)
    ]


def test_no_module_reads_the_environment_at_import():
    offenders = []
    for path in _sources(*PACKAGES):
        tree = ast.parse(path.read_text(), str(path))
        offenders += [f"{path.relative_to(REPO_ROOT)}:{line}" for line in import_time_environment_reads(tree)]
    assert offenders == [], (
        "these read or write the environment at import; read it in a function (Settings.from_env) instead: "
        + ", ".join(offenders)
    )


def test_no_asset_or_check_body_writes_the_environment():
    offenders = []
    for path in _sources("orchestration"):
        tree = ast.parse(path.read_text(), str(path))
        for body in step_bodies(tree):
            offenders += [
                f"{path.relative_to(REPO_ROOT)}:{line} ({body.name})" for line in environment_writes(body)
            ]
    assert offenders == [], "asset/check bodies that change os.environ: " + ", ".join(offenders)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import os\nK = int(os.environ.get('K', '10'))\n", [2]),
        ("import os\nclass A:\n    k = os.getenv('K')\n", [3]),
        ("import os\ndef f(k=os.environ.get('K')):\n    return k\n", [2]),
        ("import os\ndef f():\n    return os.environ.get('K')\n", []),
    ],
)
def test_the_import_scan_finds_what_it_should(source, expected):
    assert import_time_environment_reads(ast.parse(source)) == expected


@pytest.mark.parametrize(
    "body, found",
    [
        ("os.environ.update(x)", True),
        ("os.environ['A'] = '1'", True),
        ("os.environ.setdefault('A', '1')", True),
        ("del os.environ['A']", True),
        ("x = dict(os.environ)", False),
    ],
)
def test_the_write_scan_finds_what_it_should(body, found):
    source = f"import dagster as dg\n@dg.asset\ndef a():\n    {body}\n"
    bodies = step_bodies(ast.parse(source))
    assert len(bodies) == 1
    assert bool(environment_writes(bodies[0])) is found
