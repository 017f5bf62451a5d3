"""What a run's Result says, printed from its record, beside the reference series' figures, and
its seeds' table (each notebook's Analysis is written by era_mnist.analyses)."""
from statistics import mean

import torch

from ..utils.results import AVERAGED, LAST, RULE, TARGET, lowest_test_loss, run_summary, seed_summary, spans
from ..utils.train import device_name
from .table import STEPS


def context_label(step, seed, data):
    """What produces a figure before any record exists: step, seed, mode, device, torch."""
    mode = "smoke" if data.smoke else "full"
    return f"step {step}, seed {seed}, {mode} run on {device_name(data.train_x.device)}, torch {torch.__version__}"


def format_result(record, key="test_acc"):
    """The Result block of a run: ours beside the reference's, every number from the record."""
    run = run_summary(record, key)
    ref = STEPS[record.step].reference  # step 11 goes beyond the series: no reference to quote

    def beside(field, fmt, unit=""):
        return f"   reference {format(ref[field], fmt)}{unit}" if ref else ""
    trained = key == "test_acc"  # the averaged weights are only tested: their block has no train line
    return "\n".join([
        f"Result{'' if trained else ' (averaged weights)'}: {record.label()}",
        f"  parameters           {record.params:>9,}{beside('params', '>9,')}",
        *([f"  best train accuracy  {run.best_train:>8.2f}%{beside('best_train', '>8.2f', '%')}"] if trained else []),
        f"  best test accuracy   {run.best_test:>8.2f}%{beside('best_test', '>8.2f', '%')}   (epoch {run.best_epoch})",
        f"  epochs >= {TARGET}%     {spans(run.at_target) or 'none'}",
        f"  wall time            {record.wall_seconds:>8.1f} s on {record.device}",
    ])


def seed_table(records, key="test_acc"):
    """Per seed: the minimum test accuracy of the last LAST epochs, the best and the final; then
    the mean and the worst seed. ``key`` picks the raw or the averaged weights' accuracy."""
    seeds = seed_summary(records, key)
    lines = [f"{'seed':>4}  {f'last-{LAST} min':>11}  {'best':>6}  {'final':>6}  holds {TARGET}%"]
    lines += [f"{seed:>4}  {low:>11.2f}  {best:>6.2f}  {final:>6.2f}  {'yes' if RULE.clears(low) else 'no'}"
              for seed, low, best, final in seeds.rows]
    lines.append(f"mean last-{LAST} min {seeds.mean:.2f}, worst seed {seeds.worst:.2f}; "
                 f"holds for {seeds.held} of {len(seeds.rows)} seeds")
    return "\n".join(lines)


def format_against(record, runs, base):
    """``record`` beside the same seed of step ``base`` (``runs``: that step's runs by seed) in the
    figures an Analysis compares, then step ``base``'s seeds under the rule: what a lesson quotes
    from the step before is printed on its page, not only drawn in its plots."""
    other = runs[record.seed]
    averaged = all(AVERAGED in run.history[0] for run in (record, other))
    quoted = all(STEPS[run.step].reference for run in (record, other))  # steps 11 and 12 go beyond it

    def column(run):
        h, summary = run.history, run_summary(run)
        tail = [row["test_acc"] for row in h[-LAST:]]
        figures = [h[0]["train_acc"], h[0]["test_acc"], summary.best_train, summary.best_test, RULE.measure(h),
                   mean(tail), h[-1]["train_acc"], h[-1]["test_acc"]]
        low = lowest_test_loss(h)
        losses = [f"{h[-1]['train_loss']:.4f}", f"{h[-1]['test_loss']:.4f}", f"{low['test_loss']:.4f} ({low['epoch']})"]
        return ([f"{x:.2f}" for x in figures] + losses
                + ([f"{RULE.measure(h, AVERAGED):.2f}"] if averaged else [])
                + ([f"{STEPS[run.step].reference['best_test']:.2f}"] if quoted else []))
    names = ["epoch 1 train accuracy %", "epoch 1 test accuracy %", "best train accuracy %", "best test accuracy %",
             f"last-{LAST} min test accuracy %", f"last-{LAST} mean test accuracy %",
             "last epoch train accuracy %", "last epoch test accuracy %", "last epoch train loss",
             "last epoch test loss", "lowest test loss (epoch)"] + (
                 [f"last-{LAST} min, averaged weights %"] if averaged else []) + (
                 ["the reference's best test accuracy %"] if quoted else [])
    lines = [f"{f'seed {record.seed}':<36}{f'step {record.step}':>13}{f'step {base}':>13}"]
    lines += [f"{name:<36}{a:>13}{b:>13}" for name, a, b in zip(names, column(record), column(other))]
    for key, which in ([("test_acc", " (trained weights)"), (AVERAGED, " (averaged weights)")] if averaged
                       else [("test_acc", "")]):
        lines += ["", f"step {base}'s seeds{which}:", seed_table(list(runs.values()), key)]
    return "\n".join(lines)


def repeat_line(record, other, what):
    """Whether ``record`` (a notebook's seed, trained there or its kept run) repeats ``other``
    (``what``'s run of the same recipe and seed) epoch by epoch, times aside, as one line with both
    runs' measure under the rule and what a CPU run's repeat rests on: the thread count and the CPU."""
    def numbers(run):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in run.history]
    key = AVERAGED if AVERAGED in record.history[0] else "test_acc"
    lows = [RULE.measure(run.history, key) for run in (record, other)]
    cpus = [run.cpu_model or "not recorded" for run in (record, other)]
    same = numbers(record) == numbers(other)
    which = " of the averaged weights" if key == AVERAGED else ""
    return (f"seed {record.seed} in this notebook: {'the same history as' if same else 'a different history from'} "
            f"{what}'s seed {other.seed} (last-{RULE.window} minimum{which}: "
            f"{lows[0]:.2f} % here, {lows[1]:.2f} % there; CPU threads: {record.cpu_threads} here, {other.cpu_threads} "
            f"there; CPU: {cpus[0]} here, {cpus[1]} there)")
