"""What a run's Result says, printed from its record, beside the reference series' figures."""
from pathlib import Path
from statistics import mean

import torch

from .records import TARGET, epochs_at_target, output_dir
from .train import device_name

# The published reference series' own figures (spec/step-series.md), quoted for comparison only.
REFERENCE = {
    1: dict(params=6_379_786, best_train=99.85, best_test=99.06),
    2: dict(params=194_884, best_train=99.27, best_test=98.86),
    3: dict(params=10_790, best_train=98.88, best_test=98.82),
    4: dict(params=10_970, best_train=99.75, best_test=98.28),
    5: dict(params=10_970, best_train=99.81, best_test=99.28),
    6: dict(params=6_070, best_train=98.81, best_test=98.72),
    7: dict(params=7_884, best_train=99.23, best_test=99.23),
    8: dict(params=7_884, best_train=99.34, best_test=99.36),
    9: dict(params=7_884, best_train=99.31, best_test=99.27),
    10: dict(params=7_884, best_train=99.34, best_test=99.56),
}


def context_label(step, seed, data):
    """What produces a figure before any record exists: step, seed, mode, device, torch."""
    mode = "smoke" if data.smoke else "full"
    return f"step {step}, seed {seed}, {mode} run on {device_name(data.train_x.device)}, torch {torch.__version__}"


def format_result(record, key="test_acc"):
    """The Result block of a run: ours beside the reference's, every number from the record."""
    best_train, _ = record.best("train_acc")
    best_test, best_epoch = record.best(key)
    at_target = epochs_at_target(record.history, key)
    ref = REFERENCE.get(record.step)  # step 11 goes beyond the series: no reference to quote

    def beside(field, fmt, unit=""):
        return f"   reference {format(ref[field], fmt)}{unit}" if ref else ""
    which = "" if key == "test_acc" else " (averaged weights)"
    return "\n".join([
        f"Result{which}: {record.label()}",
        f"  parameters           {record.params:>9,}{beside('params', '>9,')}",
        f"  best train accuracy  {best_train:>8.2f}%{beside('best_train', '>8.2f', '%')}",
        f"  best test accuracy   {best_test:>8.2f}%{beside('best_test', '>8.2f', '%')}   (epoch {best_epoch})",
        f"  epochs >= {TARGET}%     {', '.join(map(str, at_target)) or 'none'}",
        f"  wall time            {record.wall_seconds:>8.1f} s on {record.device}",
    ])


def seed_stats(records, key="test_acc", last=5):
    """Per seed (in order): (seed, lowest of the last ``last`` epochs, best, final) of ``key``;
    then (mean of those minima, the worst seed's minimum, how many seeds hold the target)."""
    rows = [(r.seed, r.last_min(last, key), r.best(key)[0], r.history[-1][key])
            for r in sorted(records, key=lambda r: r.seed)]
    mins = [row[1] for row in rows]
    return rows, (mean(mins), min(mins), sum(m >= TARGET for m in mins))


def seed_table(records, key="test_acc", last=5):
    """Per seed: the minimum test accuracy of the last ``last`` epochs, the best and the final;
    then the mean and the worst seed. ``key`` picks the raw or the averaged weights' accuracy."""
    rows, (avg, worst, held) = seed_stats(records, key, last)
    lines = [f"{'seed':>4}  {f'last-{last} min':>11}  {'best':>6}  {'final':>6}  holds {TARGET}%"]
    lines += [f"{seed:>4}  {low:>11.2f}  {best:>6.2f}  {final:>6.2f}  {'yes' if low >= TARGET else 'no'}"
              for seed, low, best, final in rows]
    lines.append(f"mean last-{last} min {avg:.2f}, worst seed {worst:.2f}; holds for {held} of {len(rows)} seeds")
    return "\n".join(lines)


def figure_path(record, kind):
    """Where a run's figure goes: beside its record, in the figures folder ``output_dir`` picks for
    its mode (Data/figures/ only for the evidence)."""
    return output_dir("figures", record.mode) / f"{Path(record.filename).stem}_{kind}.png"
