"""The layering of docs/ARCHITECTURE.md, enforced: no lower layer imports a higher one, and no
library imports Dagster. Every import counts, also one inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import stuut_pipeline

PACKAGE = Path(stuut_pipeline.__file__).parent

#: Layer of each top-level module or package of `stuut_pipeline` (as in docs/ARCHITECTURE.md).
#: A component may import components of a strictly lower layer, and itself.
LAYERS: dict[str, int] = {
    "stuut_api": 0,
    "background": 0,
    "simulator": 1,
    "layout": 1,
    "model": 2,
    "storage": 3,
    "raw_landing": 4,
    "flatten": 4,
    "warehouse": 5,
    "settings": 6,
    "defs": 7,
    "instance": 7,
    "definitions": 8,
    "runner": 9,
    "cli": 10,
}
#: Components that turn the libraries into Dagster objects (the only ones that may import it).
DAGSTER_LAYERS = {"defs", "instance", "definitions", "runner"}
DAGSTER_MODULES = {
    "dagster",
    "dagster_graphql",
    "dagster_webserver",
    "dagster_postgres",
    "dagster_celery",
}


def _imports(path: Path, root: Path) -> list[tuple[str, int]]:
    """Absolute names of every module `path` imports (with the line), relative ones resolved."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    package = parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((module, node.lineno))
            if not node.module:  # `from . import settings` names modules
                found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _component(path: Path, root: Path = PACKAGE) -> str:
    return path.relative_to(root).with_suffix("").parts[0]


def _violations(root: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == root:
            continue
        here = _component(path, root)
        assert here in LAYERS, f"{path}: add `{here}` to LAYERS and to docs/ARCHITECTURE.md"
        for module, line in _imports(path, root):
            top = module.split(".")
            where = f"{path.relative_to(root.parent)}:{line}"
            if top[0] in DAGSTER_MODULES and here not in DAGSTER_LAYERS:
                problems.append(f"{where}: library `{here}` imports {module}")
            if top[0] != "stuut_pipeline" or len(top) < 2 or top[1] == here:
                continue
            if top[1] not in LAYERS:
                problems.append(f"{where}: unknown component {top[1]}")
            elif LAYERS[top[1]] >= LAYERS[here]:
                problems.append(f"{where}: `{here}` (layer {LAYERS[here]}) imports {module}")
    return problems


def test_no_lower_layer_imports_a_higher_one_and_no_library_imports_dagster() -> None:
    assert _violations() == []


def test_the_checker_sees_violations(tmp_path: Path) -> None:
    """The rule itself: an upward import and a Dagster import in a library are both found."""
    root = tmp_path / "stuut_pipeline"
    (root / "flatten").mkdir(parents=True)
    (root / "flatten" / "probe.py").write_text(
        "import dagster\nfrom .contract import TABLES\n"
        "from stuut_pipeline.layout import PART_FILE\n"
        "\ndef f():\n    from stuut_pipeline.defs import jobs\n    from ..warehouse import db\n"
    )
    probe = _violations(root)
    assert len(probe) == 3, probe
    assert any("imports dagster" in p for p in probe)
    assert any(p.endswith("imports stuut_pipeline.defs") for p in probe)
    assert any(p.endswith("imports stuut_pipeline.warehouse") for p in probe)


def test_architecture_page_names_every_component() -> None:
    text = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text()
    on_disk = {_component(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    missing = sorted(c for c in on_disk if f"`{c}" not in text)
    assert not missing, f"docs/ARCHITECTURE.md does not mention {missing}"
