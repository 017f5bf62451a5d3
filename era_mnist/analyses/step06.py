"""Step 6's Analysis: global average pooling in place of the 7x7 head, judged over seeds."""
import statistics

from ..steps import STEPS, build, step_config
from ..steps.demos import eval_mode_fit
from ..steps.records import full_records
from ..utils.data import load_mnist
from ..utils.layers import receptive_field_table
from ..utils.results import LAST, PARAM_LIMIT, run_summary
from .shared import one_thread, provenance, seeds_against, seeds_bullet


STEP = 6


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    compared = seeds_against(records, full_records()[5].values())   # this step's seeds, step 5's
    these, those = compared.these, compared.those
    prev = full_records()[5][1]   # step 5, seed 1: the same network with the 7x7 head
    ours, theirs, ref = run_summary(record), run_summary(prev), STEPS[STEP].reference
    off = max(abs(ours.best_train - ref['best_train']), abs(ours.best_test - ref['best_test']))   # from the reference
    end, end5, half = record.history[-1], prev.history[-1], len(record.history) // 2
    accs = [[h['test_acc'] for h in r.history[half:]] for r in (record, prev)]   # the second half
    move, move5 = [max(abs(b - a) for a, b in zip(a_s, a_s[1:])) for a_s in accs]   # largest epoch-to-epoch move
    tail, drop = statistics.mean(h['test_acc'] for h in record.history[-LAST:]), theirs.best_test - ours.best_test
    tables = {n: receptive_field_table(build(n)) for n in (6, 7)}
    rf6, rf7 = [max(row.rf for row in tables[n] if row.layer.startswith('conv')) for n in (6, 7)]
    def widening(rows):   # the 3x3 (not 1x1) convolutions before and after the pool
        cut = [row.layer for row in rows].index('pool')
        return [sum(row.layer.startswith('conv') and row.kernel > 1 for row in part)
                for part in (rows[:cut], rows[cut:])]
    (b6, a6), (b7, a7) = widening(tables[6]), widening(tables[7])
    head = build(5).head.weight.numel()   # step 5's 7x7 head
    with one_thread():   # as the notebook's table computed it
        fit = eval_mode_fit((5, 6), [r.seed for r in records], load_mnist("cpu", smoke=False))
    train, gap = ({n: statistics.mean(f(row) for row in rows) for n, rows in fit.items()}   # over the seeds
                  for f in (lambda row: row[1], lambda row: row[1] - row[2]))
    return provenance(STEP, records) + "\n" + f"""
- **Result:** {record.params:,} parameters, best train accuracy {ours.best_train:.2f} %, best test accuracy {ours.best_test:.2f} % (epoch {ours.best_epoch}); the reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %, within {off:.2f} points of ours.
{seeds_bullet(5, compared)}
- **{'Under-fitting' if train[6] < train[5] and gap[6] < gap[5] else 'A looser fit'}:** train and test accuracy run side by side ({end['train_acc']:.2f} % and {end['test_acc']:.2f} % at the last epoch; the training figure is counted with dropout on, which step 5 showed lowers it). Counted fairly, with dropout off on every training image (the table above), the final weights fit {train[6]:.2f} % of them against step 5's {train[5]:.2f} % (means over seeds {these.seeds}), {gap[6]:.2f} points above their test accuracy against {gap[5]:.2f}: {'it fits its training digits less closely, and its test accuracy fell with it' if train[6] < train[5] and gap[6] < gap[5] else 'not the pattern of under-fitting'}. The training loss, counted the same way as step 5's, ends at {end['train_loss']:.4f}, {round(end['train_loss'], 4) / round(end5['train_loss'], 4):.1f} times step 5's {end5['train_loss']:.4f}. The best test accuracy {'fell' if drop > 0 else 'rose'} by {abs(drop):.2f} points, on seed 1; over seeds {these.seeds} the best test accuracy averages {statistics.mean(r[2] for r in these.rows):.2f} % against step 5's {statistics.mean(r[2] for r in those.rows):.2f} %. The head took with it {head:,} parameters and the only layer that combines channels and positions after the last ReLU, while dropout, which step 5 showed makes a network fit its training images less closely, stays; which of these costs most, this run cannot say.
- **A weak head:** each class score is now the plain average of one channel, with no layer combining the channels after pooling (the demonstration above). On seed 1 the first epoch averages {record.history[0]['train_acc']:.2f} % training accuracy, against {prev.history[0]['train_acc']:.2f} % in step 5: a slower start, which the lost parameters could explain as well.
- **A restless test curve:** over epochs {half + 1}-{config.epochs} the test accuracy ranges from {min(accs[0]):.2f} to {max(accs[0]):.2f} % and moves by up to {move:.2f} points from one epoch to the next (step 5: {move5:.2f}, at the same learning rate of {config.lr}); the best epoch sits {ours.best_test - tail:.2f} points above the mean of the last {LAST}, so alone it says little.
- **What the next step should try:** spend the up to {PARAM_LIMIT - 1 - record.params:,} more parameters the budget allows (fewer than {PARAM_LIMIT:,} in all) on depth and a learned head: more 3x3 convolutions (step 7 adds {b7 - b6} before the pool and {a7 - a6} after it), so that the last one before the GAP sees {rf7} pixels across instead of {rf6} (MNIST's digits were scaled to fit a 20x20-pixel box), and a 1x1 convolution after the GAP that learns how to combine the pooled channels into class scores."""
