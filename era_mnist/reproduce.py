"""Re-run the series in full mode: execute the notebooks in place, then rewrite the results of the
README and of docs/details.md from the records they wrote. ``python -m era_mnist reproduce [--steps N ...]``."""
import os
import statistics
import time
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

from .ablation import ABLATION_SEEDS, ABLATIONS, ablation_figure, effects, effects_table
from .analyses import TAG, TEXTS, analysis_cell
from .search import (PARETO_FIGURE, SEARCHES, SEED_FRONT_FIGURE, STUDIES, STUDY_FIGURE, STUDY_SEEDS, own_runs,
                     seed_one, step_runs, study_cost, study_rows)
from .steps import STEPS, final_step, network_name, parameters, training_changes
from .steps.records import RecordError, devices, full_records
from .utils.paths import REPO_ROOT, output_dir, output_mode, repo_relative, write_atomically
from .utils.plots import plot_series
from .utils.results import AVERAGED, LAST, TARGET, run_summary, seed_summary, spans

NOTEBOOKS = REPO_ROOT / "notebooks"
README = REPO_ROOT / "README.md"
START = "<!-- results:start: written by `python -m era_mnist reproduce` from Data/runs; do not edit -->"
END = "<!-- results:end -->"
STEPS_START = "<!-- steps:start: written by `python -m era_mnist reproduce` from era_mnist/steps/table.py; do not edit -->"
STEPS_END = "<!-- steps:end -->"
HEADLINE_START = "<!-- headline:start: written by `python -m era_mnist reproduce` from the records; do not edit -->"
HEADLINE_END = "<!-- headline:end -->"
SERIES_FIGURE = "series_measure.png"
DETAILS = REPO_ROOT / "docs" / "details.md"
DETAILS_LINK = "docs/details.md"
DETAILS_START = "<!-- details:start: written by `python -m era_mnist reproduce` from Data/; do not edit -->"
DETAILS_END = "<!-- details:end -->"
COLAB = "https://colab.research.google.com/github/era-mnist/era_mnist/blob/main/notebooks"  # as each notebook's badge


def notebook_path(step):
    return NOTEBOOKS / f"{STEPS[step].stem}.ipynb"


def execute_notebook(path):
    """Execute a notebook in its own folder and write it back in place (atomically)."""
    nb = nbformat.read(path, as_version=4)
    ExecutePreprocessor(timeout=None, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(path.parent)}})
    write_atomically(path, nbformat.writes(without_widgets(nb)) + "\n")


def without_widgets(nb):
    """The notebook without progress-bar widgets (their outputs and saved state): a committed
    notebook keeps its text and PNG outputs only."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [out for out in cell.outputs
                            if "application/vnd.jupyter.widget-view+json" not in out.get("data", {})]
    return nb


def step_seeds(step):
    """Every committed full run of ``step``'s own recipe (``own_runs``), in seed order."""
    return sorted(own_runs(step).values(), key=lambda r: r.seed)


def result_rows(step, runs):
    """The step's rows of the results table: the rule's measure over every seed it ran (and again for
    its averaged weights, if it kept them), and its first seed's epochs at the target."""
    name, ref = STEPS[step].name, STEPS[step].reference  # steps 11-12 go beyond the reference series
    ref_test = f"{ref['best_test']:.2f}" if ref else "-"
    if not runs:
        params = f"{ref['params']:,}" if ref else "-"
        return [f"| {step} | {name} | {params} | no full run yet | | | | | | {ref_test} |"]
    rows = []
    for key, label in (("test_acc", name), (AVERAGED, f"{name}, averaged weights")):
        if key not in runs[0].history[0]:
            continue
        seeds, first = seed_summary(runs, key), run_summary(runs[0], key)
        rows.append(f"| {step} | {label} | {runs[0].params:,} | {seeds.seeds} | {seeds.mean:.2f} | {seeds.worst:.2f} | "
                    f"{seeds.held} of {len(runs)} | {spans(first.at_target) or 'none'} | {first.best_test:.2f} | "
                    f"{ref_test} |")
    return rows


def seed_rows(step, seeds):
    """A step's seed table, for the trained and the averaged weights, as markdown."""
    records = list(seeds.values())
    epochs = len(records[0].history)
    raw, ema = (seed_summary(records, key) for key in ("test_acc", "ema_test_acc"))
    lines = [f"Step {step} ({records[0].params:,} parameters), every seed (test accuracy %; last-{LAST} min is the "
             f"lowest of epochs {epochs - LAST + 1}-{epochs}):", "",
             "| seed | OneCycle alone: last-5 min | best | final | averaged weights: last-5 min | best | final |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {a[0]} | {a[1]:.2f} | {a[2]:.2f} | {a[3]:.2f} | {b[1]:.2f} | {b[2]:.2f} | {b[3]:.2f} |"
              for a, b in zip(raw.rows, ema.rows)]
    lines.append("")
    for what, seeds in (("OneCycle alone", raw), ("With the averaged weights", ema)):
        lines.append(f"- {what}: mean of the last-{LAST} minima {seeds.mean:.2f} %, worst seed {seeds.worst:.2f} %; "
                     f"at or above {TARGET} % in each of the last {LAST} epochs for {seeds.held} of "
                     f"{len(records)} seeds.")
    return lines


def study_table_rows(study):
    """A study's finished runs (Data/search/<study>/) as markdown: one row per configuration;
    nothing before it has a record."""
    rows = study_rows(study, smoke=False)
    if not rows:
        return []
    seeds = "-".join(map(str, STUDY_SEEDS[::len(STUDY_SEEDS) - 1]))
    how = (f"`benchmarks/study.py`, Optuna; each trial trains seeds {seeds}, fewer where it was pruned or stopped, "
           "more where `--validate` trained it on others" if study in STUDIES else
           "trials listed by hand before the Optuna studies, each on one to five seeds")
    how += "".join(f"; step {n} is trial {step.trial}" for n, step in STEPS.items() if step.validated_in == study)
    lines = [f"Study `{study}` ({how}; records in `Data/search/{study}/`; worst and mean "
             f"of the seeds' last-{LAST} minima, averaged weights; changes are to step 10's training):", "",
             f"| trial | network | params | changes | seeds | worst seed % | mean % | holds {TARGET} % | seed 1 % |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {numbers} | {network} | {n:,} | {changes or 'none'} | {seeds} | {worst:.2f} | {mean:.2f} | "
              f"{held} of {seeds} | {seed_one(first)} |"
              for numbers, network, n, changes, seeds, worst, mean, held, first in rows]
    return lines + ["", study_cost(study, smoke=False) + "."]


def ablation_rows():
    """docs/details.md's lines for every bundled step with an ablation run recorded: its table."""
    lines = []
    for step in ABLATIONS:
        if not set(ABLATION_SEEDS) <= own_runs(step).keys():  # the step's own seeds are not recorded here
            continue
        rows = effects(step)
        if any(row.lows for row in rows if not row.change.readout):
            lines += ["", f"Step {step} with each of its changes undone alone (`python -m era_mnist ablate --step "
                      f"{step}`), the rule's measure per seed against step {step}'s own seeds (its notebook says what "
                      "carried the step):", "", "```text", effects_table(rows), "```"]
    return lines


# (figure, caption): the README shows the first three, docs/details.md every one
FIGURES = [(SERIES_FIGURE, "The series in one chart: each step's seeds (dots) and their mean (bar), the rule's measure "
            "(the lowest test accuracy of the last 5 epochs; averaged weights where the step keeps them)."),
           ("step12_seed1_seeds.png", "Step 12, the final model: every seed's test accuracy per epoch, the last 5 "
            "epochs shaded, each seed green where it holds there."),
           (SEED_FRONT_FIGURE, "Every configuration the studies ran on seeds 1-10: each seed and the mean, by "
            "parameters; the smallest that holds on all ten is step 12's network."),
           ("step12_seed1_curves.png", "Step 12's seed 1, loss and error per epoch (log scales), over step 10's (dashed)."),
           ("step10_seed1_curves.png", "Step 10's seed 1, loss and error per epoch (log scales), over step 9's (dashed)."),
           ("step10_seed1_misclassified.png", "The test digits step 10's seed 1 gets wrong."),
           (PARETO_FIGURE, "The hand-listed search, step 11's: parameters against the worst seed."),
           (STUDY_FIGURE, "The Optuna studies: parameters against the worst seed, step 12 starred."),
           ("step11_seed1_curves.png", "Step 11's seed 1, loss and error per epoch (log scales), over step 10's (dashed).")]
FIGURES += [(ablation_figure(step), f"Step {step}: each of its changes undone alone, seed by seed, against the "
             "step's own seeds (its notebook says which carried the step).") for step in ABLATIONS]
README_FIGURES = 3


def figure_lines(figures, folder):
    """Each figure that exists, as an image with its caption under it; ``folder`` is the path from the
    page to Data/figures/."""
    made = output_dir("figures", "evidence")
    return [line for name, caption in figures if (made / name).exists()
            for line in (f"![{Path(name).stem}]({folder}/{name})", f"*{caption}*", "")]


def results_markdown():
    """The README's results block: one table of every step, the first figures, every number from
    the records."""
    runs = {step: step_seeds(step) for step in STEPS}
    made_on = devices(r for seeds in runs.values() for r in seeds)
    lines = [START, "",
             f"Every step's full runs (on {made_on}), under the rule: a seed holds when its test accuracy is at or "
             f"above {TARGET} % in each of the last {LAST} epochs; its last-{LAST} minimum is the lowest of those "
             "epochs. The reference is the published series' best epoch of one run.", "",
             f"| step | theme | params | seeds | last-{LAST} min, mean % | worst seed % | seeds holding | "
             f"epochs >= {TARGET} % (first seed) | best test % (first seed) | reference best test % |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for step in STEPS:
        lines += result_rows(step, runs[step])
    lines.append("")
    lines += figure_lines(FIGURES[:README_FIGURES], "Data/figures")
    lines.append(f"Every seed of step 10, the searches, the ablations and every figure: [{DETAILS_LINK}]({DETAILS_LINK}).")
    return "\n".join(lines + ["", END])


def details_markdown(records):
    """docs/details.md's generated block: step 10's seeds, the searches' and studies' tables, the
    ablations and every figure, from the records."""
    lines = [DETAILS_START]
    if len(records.get(10, {})) > 1:
        lines += [""] + seed_rows(10, records[10])
    for study in SEARCHES:
        if table := study_table_rows(study):
            lines += [""] + table
    lines += ablation_rows()
    lines.append("")
    lines += figure_lines(FIGURES, "../Data/figures")
    return "\n".join(lines + [DETAILS_END])


def steps_markdown():
    """The README's list of the steps, from the step table."""
    lines = [STEPS_START, "", "| notebook | idea | network | params | training: what changes from the step it builds "
             "on |", "|---|---|---|---|---|"]
    for n, step in STEPS.items():
        lines.append(f"| [{step.stem}](notebooks/{step.stem}.ipynb) ([Colab]({COLAB}/{step.stem}.ipynb)) | "
                     f"{step.idea} | `{network_name(n)}` | {parameters(step.config):,} | {training_changes(n)} |")
    return "\n".join(lines + ["", STEPS_END])


def headline_markdown():
    """The README's headline: the final model (the last step chosen from a study) on every seed its
    study recorded, and its worst seed."""
    final = final_step()
    records = step_runs(final) if final else []
    if len(records) < 2:
        return "\n".join([HEADLINE_START, "", "The final model's seeds are not recorded yet.", "", HEADLINE_END])
    seeds = seed_summary(records, AVERAGED)
    holds = (f"for every one of seeds {seeds.seeds}" if seeds.held == len(records) else
             f"for {seeds.held} of seeds {seeds.seeds}, not yet for every seed")
    chosen = seed_summary([r for r in records if r.seed in STEPS[final].chosen_on], AVERAGED)
    return "\n".join([HEADLINE_START, "",
                      f"**The final model, step {final} (`{network_name(final)}`, {records[0].params:,} parameters, "
                      f"{records[0].config['epochs']} epochs), holds at least {TARGET} % test accuracy in each of its "
                      f"last {LAST} epochs {holds}: worst seed {seeds.worst:.2f} % ({seeds.worst_seeds}), mean "
                      f"{seeds.mean:.2f} %** (averaged weights; {records[0].mode} runs on "
                      f"{devices(records)}, torch "
                      f"{', '.join(sorted({r.torch_version for r in records}))}). The study "
                      f"`{STEPS[final].validated_in}` chose the recipe on seeds {chosen.seeds}; the others were "
                      f"each trained once after that pick, none dropped (step {final}'s notebook says what they can "
                      "and cannot tell).",
                      "", HEADLINE_END])


def replace_block(text, start, end, block, readme, what):
    """``text`` with its ``what`` block, the ``start`` to the ``end`` line, replaced by ``block``."""
    first, last = text.find(start), text.find(end)
    if text.count(start) != 1 or text.count(end) != 1 or last < first:
        raise RecordError(f"{repo_relative(readme)} has no {what} block to rewrite (one line {start!r}, then one line "
                          f"{end!r}): put the two lines back where the block goes, or restore the file with "
                          f"`git checkout -- {repo_relative(readme)}`")
    return text[:first] + block + text[last + len(end):]


def update_readme(readme=None, details=None):
    """Rewrite the marked blocks of the README and of docs/details.md (default: the repository's):
    the steps from the step table, the results from the records."""
    readme, details = readme or README, details or DETAILS
    records = full_records()
    text = replace_block(readme.read_text(), START, END, results_markdown(), readme, "results")
    text = replace_block(text, HEADLINE_START, HEADLINE_END, headline_markdown(), readme, "headline")
    text = replace_block(text, STEPS_START, STEPS_END, steps_markdown(), readme, "steps")
    more = replace_block(details.read_text(), DETAILS_START, DETAILS_END, details_markdown(records), details, "details")
    write_atomically(readme, text)
    write_atomically(details, more)
    print(f"README results rewritten from {sum(len(seeds) for seeds in records.values())} records")


def write_analyses(steps=None):
    """Rewrite the tagged Analysis cell (and the appendix's, where the step has one) of each step's
    notebook (default: every step in ``TEXTS``) from the committed records; returns the steps
    whose text changed. A step whose Analysis needs records this repository does not hold (a user's
    own, a fresh clone's) is left as it is, and said."""
    changed = []
    for step in sorted(set(steps or TEXTS) & set(TEXTS)):
        path = notebook_path(step)
        nb = nbformat.read(path, as_version=4)
        untagged = (f"{repo_relative(path)} has no Markdown cell tagged {{!r}} to write into: restore it with "
                    f"`git checkout -- {repo_relative(path)}`")
        if analysis_cell(nb) is None:
            raise RecordError(untagged.format(TAG))
        try:
            texts = TEXTS[step]()
        except (KeyError, IndexError, statistics.StatisticsError, RecordError) as error:
            print(f"{path.name}: its Analysis is left as it is: it needs records not here ({type(error).__name__}: "
                  f"{error})")
            continue
        cells = {tag: analysis_cell(nb, tag) for tag in texts}
        if missing := [tag for tag, cell in cells.items() if cell is None]:
            raise RecordError(untagged.format(missing[0]))
        if any(cells[tag].source != text for tag, text in texts.items()):
            for tag, text in texts.items():
                cells[tag].source = text
            write_atomically(path, nbformat.writes(nb) + "\n")
            changed.append(step)
    return changed


def update_pages():
    """Everything written from the records alone, training nothing: the README and docs/details.md
    (``update_readme``) with the series chart they show, and the notebooks' Markdown Analyses
    (``write_analyses``)."""
    series_figure()
    update_readme()
    for step in write_analyses():
        print(f"{notebook_path(step).name}: its Analysis rewritten from the records")


def series_figure():
    """The rule's measure of every step's seeds, one column per step (``plot_series``): on the
    averaged weights where a step keeps them."""
    runs = {step: step_seeds(step) for step in STEPS}
    runs = {step: seeds for step, seeds in runs.items() if seeds}
    if runs:
        points = [(step, f"{step} {STEPS[step].name}",
                   [row.low for row in seed_summary(seeds, AVERAGED if AVERAGED in seeds[0].history[0]
                                                    else "test_acc").rows]) for step, seeds in runs.items()]
        made = [r for seeds in runs.values() for r in seeds]
        plot_series(points, title=f"every step's full runs on {devices(made)}, torch "
                    f"{', '.join(sorted({r.torch_version for r in made}))}", save=output_dir("figures", "evidence") / SERIES_FIGURE)


def reproduce(steps, retrain=False):
    """Execute the notebooks of ``steps`` in full mode, then rewrite what is written from the records
    (``update_pages``: the series chart, the README, docs/details.md, the Markdown Analyses).
    A committed run whose weights were kept and whose training code is unchanged is reused, not
    trained again (``experiment.reuse_run``), unless ``retrain``."""
    if output_mode() == "smoke":
        raise SystemExit("error: reproduce writes the committed notebooks and records; unset ERA_MNIST_SMOKE")
    os.environ["ERA_MNIST_EVIDENCE"] = "1"  # this process and the notebooks' kernels write Data/ itself
    os.environ["ERA_MNIST_REUSE"] = "" if retrain else "1"
    os.environ["TQDM_DISABLE"] = "1"  # the committed notebooks keep one line per epoch, no bars
    for step in steps:
        path = notebook_path(step)
        start = time.perf_counter()
        print(f"executing {path.name} ...", flush=True)
        execute_notebook(path)
        print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    update_pages()
