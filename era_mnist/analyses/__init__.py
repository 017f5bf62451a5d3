"""Each step's Analysis as Markdown written from its committed runs, so that the notebook shows the
student text, not the code that computes its numbers. ``python -m era_mnist reproduce`` (also with
``--readme-only``, which trains nothing: ``reproduce.write_analyses``) writes it into the notebook's
cell tagged ``analysis``; tests/test_analyses.py fails when a cell differs from what the records
say. Steps 5 and 8 recompute their demonstrations' numbers on one thread, as the notebooks did.
Step N's module is ``stepNN.py``; a step without one gets ``shared.default_analysis``."""
import importlib
from functools import partial

from ..steps import STEPS
from .shared import default_analysis


def _analysis(step):
    try:
        return importlib.import_module(f"{__name__}.step{step:02d}").analysis
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.step{step:02d}":
            raise
        return partial(default_analysis, step)


ANALYSES = {step: _analysis(step) for step in STEPS}
TAG = "analysis"


def analysis_cell(nb):
    """The notebook's Markdown cell tagged ``TAG``, or None."""
    return next((c for c in nb.cells if c.cell_type == "markdown" and TAG in c.metadata.get("tags", [])), None)
