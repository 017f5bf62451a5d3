"""Step 4's Analysis: BatchNorm after every convolution, judged over seeds."""
import statistics

import torch

from ..steps import STEPS, build, step_config
from ..steps.records import full_records
from ..utils.results import TARGET, lowest_test_loss, run_summary
from .shared import provenance, seeds_against, seeds_bullet


STEP = 4


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    compared = seeds_against(records, full_records()[3].values())   # this step's seeds, step 3's
    prev, ref = full_records()[3][1], STEPS[STEP].reference   # step 3, seed 1: the run this step changes
    h, p, run, before = record.history, prev.history, run_summary(record), run_summary(prev)
    first_sd = statistics.stdev(r.history[0]['test_acc'] for r in records)   # the first epoch, seed to seed
    gap = [e['train_acc'] - e['test_acc'] for e in h]
    opens = next((i for i in range(len(h)) if all(g > 0 for g in gap[i:])), len(h) // 2)   # train above test from here on
    test = [e['test_acc'] for e in h[opens:]]
    low = lowest_test_loss(h[opens:])   # once the gap has opened
    climbs = all(b['train_acc'] > a['train_acc'] for a, b in zip(h[opens:], h[opens + 1:]))
    train_epoch = max(h, key=lambda e: e['train_acc'])['epoch']
    drop = [m.p for m in build(5).modules() if isinstance(m, torch.nn.Dropout)]   # what step 5 adds
    gain, d = run.best_test - before.best_test, run.best_test - ref['best_test']
    half = len(h) // 2   # the second half of the run: does the test loss rise over it?
    trend = {k: statistics.linear_regression(*zip(*[(e['epoch'], e[k]) for e in h[half:]])).slope
             for k in ('test_loss', 'test_acc')}   # change per epoch (a least-squares line)
    worse = trend['test_loss'] > 0
    return provenance(STEP, records) + "\n" + f"""
- **Result:** {record.params:,} parameters ({record.params - prev.params} more than step 3: BatchNorm's scale and shift, two per channel), best train accuracy {run.best_train:.2f} % ({'last epoch' if train_epoch == len(h) else f'epoch {train_epoch}'}), best test accuracy {run.best_test:.2f} % (epoch {run.best_epoch}); the reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %. Step 3's best test accuracy was {before.best_test:.2f} %: BatchNorm {'adds' if gain > 0 else 'loses'} {abs(gain):.2f} points on seed 1; the seeds below measure it.
{seeds_bullet(3, compared)}
- **Batch normalization {'removed' if h[0]['test_acc'] - p[0]['test_acc'] > 2 * first_sd else 'did not remove'} the slow start:** the first epoch now averages {h[0]['train_acc']:.2f} % training accuracy over its batches and ends at {h[0]['test_acc']:.2f} % test accuracy (step 3: {p[0]['train_acc']:.2f} % and {p[0]['test_acc']:.2f} %). BatchNorm is the only change (it also brings a learned shift per channel, the bias these convolutions lack); keeping every layer's input on one scale is the likely reason lr {config.lr} now trains all layers from the first batches.
- **{'The gap widens' if gap[-1] > max(0, gap[opens]) else 'No growing gap'}:** from epoch {opens + 1} on the training accuracy {'stays above' if gap[-1] > 0 else 'ends at or below'} the test accuracy and {'keeps climbing' if climbs else 'climbs'} ({h[opens]['train_acc']:.2f} % to {h[-1]['train_acc']:.2f} %), while the test accuracy stays between {min(test):.2f} % and {max(test):.2f} %. The training loss falls {h[opens]['train_loss'] / h[-1]['train_loss']:.1f}-fold over those epochs; the test loss {'barely moves' if abs(h[-1]['test_loss'] / h[opens]['test_loss'] - 1) < 0.25 else 'moves'} ({h[opens]['test_loss']:.4f} then, {low['test_loss']:.4f} at its lowest in epoch {low['epoch']}, {h[-1]['test_loss']:.4f} at the end). The network fits the training images better than the test images: the gap at the end is {gap[-1]:.2f} points (step 3's: {p[-1]['train_acc'] - p[-1]['test_acc']:.2f}). {'But it is not over-fitting in the sense that hurts: over' if not worse and trend['test_acc'] >= 0 else 'Over'} epochs {half + 1}-{len(h)} the test loss {'falls' if not worse else 'rises'} by {abs(trend['test_loss']):.4f} per epoch and the test accuracy {'rises' if trend['test_acc'] >= 0 else 'falls'} by {abs(trend['test_acc']):.3f} points per epoch (least-squares lines){': the test results are not getting worse as the training accuracy climbs' if not worse and trend['test_acc'] >= 0 else ': over-fitting'}.
- **Differences from the reference:** our best test accuracy is {abs(d):.2f} points {'above' if d > 0 else 'below'} the reference's {ref['best_test']:.2f} %, which is {'even below' if ref['best_test'] < STEPS[3].reference['best_test'] else 'above'} its own step 3's {STEPS[3].reference['best_test']:.2f} %. The reference's figure is its best epoch, so an unlucky last epoch cannot explain it, and one figure with no seed named cannot tell what does. Ours, from epoch {opens + 1} on, moves only between {min(test):.2f} % and {max(test):.2f} % from epoch to epoch.
- **What the next step should try:** the gap, not the capacity, is what stands out now: the training accuracy reaches {run.best_train:.2f} %, {'above' if run.best_train > TARGET else 'below'} the {TARGET} % the test accuracy has to reach, while the test accuracy stays {'below' if max(test) < TARGET else 'around'} it. Regularize: dropout ({drop[0]:.0%}) after conv3 and conv5 makes the training task harder without adding parameters; step 5 tests whether it narrows the gap, and (what the rule needs) whether the test accuracy rises with it."""
