"""Step 1's Analysis: the pipeline works; one seed, judged by its own epoch-to-epoch movement."""
import torch

from ..steps import STEPS, build, step_config
from ..steps.records import full_records
from ..utils.mechanisms import shapes_through
from ..utils.results import LAST, RULE, TARGET, lowest_test_loss, run_summary
from .shared import provenance


STEP = 1


def analysis():
    records = full_records()
    record, config, ref = records[STEP][1], step_config(STEP), STEPS[STEP].reference
    h, run, end = record.history, run_summary(record), record.history[-1]
    move = RULE.movement(h)  # this run's own noise: its largest epoch-to-epoch change, last epochs
    d = run.best_test - ref["best_test"]
    lo = lowest_test_loss(h)
    after = h[lo["epoch"]:]  # the epochs after it
    gain = max((e["test_acc"] for e in after), default=lo["test_acc"]) - lo["test_acc"]
    gap = end["train_acc"] - end["test_acc"]
    window = lambda rows: sum(e["test_loss"] for e in rows) / len(rows)   # noqa: E731  steadier than one epoch
    w_low, w_end = window(h[max(0, lo["epoch"] - LAST):lo["epoch"]]), window(h[-LAST:])
    overfits = w_end > w_low and gap > 2 * move
    tail = {name: shape for name, shape, _ in shapes_through(build(STEP), torch.zeros(1, 1, 28, 28))
            if name in ("conv5", "conv6", "conv7")}
    tail_params = sum(p.numel() for n, p in build(STEP).named_parameters() if n.split(".")[0] in tail)
    reached = ("No epoch reaches" if not run.at_target
               else "Epochs " + ", ".join(map(str, run.at_target)) + " reach")
    later = (f"every later epoch lies above it (up to {max(e['test_loss'] for e in after):.4f}), and the last "
             f"is {end['test_loss'] / lo['test_loss'] - 1:.0%} higher" if after else "the last")
    sizes = ", ".join(f"{name} {shape[1]}x{shape[2]}" for name, shape in tail.items())
    return f"""{provenance(STEP, [record])}

- **Result:** {record.params:,} parameters, best train accuracy {run.best_train:.2f} %{' (last epoch)' if end['train_acc'] == run.best_train else ''}, best test accuracy {run.best_test:.2f} % (epoch {run.best_epoch}); the reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %. The pipeline works: {h[0]['test_acc']:.2f} % test accuracy after one epoch. {reached} {TARGET} %.
- **One seed, no effect claimed:** the network is big and a run takes {record.wall_seconds / 3600:.1f} hours on the CPU that trained it, so this step trains seed 1 only, and the reference reports one figure per step, with no seed named. Within its last {LAST} epochs this run's test accuracy moves by up to {move:.2f} points from one epoch to the next, by itself; our best epoch is {abs(d):.2f} points {'above' if d > 0 else 'below'} the reference's, but one run each cannot tell the seed from the set-up. The lesson here is the pipeline.
- **{'Over-fitting' if overfits else 'Little over-fitting'}:** on the log scale the training loss keeps falling, from {h[0]['train_loss']:.4f} to {end['train_loss']:.4f}; the test loss is lowest at epoch {lo['epoch']} ({lo['test_loss']:.4f}), {later}, {end['test_loss'] / end['train_loss']:.0f} times the training loss. One epoch's test loss is noisy, so compare windows: over the last {LAST} epochs it averages {w_end:.4f}, against {w_low:.4f} over the {LAST} epochs up to epoch {lo['epoch']}, {w_end / w_low - 1:+.0%}. After epoch {lo['epoch']} the training loss falls another {round(lo['train_loss'], 4) / round(end['train_loss'], 4):.1f}-fold (from the printed losses), yet the test accuracy gains at most {gain:+.2f} points on that epoch's {lo['test_acc']:.2f} %{' (less than the run moves from epoch to epoch)' if gain < move else ''}, and it ends {gap:.2f} points below the training accuracy. With {record.params / 1e6:.1f} million parameters and nothing (no batch normalization, no dropout, no augmentation) to hold them back, the network fits the training digits ever more closely. The test loss never returns to its low while the test accuracy{' holds' if gain < move else ' still edges up'}: the loss also counts how sure each answer is, so a network that grows surer of its answers, the wrong ones too, raises it without changing what it gets right. That is the likely reading; this run does not measure the confidence itself.
- **Where the parameters sit:** the last three convolutions alone hold {tail_params / 1e6:.1f} million of them ({tail_params / record.params:.0%}), on the smallest maps ({sizes}): most of the network's weights work on a handful of positions at the end, where the image is already down to 7x7.
- **Cost:** the per-epoch lines above add up to {sum(e['seconds'] for e in h):.0f} s for {config.epochs} epochs on the CPU that trained it.
- **What the next step should try:** fix the layout first, with a skeleton that can be slimmed without redesigning it: 3x3 convolutions up to a receptive field of about 7 pixels (a common rule of thumb: enough for the first block to see edges and pieces of strokes), a max-pool, a 1x1 convolution that cuts the channels back, and a second block that ends on a 7x7 map read by one 7x7 convolution."""
