"""The package's layers point down: ``model`` imports nothing of ours, ``utils`` nothing but
itself, ``steps`` only those two and itself; everything else stands on them."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "era_mnist"
BELOW = {"model": set(), "utils": {"utils"}, "steps": {"model", "utils", "steps"}}


def imported(path):
    """The modules of ours that ``path`` imports, as their first name under era_mnist ("utils")."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    package = parts[:-1]  # the package a relative import starts from
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            names = [*base, *node.module.split(".")] if node.module else [*base]
            found |= {names[0]} if names else {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found |= {m.split(".")[1] for m in modules if m and m.startswith("era_mnist.")}
    return found


@pytest.mark.parametrize("layer", sorted(BELOW))
def test_a_layer_imports_only_the_layers_below_it(layer):
    files = [PACKAGE / "model.py"] if layer == "model" else sorted((PACKAGE / layer).glob("*.py"))
    for path in files:
        assert imported(path) <= BELOW[layer], f"{path.name} imports {sorted(imported(path) - BELOW[layer])}"


def test_imports_are_read_as_the_layer_they_name():
    steps = PACKAGE / "steps" / "experiment.py"
    assert {"utils", "steps"} <= imported(steps)  # `from ..utils.data import`, `from .records import`
    assert imported(PACKAGE / "analyses" / "step07.py") >= {"ablation", "steps", "utils", "analyses"}
