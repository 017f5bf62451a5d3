"""The notebooks' structure: Colab cell, package imports, Target, the network's code and what changed,
Result, Analysis, in order; an Analysis written over its run's numbers quotes no number by hand."""
import ast
import re
from pathlib import Path

import nbformat
import pytest

from era_mnist.analyses import TAG
from era_mnist.reproduce import COLAB
from era_mnist.steps import STEPS

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
    assert '"google.colab" in sys.modules' in colab.source and "pip install -q --no-deps -e" in colab.source
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
    last = cells[appendix - 1]
    # the Analysis ends the lesson: Markdown written from the records (era_mnist.analyses), or the
    # output of an Analysis(f"...") cell written over its run's numbers
    assert (last.cell_type == "markdown" and TAG in last.metadata.get("tags", [])) or last.source.startswith("Analysis(")
    analysis = heading.source + (last.source if last.cell_type == "markdown" else
                                 "".join(written(c) for c in cells if c.source.startswith("Analysis(")))
    assert len(analysis) > 300 and "ANALYSIS" not in analysis
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_cells_stay_short(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in nb.cells[2:]:
        if cell.cell_type == "code" and not cell.source.startswith("Analysis("):
            assert len(cell.source.splitlines()) <= 12, cell.source


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_outputs_are_text_and_png_only(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert set(out.get("data", {})) <= {"text/plain", "text/markdown", "image/png"}, out.get("data", {}).keys()
            assert "\r" not in out.get("text", "")  # no progress-bar redraws


# what only a run can say: a decimal (99.45), a percentage (3 %), a count grouped in thousands (7,308),
# a tally (17 of 20)
RESULT = re.compile(r"\d+\.\d+|\d+ ?%|\d{1,3}(?:,\d{3})+|\d+ of \d+")


def written(cell):
    """The text an ``Analysis(f"...")`` code cell showed when it ran."""
    return "".join(out["data"]["text/markdown"] for out in cell.get("outputs", [])
                   if "text/markdown" in out.get("data", {}))


def literal_text(node):
    """The string constants under ``node``, but not a format spec ("{x:.0%}" types no result)."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.FormattedValue):
        return literal_text(node.value)
    return [text for child in ast.iter_child_nodes(node) for text in literal_text(child)]


def typed_numbers(source):
    """The results typed into the literal text of the ``Analysis(f"...")`` calls in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Analysis":
            for text in literal_text(node.args[0] if node.args else node.keywords[0].value):
                found += RESULT.findall(text)
    return found


def test_typed_numbers_are_found_and_computed_ones_are_not():
    typed = 'Analysis(f"best {best:.2f} %, 7,308 parameters, 99.45 %, 3 % of them, 17 of 20 seeds")'
    assert typed_numbers(typed) == ["7,308", "99.45", "3 %", "17 of 20"]
    assert typed_numbers('report.Analysis(text=f"worst {w:.2f}, 99.41 %, {share:.0%}")') == ["99.41"]
    assert typed_numbers('Analysis(f"{\'held\' if n else \'17 of 20 seeds\'}")') == ["17 of 20"]  # in an expression too
    assert typed_numbers('Analysis(f"step {step}: {n:,} parameters, worst {worst:.2f}")') == []


@pytest.mark.parametrize("name", EXPECTED)
def test_an_analysis_written_over_its_run_types_no_result(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "Analysis(" in c.source]
    for cell in cells:
        assert typed_numbers(cell.source) == [], f"{name}: type no result into the Analysis; compute it"
        assert written(cell), f"{name}: the Analysis cell has not been run"
