"""Each step's Analysis as Markdown written from its committed runs, so that the notebook shows the
student text, not the code that computes its numbers. ``python -m era_mnist reproduce`` (also with
``--readme-only``, which trains nothing: ``reproduce.write_analyses``) writes it into the notebook's
cell tagged ``analysis``, and a module's ``appendix()``, where it has one, into the cell tagged
``appendix`` (the details after the lesson); tests/test_analyses.py fails when a cell differs from
what the records say. Steps 5 and 8 recompute their demonstrations' numbers on one thread, as the
notebooks did. Step N's module is ``stepNN.py``; a step without one gets ``shared.default_analysis``."""
import importlib
from functools import partial

from ..steps import STEPS
from .shared import default_analysis


def _module(step):
    """Step ``step``'s analysis module, or None."""
    try:
        return importlib.import_module(f"{__name__}.step{step:02d}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.step{step:02d}":
            raise
        return None


_MODULES = {step: _module(step) for step in STEPS}
ANALYSES = {step: module.analysis if module else partial(default_analysis, step) for step, module in _MODULES.items()}
APPENDICES = {step: module.appendix for step, module in _MODULES.items() if hasattr(module, "appendix")}
TAG, APPENDIX_TAG = "analysis", "appendix"


def analysis_cell(nb, tag=TAG):
    """The notebook's Markdown cell tagged ``tag``, or None."""
    return next((c for c in nb.cells if c.cell_type == "markdown" and tag in c.metadata.get("tags", [])), None)
