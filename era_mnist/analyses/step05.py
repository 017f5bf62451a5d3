"""Step 5's Analysis: dropout, judged over seeds and with the network in each mode."""
import statistics

from ..steps import STEPS, build, step_config
from ..steps.demos import eval_mode_fit, trained_network
from ..steps.records import full_records
from ..utils.data import load_mnist
from ..utils.mechanisms import mode_accuracies
from ..utils.results import LAST, PARAM_LIMIT, run_summary
from .shared import one_thread, provenance, seeds_against, seeds_bullet


STEP = 5


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    seeds = [r.seed for r in records]
    with one_thread():   # as the notebook's demonstration computed it
        data = load_mnist("cpu", smoke=False)
        xs, ys = data.train_x[:10_000], data.train_y[:10_000]   # the notebook's slice of the training set
        demo = mode_accuracies(trained_network(4, network=build(STEP)), xs, ys, config.batch_size)
        fit = eval_mode_fit((4, 5), seeds, data)   # final weights, dropout off: {step: [(seed, train, test)]}
    clean = {s: [train for _, train, _ in rows] for s, rows in fit.items()}   # every training image
    fair = {s: [train - test for _, train, test in rows] for s, rows in fit.items()}   # both in eval mode
    compared = seeds_against(records, full_records()[4].values())   # this step's seeds, step 4's
    these, those, seed_sd, moved = compared
    prev = full_records()[4][1]   # step 4, seed 1: the same network without dropout
    ours, theirs, ref = run_summary(record), run_summary(prev), STEPS[STEP].reference
    gap, gap4 = [r.history[-1]['train_acc'] - r.history[-1]['test_acc'] for r in (record, prev)]   # last epoch
    d_train, d_test = [record.history[-1][k] - prev.history[-1][k] for k in ('train_acc', 'test_acc')]
    tail = [statistics.mean(h['test_acc'] for h in r.history[-LAST:]) for r in (record, prev)]   # last-LAST mean
    d_best, d_tail, half = ours.best_test - theirs.best_test, tail[0] - tail[1], len(record.history) // 2
    def slope(r):   # the test loss's trend over the second half, per epoch (a least-squares line)
        return statistics.linear_regression(*zip(*[(h['epoch'], h['test_loss']) for h in r.history[half:]])).slope
    s5, s4, accs = slope(record), slope(prev), [[h['test_acc'] for h in r.history[half:]] for r in (record, prev)]
    move = max(abs(b - a) for a_s in accs for a, b in zip(a_s, a_s[1:]))   # largest epoch-to-epoch move, 2nd half
    head = build(5).head.weight.numel()   # the 7x7 head's weights
    shrink = (gap4 - gap, fair[4][0] - fair[5][0])   # the gap's narrowing on seed 1: printed, fair
    return provenance(STEP, records) + "\n" + f"""
- **Result:** best train accuracy {ours.best_train:.2f} %, best test accuracy {ours.best_test:.2f} % at epoch {ours.best_epoch}{' (the last)' if ours.best_epoch == config.epochs else ''}; the reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %.
{seeds_bullet(4, compared)}
- **Dropout {'lowered' if ours.best_train < theirs.best_train else 'did not lower'} the training accuracy as printed:** best {ours.best_train:.2f} % against step 4's {theirs.best_train:.2f} %. As printed, it is counted with dropout on: on step 4's weights, unchanged and never trained with dropout, dropout alone took {demo['eval'] - demo['dropout']:.2f} points off (the demonstration above). With dropout off, on all {len(data.train_y):,} training images, the final weights of seed 1 score {clean[5][0]:.2f} % against step 4's {clean[4][0]:.2f} % ({clean[5][0] - clean[4][0]:+.2f} points; over seeds {these.seeds}, {statistics.mean(clean[5]) - statistics.mean(clean[4]):+.2f}): {'lower there too, so dropout did make the network fit its training images less closely' if statistics.mean(clean[5]) < statistics.mean(clean[4]) else 'no lower: the printed fall is the measurement'}.
- **The gap {'narrowed' if statistics.mean(fair[5]) < statistics.mean(fair[4]) else 'did not narrow'} when measured fairly{', from the training side' if statistics.mean(fair[5]) < statistics.mean(fair[4]) and abs(clean[5][0] - clean[4][0]) > abs(d_test) else ''}:** as printed, at the last epoch, train minus test is {gap:.2f} points against {gap4:.2f} in step 4 (train {d_train:+.2f}, test {d_test:+.2f}), but that training accuracy is counted with dropout on and averaged over an epoch of changing weights. With the final weights in eval mode on both sets it is {fair[5][0]:.2f} against {fair[4][0]:.2f} points on seed 1, {statistics.mean(fair[5]):.2f} against {statistics.mean(fair[4]):.2f} averaged over seeds {these.seeds}: of the {shrink[0]:.2f} points the gap narrowed as printed on seed 1, {f'{shrink[1]:.2f} remain when it is measured fairly' if shrink[1] > 0 else 'none remains when it is measured fairly'}. In the second half of these runs the test accuracy moves by up to {move:.2f} points from one epoch to the next; its best and its last-{LAST} mean are {d_best:+.2f} and {d_tail:+.2f} points from step 4's, on seed 1; over seeds {these.seeds} the best test accuracy averages {statistics.mean(r[2] for r in these.rows):.2f} % against step 4's {statistics.mean(r[2] for r in those.rows):.2f} %.{' The gap closed from the training side only: the test accuracy did not rise with it.' if statistics.mean(fair[5]) < statistics.mean(fair[4]) and moved <= 2 * seed_sd else ''}
- **{'Test loss not rising in either step' if max(s4, s5) <= 0 else 'Drift stopped' if s4 > 0 >= s5 else 'Still drifting'}:** over epochs {half + 1}-{config.epochs} the test loss trends {s5:+.4f} per epoch here and {s4:+.4f} in step 4.
- **Still learning** at a constant learning rate of {config.lr}: the training loss {'still falls' if record.history[-1]['train_loss'] < record.history[-LAST - 1]['train_loss'] else 'has stopped falling'} over the last {LAST} epochs and the test accuracy wanders; lowering the rate towards the end (a learning-rate schedule, tried in step 10) would likely settle it.
- **But the budget is missed:** {record.params:,} parameters, {'over' if record.params >= PARAM_LIMIT else 'under'} the {PARAM_LIMIT:,} limit; {head:,} of them ({100 * head / record.params:.0f} %) sit in the 7x7 head convolution, which only maps a 7x7x10 map to 10 outputs.
- **What the next step should try:** global average pooling in place of that head, with no parameters: {record.params - head:,} in all; see what the network loses without a learned head."""
