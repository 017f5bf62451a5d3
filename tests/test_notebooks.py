"""The notebooks' structure: Colab cell, package imports, Target, the network's code and what changed,
Result, Analysis (tests/test_analyses.py checks its text), in order."""
import re
from pathlib import Path

import nbformat
import pytest

from era_mnist.analyses import TAG
from era_mnist.reproduce import COLAB
from era_mnist.steps import STEPS, build
from era_mnist.template import COLAB_CELL, NETWORK
from era_mnist.utils.results import PARAM_LIMIT

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [step.stem for step in STEPS.values()]


def test_one_notebook_per_step_in_order():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_structure(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    step = int(name[4:6])
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(f"# Step {step}:")
    assert f"{COLAB}/{name}.ipynb" in cells[0].source  # the badge opens this notebook, as the README's link does
    colab = next(c for c in cells if c.cell_type == "code")
    assert colab.source == COLAB_CELL  # the template's, as every step's notebook shares it
    assert NETWORK in [c.source for c in cells]
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "from era_mnist.steps import" in code and "from era_mnist.utils import" in code
    assert re.search(rf"config = step_config\({step}\)", code)
    assert f"show_network({step})" in code and (step == 1 or f"show_changes({step}" in code)  # the lesson's code
    headings = [line for c in cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("## ")]
    assert headings[:3] == ["## Target", "## Result", "## Analysis"]
    assert all(h.startswith("## Appendix") for h in headings[3:])  # a search's details go after the lesson
    heading = next(c for c in cells if c.cell_type == "markdown" and c.source.startswith("## Analysis"))
    appendix = next((i for i, c in enumerate(cells) if c.source.startswith("## Appendix")), len(cells))
    last = cells[appendix - 1]  # the Analysis ends the lesson: Markdown written from the records
    assert last.cell_type == "markdown" and TAG in last.metadata.get("tags", []) and cells[appendix - 2] is heading
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("name", EXPECTED)
def test_a_target_counts_the_parameters_its_networks_have(name):
    """A Target is the plan, written by hand; a parameter count in it is a network's own (this
    step's, or the step it builds on), or a budget the series sets itself."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    target = next(c.source for c in nb.cells if c.source.startswith("## Target"))
    step = int(name[4:6])
    def params(n): return sum(p.numel() for p in build(n).parameters())
    allowed = {params(step), params(STEPS[step].base or step), PARAM_LIMIT, 5000, 4000}
    counts = {int(n.replace(",", "")) for n in re.findall(r"\d{1,3}(?:,\d{3})+", target)}
    assert counts <= allowed, f"{name}'s Target counts {sorted(counts - allowed)} parameters: no network has that"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_cells_stay_short(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in nb.cells[2:]:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 12, cell.source
            assert max(map(len, cell.source.splitlines()), default=0) <= 100, cell.source  # no sideways scrolling


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_outputs_are_text_and_png_only(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert set(out.get("data", {})) <= {"text/plain", "text/markdown", "image/png"}, out.get("data", {}).keys()
            assert "\r" not in out.get("text", "")  # no progress-bar redraws
