"""Step 3's Analysis: a lighter network; its seeds against step 2's one run."""
import math

import torch

from ..steps import STEPS, build, step_config
from ..steps.records import full_records
from ..utils.results import LAST, lowest_test_loss, run_summary
from .shared import provenance, seeds_against, seeds_bullet


STEP = 3


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    compared = seeds_against(records, full_records()[2].values())   # this step's seeds, step 2's
    these = compared.these
    h, prev, ref = record.history, full_records()[2][1], STEPS[STEP].reference   # step 2, seed 1: the wide network
    run, before = run_summary(record), run_summary(prev)
    gap = [e['train_acc'] - e['test_acc'] for e in h]
    wide = max(abs(g) for g in gap[-LAST:])   # the largest train-test gap of the last epochs
    late = [e['test_acc'] for e in h[-LAST:]]   # the rule's window
    gains = [b['test_acc'] - a['test_acc'] for a, b in zip(h[1:], h[2:])]   # what each epoch from the 3rd adds
    rising = h[-1]['train_loss'] < h[-2]['train_loss'] < h[-3]['train_loss']   # still learning at the end
    low = lowest_test_loss(h)
    relus = sum(isinstance(m, torch.nn.ReLU) for m in build(STEP).modules())
    cut, d = before.best_test - run.best_test, ref['best_test'] - run.best_test
    return provenance(STEP, records) + "\n" + f"""
- **Result:** {record.params:,} parameters, {prev.params / record.params:.0f} times fewer than step 2, reach a best test accuracy of {run.best_test:.2f} % ({'at the last epoch' if run.best_epoch == len(h) else f'epoch {run.best_epoch}'}) against a best train accuracy of {run.best_train:.2f} %. Step 2 reached {before.best_test:.2f} %: the cut {'costs' if cut > 0 else 'gains'} {abs(cut):.2f} points. The seeds below say whether that is more than a seed explains.
{seeds_bullet(2, compared)}
- **{'Not over-fitting, still learning' if wide < 1 and rising else 'Not over-fitting' if wide < 1 else 'A gap between train and test'}:** in the last {LAST} epochs train and test accuracy stay within {wide:.2f} points of each other (the training figure averaged over each epoch as it trains), and the test loss is lowest at epoch {low['epoch']} ({low['test_loss']:.4f}, {h[-1]['test_loss']:.4f} at the end); the training loss {'still falls' if rising else 'no longer falls'} over the last three epochs ({', '.join(f"{e['train_loss']:.4f}" for e in h[-3:])}), and the test accuracy stays between {min(late):.2f} and {max(late):.2f} % in the last {LAST} epochs.{' It learns slowly: a network that has not finished learning may be short of epochs or of a better optimisation rather than of capacity (the last bullet).' if wide < 1 and rising else ''}
- **A slow start:** the first epoch averages {h[0]['train_acc']:.2f} % training accuracy on seed 1 ({', '.join(f"seed {r.seed}: {r.history[0]['train_acc']:.2f} %" for r in records[1:])}, printed under the seed table) with a mean training loss of {h[0]['train_loss']:.1f} on seed 1, {'barely below' if h[0]['train_loss'] > 0.9 * math.log(10) else 'below'} chance ({math.log(10):.1f}, a uniform guess over the ten digits); step 2's network, as deep ({relus} ReLU layers), as unnormalised and trained alike (SGD, momentum {config.momentum}, lr {config.lr}), averaged {prev.history[0]['train_acc']:.2f} %. The narrower layers are the only change; why they start slower, these runs do not show (step 4 looks at the signal through this network at its start). Step 4 adds batch normalization, with a learned shift per channel, two changes it tests as one. By the end of that epoch seed 1 already scores {h[0]['test_acc']:.2f} % on the test set ({', '.join(f"seed {r.seed}: {r.history[0]['test_acc']:.2f} %" for r in records[1:])}: the slow start varies from seed to seed); on seed 1 the second epoch adds {h[1]['test_acc'] - h[0]['test_acc']:.1f} points, each later one between {min(gains):+.2f} and {max(gains):+.2f}.
- **Differences from the reference:** our best test accuracy is {abs(d):.2f} points {'below' if d > 0 else 'above'} the reference's {ref['best_test']:.2f} %{' with the same network' if ref['params'] == record.params else ''}. Over seeds {these.seeds} the best epochs run from {min(r[2] for r in these.rows):.2f} to {max(r[2] for r in these.rows):.2f} %, {'all below' if max(r[2] for r in these.rows) < ref['best_test'] else 'all above' if min(r[2] for r in these.rows) > ref['best_test'] else 'on both sides of'} it; the reference reports one figure per step and names no seed, so whether the gap is its recipe or its seed cannot be told. The curves, not the last decimal, are the finding.
- **What the next step should try:** the training loss {'still falls at the end: the network has not finished learning in ' + str(len(h)) + ' epochs, so this run cannot tell whether the cut left capacity to spare. What it does show is' if rising else 'has stopped falling; what this run shows is'} a slow optimisation (the first epoch, above). Batch normalization after every convolution but the head keeps each layer's input on one scale, which should let the same learning rate train much faster."""
