"""Each step's Analysis as Markdown written from its committed runs, so that the notebook shows the
student text, not the code that computes its numbers. ``python -m era_mnist reproduce`` (also with
``--readme-only``, which trains nothing: ``reproduce.write_analyses``) writes it into the notebook's
cell tagged ``analysis``: a module's ``analysis()``, or its ``texts()``, the Analysis and an
appendix (the details after the lesson, into the cell tagged ``appendix``) from one reading of the
records; tests/test_analyses.py fails when a cell differs from what the records say. Steps 5 and 8
recompute their demonstrations' numbers on one thread, as the notebooks did. Step N's module is
``stepNN.py``; a step without one gets ``shared.default_analysis``."""
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


MODULES = {step: _module(step) for step in STEPS}
TAG, APPENDIX_TAG = "analysis", "appendix"


def _texts(step):
    """Step ``step``'s Markdown by the tag of the cell it goes into."""
    module = MODULES[step]
    if module is None:
        return {TAG: default_analysis(step)}
    if hasattr(module, "texts"):
        return dict(zip((TAG, APPENDIX_TAG), module.texts(), strict=True))
    return {TAG: module.analysis()}


TEXTS = {step: partial(_texts, step) for step in STEPS}


def analysis_cell(nb, tag=TAG):
    """The notebook's Markdown cell tagged ``tag``, or None."""
    return next((c for c in nb.cells if c.cell_type == "markdown" and tag in c.metadata.get("tags", [])), None)
