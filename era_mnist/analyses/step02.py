"""Step 2's Analysis: the skeleton learns; one seed each, judged by the run's own epoch-to-epoch movement."""
import statistics

import torch

from ..steps import STEPS, build, step_config
from ..steps.records import full_records
from ..utils.results import LAST, RULE, TARGET, lowest_test_loss, run_summary
from .shared import provenance


STEP = 2


def analysis():
    records = full_records()
    record, prev, config, ref = records[STEP][1], records[1][1], step_config(STEP), STEPS[STEP].reference
    h, run, before = record.history, run_summary(record), run_summary(prev)
    move = RULE.movement(h)  # this run's own noise: its largest epoch-to-epoch change, last epochs
    cut = before.best_test - run.best_test
    relus = sum(isinstance(m, torch.nn.ReLU) for m in build(STEP).modules())
    convs, light = ([m for m in build(n).modules() if isinstance(m, torch.nn.Conv2d)] for n in (2, 3))
    big = sum(sorted(m.weight.numel() for m in convs)[-2:])  # the two largest convolutions' parameters
    lo, lo1 = (lowest_test_loss(r.history) for r in (record, prev))
    printed = {"test_loss": 4, "test_acc": 2}  # the decimals the per-epoch lines print: average what the student sees
    early, late = ({k: statistics.mean(round(e[k], d) for e in rows) for k, d in printed.items()}
                   for rows in (h[-2 * LAST:-LAST], h[-LAST:]))  # the five epochs before the last five, the last five
    cross = next((e["epoch"] for e in h if e["train_acc"] > e["test_acc"]), None)  # train passes test
    sec = [e["seconds"] for e in h]
    better = late["test_loss"] < early["test_loss"] and late["test_acc"] > early["test_acc"]  # still improving
    reached = ("No epoch reaches" if not run.at_target
               else "Epochs " + ", ".join(map(str, run.at_target)) + " reach")
    widths = lambda layers: f"{min(m.out_channels for m in layers[:-2])} to {max(m.out_channels for m in layers[:-2])}"  # noqa: E731
    return f"""{provenance(STEP, [record])}

- **Result:** {record.params:,} parameters, {prev.params / record.params:.0f} times fewer than step 1: best train accuracy {run.best_train:.2f} %{' (last epoch)' if h[-1]['train_acc'] == run.best_train else ''}, best test accuracy {run.best_test:.2f} % (epoch {run.best_epoch}); the reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %. {reached} {TARGET} %.
- **The skeleton learns:** its best test accuracy is {abs(cut):.2f} points {'below' if cut > 0 else 'above'} step 1's ({before.best_test:.2f} %). Steps 1 and 2 train one seed each (a run takes {record.wall_seconds / 3600:.1f} hours on the CPU that trained it), and within its last {LAST} epochs this run's test accuracy moves by up to {move:.2f} points from one epoch to the next by itself: the difference is {'larger than that, a hint of a cost but no effect measured' if abs(cut) > move else 'within that movement: no effect these runs can show'}. The lesson is the skeleton, not a margin.
- **A slow first epoch:** it averages {h[0]['train_acc']:.2f} % training accuracy (step 1: {prev.history[0]['train_acc']:.2f} %), yet ends at {h[0]['test_acc']:.2f} % on the test set: why is not measured here. A guess: {relus} ReLU layers without normalization or biases may need much of an epoch at lr {config.lr} before the first layers get a useful gradient; step 4 adds batch normalization, which brings a learned shift per channel with it, and so tests the two together.
- **{'No over-fitting yet' if better else 'Some over-fitting late'}:** the training accuracy {f'first passes the test accuracy at epoch {cross}' if cross else 'passes the test accuracy in no epoch'} and ends at {h[-1]['train_acc']:.2f} % against {h[-1]['test_acc']:.2f} %, {'but the test set still improves' if better else 'and the test set stops improving'}: over the last {LAST} epochs the test loss averages {late['test_loss']:.4f} ({early['test_loss']:.4f} over the {LAST} before) and the test accuracy {late['test_acc']:.2f} % ({early['test_acc']:.2f} %); the test loss is lowest at epoch {lo['epoch']}. Step 1's was lowest at epoch {lo1['epoch']}, then ended {prev.history[-1]['test_loss'] / lo1['test_loss'] - 1:.0%} higher.
- **Cost:** the two largest convolutions hold {big / record.params:.0%} of the parameters. The wall time ({record.wall_seconds:.0f} s) says little: epochs of the same work took {min(sec):.0f} to {max(sec):.0f} s, so it measures the machine's state (other loads, clock speed) as much as the network.
- **What the next step should try:** keep the skeleton and make it light: {widths(light)} channels per layer instead of {widths(convs)}, {record.params / sum(m.weight.numel() for m in light):.0f} times fewer parameters, and see how much accuracy that costs."""
