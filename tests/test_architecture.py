"""The package's layers: imports run one way, and none hides inside a function.

cli -> app -> versioning -> services -> auth -> usage / observability -> storage ->
settings / version_info -> errors. A module may import from its own layer and those below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gateway"
# The top-level name under gateway/ (a subpackage or a module) -> its layer, lowest first.
LAYERS = {
    "errors": 0,
    "settings": 1,
    "version_info": 1,
    "storage": 2,
    "usage": 3,
    "observability": 3,
    "auth": 4,
    "housekeeping": 5,
    "services": 6,
    "contracts": 7,
    "versioning": 7,
    "app": 8,
    "testing": 9,
    "cli": 9,
    "__init__": 10,
}
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def gateway_imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """(imported gateway module, whether the import sits inside a function) for every import."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("gateway"):
                assert child.module is not None
                if child.module == "gateway":
                    found.extend((f"gateway.{alias.name}", inside) for alias in child.names)
                else:
                    found.append((child.module, inside))
            elif isinstance(child, ast.Import):
                found.extend((a.name, inside) for a in child.names if a.name.startswith("gateway"))
            visit(child, inside)

    visit(tree, False)
    return found


def test_every_top_level_name_has_a_layer() -> None:
    names = {p.stem if p.parent == PACKAGE else p.relative_to(PACKAGE).parts[0] for p in MODULES}
    assert names <= set(LAYERS), names - set(LAYERS)
    top_level = [p for p in MODULES if p.parent == PACKAGE]
    assert len(top_level) <= 8, [p.name for p in top_level]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_down_the_layers(path: Path) -> None:
    own = "gateway." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    own_layer = LAYERS[layer_of(own)]
    tree = ast.parse(path.read_text())
    for module, in_function in gateway_imports(tree):
        assert not in_function, f"{own} imports {module} inside a function"
        assert LAYERS[layer_of(module)] <= own_layer, f"{own} imports {module}, a higher layer"
