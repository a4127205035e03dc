"""The package's layout: a folder per capability, no import cycle between them, a pure core."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "balance_guard"
FOLDERS = sorted(p.name for p in PACKAGE.iterdir()
                 if p.is_dir() and (p / "__init__.py").exists())
# What the pure core may import besides itself: the standard library and these.
DOMAIN_MAY_IMPORT = {"pydantic", "holidays"}


def imports_of(path: Path) -> set[str]:
    """The absolute module names `path` imports (relative imports resolved)."""
    here = ["balance_guard", *path.relative_to(PACKAGE).parts[:-1]]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            found.add(".".join([*base, node.module] if node.module else base))
    return found


def folder_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "balance_guard" and len(parts) > 1 else None


def test_the_package_root_holds_only_init_and_config() -> None:
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py", "config.py"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_folder_says_what_it_owns(folder: str) -> None:
    docstring = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
    assert docstring, folder


def test_the_folders_import_each_other_without_a_cycle() -> None:
    graph: dict[str, set[str]] = {folder: set() for folder in FOLDERS}
    for path in PACKAGE.rglob("*.py"):
        mine = folder_of("balance_guard." + ".".join(path.relative_to(PACKAGE).parts))
        if mine not in graph:
            continue
        for module in imports_of(path):
            theirs = folder_of(module)
            if theirs in graph and theirs != mine:
                graph[mine].add(theirs)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"import cycle between folders: {cycle.args[1]}")
    assert order.index("domain") < order.index("check")
    assert not graph["domain"]  # the core depends on no other folder


def test_the_core_imports_no_io_stripe_or_aws() -> None:
    stdlib_io = {"os", "io", "socket", "sqlite3", "subprocess", "urllib", "http", "pathlib",
                 "time", "logging", "boto3", "botocore", "stripe", "requests", "jinja2"}
    for path in (PACKAGE / "domain").rglob("*.py"):
        for module in imports_of(path):
            top = module.split(".")[0]
            if module == "urllib.parse":
                continue  # parsing a text, not a request
            assert top not in stdlib_io, f"{path.name} imports {module}"
            assert (top in {"balance_guard", "__future__"} or top in DOMAIN_MAY_IMPORT
                    or top in __import__("sys").stdlib_module_names), f"{path.name}: {module}"
            if top == "balance_guard":
                assert folder_of(module) == "domain", f"{path.name} imports {module}"
