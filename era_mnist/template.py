"""A new step's notebook, made from its entry in the step table: the cells every step shares
(Colab, imports, configuration, what changed, the network, training, Result, plots, Analysis) in
the series' order, and a marked place for each text only its author can write (the Target, how
its change works and a live demonstration of it). ``python -m era_mnist notebook --step N``
writes it; ``python -m era_mnist reproduce --steps N`` then runs it and writes its Analysis."""
import nbformat

from .analyses import TAG
from .analyses.shared import PENDING
from .reproduce import COLAB, notebook_path
from .steps import STEPS, step_number

COLAB_CELL = """# On Colab only: fetch the repository and install the package, keeping Colab's own torch.
import sys
if "google.colab" in sys.modules:
    !git clone -q --depth 1 https://github.com/era-mnist/era_mnist /content/era_mnist
    !pip install -q --no-deps -e /content/era_mnist
    !pip install -q torchsummary
    sys.path.insert(0, "/content/era_mnist")"""

IMPORTS = """from era_mnist.search import own_runs
from era_mnist.steps import (build, format_against, format_result, run_seeds, run_step, seed_table,
                             show_changes, show_network, step_config)
from era_mnist.utils import (figure_path, format_receptive_field_table, load_mnist, pick_device,
                             plot_history, receptive_field_table, show_mistakes, summary)"""

TRAINING = """### Training

One line per epoch: train and test loss and accuracy, the learning rate at the start of the epoch and the seconds it took. Seed 1 is trained here (when `reproduce` re-renders the notebook with the same training code, its committed run is reused, and the output says so); seeds 2 and 3 follow (a committed run of the same configuration is loaded instead of trained), so that a difference between steps can be set against the spread between seeds."""

RESULT = """## Result

Printed from the run's record, with the reference series' own figures beside ours. Then every seed: the lowest test accuracy of its last 5 epochs (the rule holds when that is at least 99.4 %), its best and its last epoch."""

NETWORK = """### The network

Its code, printed from `era_mnist.model` (each layer's comment gives its output, channels x height x width, and its receptive field), then torchsummary's layer table and the receptive field of every convolution and pooling layer, computed from the model's own modules."""


def write_here(what):
    """The mark of a text the step's author writes in place of it."""
    return f"*To write: {what}.*"


def step_notebook(step):
    """The notebook of ``step`` (a number or a short name), its author's texts still to write."""
    n = step_number(step)
    entry, base = STEPS[n], STEPS[n].base
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md(f"# Step {n}: {entry.idea}\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
           f"({COLAB}/{entry.stem}.ipynb)\n\n" + write_here(f"what this step changes in step {base}, in one sentence")),
        code(COLAB_CELL),
        code(IMPORTS),
        md("## Target\n\n" + write_here("what we expect this change to do, and what would count as an effect")),
        code(f"SEEDS = [1, 2, 3]\nconfig = step_config({n})\nconfig"),
        md(f"### What changed since step {base}\n\nGenerated from the code: the training settings this step "
           f"changes, then its network's code and its layers as diffs against step {base}'s (`-` lines are step "
           f"{base}'s, `+` lines this step's)."),
        code(f"show_changes({n})"),
        md(NETWORK),
        code(f"show_network({n})"),
        code("device = pick_device()\ndata = load_mnist(device)\nmodel = build(config.step).to(device)\n"
             "summary(model)\nprint(format_receptive_field_table(receptive_field_table(model)))"),
        md("### How it works\n\n" + write_here("the mechanism in plain words, its formula, and a small live "
                                               "demonstration on this step's network and data, before it trains")),
        md(TRAINING),
        code("model, record, _ = run_step(config, seed=SEEDS[0], device=device, data=data)"),
        code("# Seeds 2 and 3: trained here, or loaded from their records when the same configuration made them.\n"
             "records = [record] + run_seeds(config, SEEDS[1:], device=device, data=data)"),
        md(RESULT + f"\n\nLast, this run beside step {base}'s seed 1, the run this step changes, row by row, "
           f"then step {base}'s seeds under the same rule: the numbers the Analysis compares."),
        code("print(format_result(record))"),
        code("print(seed_table(records))   # every seed under the rule"),
        code(f"previous = own_runs({base})   # step {base}'s runs by seed: the runs this step changes\n"
             f"print(format_against(record, previous, {base}))"),
        md(f"### Plots\n\nThis run's curves over step {base}'s seed 1 (dashed: its train and test curves; loss and "
           "error, 100 - accuracy, on log scales), then the test digits this network gets wrong, the ones it was "
           "surest of first (above each: true -> predicted, and the probability it gave that wrong answer). The "
           "training curves are counted as the network trains (the panel titles' *as trained*): each epoch's "
           "figure averages its batches while the weights still change, with dropout on where the network has "
           "it and on the augmented digits where the step augments; the test curves use the weights at the "
           "epoch's end, in eval mode."),
        code("plot_history(record.history, title=record.label(), save=figure_path(record, \"curves\"),\n"
             f"             previous=(\"step {base}, seed 1\", previous[1].history));"),
        code("show_mistakes(model, data, record);"),
        md("## Analysis"),
        md(PENDING, metadata={"tags": [TAG]}),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update(kernelspec={"display_name": "Python 3", "language": "python", "name": "python3"},
                       language_info={"name": "python"})
    return nb


def write_step_notebook(step):
    """Write ``step_notebook(step)`` where the step's notebook goes; never over an existing one."""
    path = notebook_path(step_number(step))
    if path.exists():
        raise FileExistsError(f"{path.name} exists: a new step's notebook is written once, then edited")
    nbformat.write(step_notebook(step), path)
    return path
