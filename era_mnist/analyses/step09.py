"""Step 9's Analysis: random rotation, judged over seeds."""
import statistics

from ..steps import STEPS, config_changes, step_config
from ..steps.records import full_records
from ..utils.results import LAST, RULE, TARGET, lowest_test_loss, run_summary
from .shared import provenance, seeds_against, seeds_bullet


STEP = 9


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    compared = seeds_against(records, full_records()[8].values())   # this step's seeds, step 8's
    these, those, seed_sd = compared.these, compared.those, compared.sd
    prev, hist = full_records()[8][1], record.history   # step 8, seed 1
    run, before, ref = run_summary(record), run_summary(prev), STEPS[STEP].reference
    ours = (run.best_test, RULE.measure(hist), hist[-1]['test_acc'])   # best, lowest of the last LAST epochs, last
    theirs = (before.best_test, RULE.measure(prev.history), prev.history[-1]['test_acc'])   # step 8's
    gains = [a - b for a, b in zip(ours, theirs)]
    met = min(gains) > 2 * seed_sd   # every gain beyond twice the spread between this step's seeds
    lower = sum(a['train_acc'] < b['train_acc'] for a, b in zip(hist, prev.history))   # epochs below step 8's
    above = sum(h['test_acc'] > h['train_acc'] for h in hist)   # epochs with test above train
    low, low8 = (lowest_test_loss(h) for h in (hist, prev.history))
    half, half8 = (h[(len(h) - 1) // 2:] for h in (hist, prev.history))   # the second half of each run
    top, nxt = max(hist, key=lambda h: h['train_acc'])['epoch'], step_config(10)
    return provenance(STEP, records) + "\n" + f"""
- **Result:** best train accuracy {run.best_train:.2f} % (epoch {top}), best test accuracy {run.best_test:.2f} % (epoch {run.best_epoch}), {TARGET} % reached {'in no epoch' if not run.at_target else 'in epochs ' + ', '.join(map(str, run.at_target))}; the reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %.
{seeds_bullet(8, compared)}
- **The aim, a higher test accuracy than step 8's, {'met' if met else 'not met'}:** the best test accuracy is {ours[0]:.2f} % against {theirs[0]:.2f} % ({gains[0]:+.2f} points), the lowest of the last {LAST} epochs {ours[1]:.2f} % against {theirs[1]:.2f} % ({gains[1]:+.2f}), the last epoch's {ours[2]:.2f} % against {theirs[2]:.2f} % ({gains[2]:+.2f}). Over seeds {these.seeds} the best test accuracy averages {statistics.mean(r[2] for r in these.rows):.2f} % against step 8's {statistics.mean(r[2] for r in those.rows):.2f} %, and the last epoch {statistics.mean(r[3] for r in these.rows):.2f} % against {statistics.mean(r[3] for r in those.rows):.2f} %: the seeds bullet above judges the step.
- **A training accuracy that measures something else:** it is below step 8's in {lower} of {len(hist)} epochs ({hist[-1]['train_acc']:.2f} % against {prev.history[-1]['train_acc']:.2f} % at the end). It is counted on the batches as they train (`train_epoch`), and here those are the turned digits, so it is not step 8's measure; whether turned digits are harder to fit, this count alone cannot say. The lowest test loss is {low['test_loss']:.4f} (epoch {low['epoch']}), step 8's {low8['test_loss']:.4f}. The test accuracy is above the training accuracy in {above} of {len(hist)} epochs (step 8: {sum(h['test_acc'] > h['train_acc'] for h in prev.history)} of {len(prev.history)}), by {hist[-1]['test_acc'] - hist[-1]['train_acc']:.2f} points at the end (step 8: {prev.history[-1]['test_acc'] - prev.history[-1]['train_acc']:.2f}): {'on seed 1 the gap is wider; whether rotation widens it, one seed cannot settle' if hist[-1]['test_acc'] - hist[-1]['train_acc'] > prev.history[-1]['test_acc'] - prev.history[-1]['train_acc'] else 'not a gap that measures over-fitting'}.
- **A guess at the limit, the learning rate:** from epoch {half[0]['epoch']} on, the test accuracy moves between {min(h['test_acc'] for h in half):.2f} and {max(h['test_acc'] for h in half):.2f} % (step 8: {min(h['test_acc'] for h in half8):.2f} to {max(h['test_acc'] for h in half8):.2f} %). At a constant lr of {config.lr}, the weights likely keep moving from epoch to epoch instead of settling, so which epoch is best may be largely chance; neither removing dropout nor rotating the images changed that.
- **What the next step tries:** a schedule, OneCycleLR, which warms the learning rate up to a peak of {nxt.max_lr} and then anneals it to nearly zero, so that the last epochs can settle: what a rule about the last epochs needs. Step 10 changes `{config_changes(nxt, config)}` at once; it measures five seeds, and undoes each of its changes alone on seeds 1-3 to see which carried it."""
