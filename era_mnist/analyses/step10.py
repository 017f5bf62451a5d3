"""Step 10's Analysis: OneCycle and averaged weights over five seeds, and which change carried it."""
import statistics

from ..ablation import effects
from ..steps import STEPS, step_config
from ..steps.experiment import load_range_test, range_readings
from ..steps.records import full_records
from ..utils.data import load_mnist
from ..utils.results import AVERAGED, LAST, TARGET, run_summary, seed_summary
from .shared import provenance


STEP = 10


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    ablation = effects(STEP)   # read from Data/ablations/
    data = load_mnist("cpu", smoke=False)   # for the sizes of the training and test sets
    lrs, losses = load_range_test(STEP)   # the notebook's range test, as it kept it
    per_epoch = -(-len(data.train_y) // config.batch_size)   # batches per epoch
    raw, avg, h, d = seed_summary(records, 'test_acc'), seed_summary(records, AVERAGED), record.history, config.ema_decay
    turn, low, top, end, fast, drop = range_readings(losses)   # as format_range_readings prints them
    chance = max((r['epoch'] for r in h if r[AVERAGED] < 20), default=0)   # averaged weights near chance until then
    near = next((r['epoch'] for r in h if r['test_acc'] - r[AVERAGED] < 1), None)   # within a point of the trained weights
    images, sd = len(data.test_y) / 100, statistics.stdev(r.history[-1]['test_acc'] for r in records)  # images per point
    sd_avg, step9 = statistics.stdev(row[1] for row in avg.rows), full_records()[9][1].history[-1]['test_acc']
    better, ref = sum(a[1] > b[1] for a, b in zip(avg.rows, raw.rows)), STEPS[config.step].reference
    carried, hurt = ([r for r in ablation if r.verdict == v] for v in ('carried', 'hurt'))   # the ablation's rows
    unseen, mean_of = [r for r in ablation if r.verdict == 'not shown'], {r.change.name: r.mean for r in ablation}
    own_mean, seeds_run = statistics.mean(ablation[0].own.values()), sorted(ablation[0].own)
    step9_seeds = seed_summary([full_records()[9][s] for s in seeds_run])   # step 9, the same seeds
    max_cost = max(-r.delta for r in ablation)   # the most that undoing one change costs
    backing = (f"what backs the averaging is the bullet above: the averaged weights beat the trained ones on {better} of "
               f"{len(records)} seeds" if any(r.change.name == 'averaged' for r in carried) else 'nothing else here backs it')
    lead = (f" (with {len(ablation)} rows judged at once, one may pass its margin by chance, as the table's last line "
            f"says; {backing})")
    overlap = ("- **Why no single change does:** a likely reason, untested here: OneCycle's long anneal "
               "and the averaged weights do much of the same job at the end of training, damping SGD's "
               "step-to-step noise, one by shrinking the steps, the other by averaging over them. While one "
               "stays, undoing the other costs little. One thing to try: train with both removed, "
               "`step_config(10, scheduler=None, max_lr=0.0, ema_decay=None)`, and compare with step 9.\n"
               if max_cost < (own_mean - step9_seeds.mean) / 2 and mean_of['onecycle'] >= mean_of['averaged']
               else "")
    return provenance(STEP, records) + "\n" + f"""
- **The range test:** the smoothed training loss falls from {losses[0]:.2f} to {losses[low]:.2f} at a rate of {lrs[low]:.3f}, turns up at {lrs[turn]:.3f} (the first rate where the loss stands a tenth above its lowest so far) and peaks at {losses[top]:.2f} near {lrs[top]:.2f}; then it falls again, to its lowest of the whole test, {losses[end]:.2f} at {lrs[end]:.2f}. That minimum is no rate to train at: the loss at each rate is what all the batches before it achieved, and by then the network has trained for {end + 1} batches; likely it recovered from the jump, which this test does not check. Before the turn the loss falls fastest in proportion to its value between {lrs[fast]:.3f} and {lrs[fast + 10]:.3f} (in absolute terms near {lrs[drop]:.4f}, in the first batches, where any rate moves a random network off chance). The chosen peak, {config.max_lr:g}, lies {'inside' if lrs[fast] <= config.max_lr <= lrs[fast + 10] else 'outside'} that stretch and {lrs[turn] / config.max_lr:.1f} times below the turn. Keeping a peak that is held for several epochs clear of the jump is a rule of thumb (Smith's), not something a {len(lrs)}-batch test measures.
- **Seed 1:** the trained weights reach {run_summary(record).best_test:.2f} % at best (epoch {run_summary(record).best_epoch}) and are at or above {TARGET} % {'in epochs ' + ', '.join(map(str, run_summary(record).at_target)) if run_summary(record).at_target else 'in no epoch'}, but their lowest of the last {LAST} epochs is {raw.rows[0][1]:.2f} %{f', short of the line by {(TARGET - raw.rows[0][1]) * images:.0f} of the {len(data.test_y):,} test images' if raw.rows[0][1] < TARGET else ''}. {f'The averaged weights test near chance (one digit in ten) up to epoch {chance} ({h[chance - 1][AVERAGED]:.2f} % then), while the random start still counts {d ** (chance * per_epoch):.0%} of them' if chance else f'The averaged weights are above chance from the first epoch on ({h[0][AVERAGED]:.2f} % then), though the random start still counts {d ** per_epoch:.0%} of them'} (cell *The averaged weights*); they {f"come within a point of the trained weights at epoch {near}, the start's share down to {d ** (near * per_epoch):.0%}" if near else 'never come within a point of the trained weights'}, and are at or above {TARGET} % {'in epochs ' + ', '.join(map(str, run_summary(record, AVERAGED).at_target)) if run_summary(record, AVERAGED).at_target else 'in no epoch'}.
- **The trained weights alone hold the rule for {raw.held} of {len(records)} seeds:** last-{LAST} minima from {raw.worst:.2f} to {max(r[1] for r in raw.rows):.2f} %, mean {raw.mean:.2f} %, every one within {max(abs(r[1] - TARGET) for r in raw.rows):.2f} points of the line. The reference's {ref['best_test']:.2f} % is one run's best epoch, {'above' if ref['best_test'] > max(r[2] for r in raw.rows) else 'within'} the best epochs of our seeds ({min(r[2] for r in raw.rows):.2f} to {max(r[2] for r in raw.rows):.2f} %): a best epoch says little about the rule, which asks every one of the last {LAST} to hold.
- **With the averaged weights it holds for {avg.held} of {len(records)} seeds:** last-{LAST} minima from {avg.worst:.2f} to {max(r[1] for r in avg.rows):.2f} %, mean {avg.mean:.2f} %, {avg.mean - raw.mean:+.2f} points on the trained weights' mean and higher on {better} of {len(records)} seeds. Over the last {LAST} epochs the rate still falls, from {h[-LAST]['lr']:.3f} at the start of epoch {h[-LAST]['epoch']} to {h[-1]['lr']:.4f} at the start of epoch {h[-1]['epoch']} and nearly zero at the end; an average of roughly the last {1 / (1 - d):.0f} batches likely cancels much of SGD's step-to-step noise. The margin is thin: the worst seed {'sits exactly on the line' if round(avg.worst, 2) == TARGET else ('clears' if avg.worst >= TARGET else 'misses') + f' the line by {abs(avg.worst - TARGET):.2f} points, {abs(avg.worst - TARGET) * images:.0f} test images of {len(data.test_y):,}'}.
- **What one seed can show:** the five seeds' final test accuracy (trained weights) has a standard deviation of {sd:.2f} points, the averaged weights' last-{LAST} minima {sd_avg:.2f}. That is the yardstick of the earlier steps' seed-1 comparisons: a difference of a few hundredths between single runs is within it and is no effect. Seed 1 here ends {abs(h[-1]['test_acc'] - step9):.2f} points {'above' if h[-1]['test_acc'] > step9 else 'below'} step 9's seed 1 ({step9:.2f} %), {abs(h[-1]['test_acc'] - step9) / (sd * 2 ** 0.5):.1f} times the spread of a difference of two single runs ({sd * 2 ** 0.5:.2f}): {'likely more than seed noise' if abs(h[-1]['test_acc'] - step9) > 2 * sd * 2 ** 0.5 else 'within seed noise'}; one seed of each cannot say which of this step's changes did it; the ablation tries (next bullet).
- **Which change carried it** (each undone alone on seeds {', '.join(map(str, seeds_run))}, the table and chart above): {f"undoing {' and '.join(r.text for r in carried)} costs more than its margin{lead}" if carried else 'no change undone alone costs more than its margin'}; {f"undoing {' and '.join(r.text for r in hurt)} gains as much: on these seeds step 10 does better without it; " if hurt else ''}undoing {', '.join(r.text for r in unseen) or 'nothing else'} moves the measure less: no effect these seeds can show. On seeds {', '.join(map(str, seeds_run))}, step 10's averaged weights average {own_mean:.2f} % (the table's first row); judged on the trained weights, the same runs average {mean_of['averaged']:.2f} %, and without OneCycle (a constant rate of {config.lr:g}, still averaged) {mean_of['onecycle']:.2f} %. Yet on these seeds step 10 stands {own_mean - step9_seeds.mean:+.2f} points above step 9 ({step9_seeds.mean:.2f} %): {f'no single change undone accounts for that: the largest cost is {max_cost:.2f} points' if max_cost < (own_mean - step9_seeds.mean) / 2 else f'the largest single cost is {max_cost:.2f} points'}.
{overlap}- **The assignment's final model** (the series' is step 12): {record.params:,} parameters, {config.epochs} epochs, OneCycleLR with Nesterov SGD and random rotation of up to {config.rotation:g} degrees either way, judged on the averaged weights: for seed 1, {(100 - h[-1][AVERAGED]) * images:.0f} of the {len(data.test_y):,} test images are wrong at the last epoch. Next: the same rule with fewer parameters (step 11), then a wider margin (step 12)."""
