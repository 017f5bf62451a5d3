"""Each step's Analysis as Markdown written from its committed runs, so that the notebook shows the
student text, not the code that computes its numbers. ``python -m era_mnist reproduce`` (also with
``--readme-only``, which trains nothing: ``reproduce.write_analyses``) writes it into the notebook's
cell tagged ``analysis``; tests/test_analyses.py fails when a cell differs from what the records
say. Steps 5 and 8 recompute their demonstrations' numbers on one thread, as the notebooks did."""
from . import step01, step02, step03, step04, step05, step06, step07, step08, step09, step10, step11, step12

MODULES = (step01, step02, step03, step04, step05, step06, step07, step08, step09, step10, step11, step12)
ANALYSES = {module.STEP: module.analysis for module in MODULES}
TAG = "analysis"


def analysis_cell(nb):
    """The notebook's Markdown cell tagged ``TAG``, or None."""
    return next((c for c in nb.cells if c.cell_type == "markdown" and TAG in c.metadata.get("tags", [])), None)
