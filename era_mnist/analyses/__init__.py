"""Each step's Analysis as Markdown written from its committed runs, so that the notebook shows the
student text, not the code that computes its numbers. ``python -m era_mnist reproduce`` (also with
``--readme-only``, which trains nothing) writes it into the notebook's cell tagged ``analysis``;
tests/test_analyses.py fails when a cell differs from what the records say. Steps not listed here
still write their Analysis with an ``Analysis(f"...")`` code cell."""
import nbformat

from . import step01, step02, step03, step04, step06, step07, step09, step11, step12

MODULES = (step01, step02, step03, step04, step06, step07, step09, step11, step12)
ANALYSES = {module.STEP: module.analysis for module in MODULES}
TAG = "analysis"


def analysis_cell(nb):
    """The notebook's Markdown cell tagged ``TAG``, or None."""
    return next((c for c in nb.cells if c.cell_type == "markdown" and TAG in c.metadata.get("tags", [])), None)


def write_analyses(steps=None):
    """Rewrite the tagged Analysis cell of each step's notebook (default: every step listed) from the
    committed records, where its seed-1 run is recorded; returns the steps whose text changed."""
    from ..reproduce import notebook_path
    from ..utils.paths import write_atomically
    from ..utils.records import full_records
    recorded = full_records()
    changed = []
    for step in sorted(set(steps or ANALYSES) & {n for n in ANALYSES if 1 in recorded.get(n, {})}):
        path = notebook_path(step)
        nb = nbformat.read(path, as_version=4)
        cell, text = analysis_cell(nb), ANALYSES[step]()
        if cell is None:
            raise ValueError(f"{path.name} has no Markdown cell tagged {TAG!r} to write its Analysis into")
        if cell.source != text:
            cell.source = text
            write_atomically(path, nbformat.writes(nb) + "\n")
            changed.append(step)
    return changed
