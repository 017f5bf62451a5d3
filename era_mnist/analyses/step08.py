"""Step 8's Analysis: dropout removed, judged over seeds and with the network in each mode."""
import statistics

from ..steps import STEPS, build, step_config
from ..steps.demos import trained_network
from ..steps.records import full_records
from ..utils.data import load_mnist
from ..utils.mechanisms import mode_accuracies
from ..utils.results import TARGET, lowest_test_loss, run_summary
from .shared import one_thread, provenance, seeds_against, seeds_bullet


STEP = 8


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    with one_thread():   # as the notebook's demonstration computed it
        data = load_mnist("cpu", smoke=False)
        xs, ys = data.train_x[:10_000], data.train_y[:10_000]   # the notebook's slice of the training set
        nets = {"step 7, its own network": trained_network(7),
                "step 7's weights, step 8's network": trained_network(7, network=build(STEP))}
        accs = {label: mode_accuracies(net, xs, ys, config.batch_size) for label, net in nets.items()}
    compared = seeds_against(records, full_records()[7].values())   # this step's seeds, step 7's
    these, those, seed_sd, moved = compared
    prev, s4, hist = full_records()[7][1], full_records()[4][1], record.history   # step 7 and step 4, seed 1
    run, before, ref = run_summary(record), run_summary(prev), STEPS[STEP].reference
    d_best, d_final = run.best_test - before.best_test, hist[-1]['test_acc'] - prev.history[-1]['test_acc']
    higher = sum(a['train_acc'] > b['train_acc'] for a, b in zip(hist, prev.history))   # epochs above step 7's
    above = sum(h['test_acc'] > h['train_acc'] for h in hist)   # epochs with test above train
    low, low7 = (lowest_test_loss(h) for h in (hist, prev.history))
    half = hist[(len(hist) - 1) // 2:]   # the second half of the run
    jitter = statistics.mean(abs(a['test_loss'] - b['test_loss']) for a, b in zip(half, half[1:]))
    top = max(hist, key=lambda h: h['train_acc'])['epoch']   # the epoch of the best training accuracy
    early, late = half[:len(half) // 2], half[len(half) // 2:]   # the second half, split in two
    rise = statistics.mean(h['test_acc'] for h in late) - statistics.mean(h['test_acc'] for h in early)
    step_move = statistics.mean(abs(a['test_acc'] - b['test_acc']) for a, b in zip(half, half[1:]))
    no_drop, with_drop = (accs[label]['train'] for label in ("step 7's weights, step 8's network",
                                                              "step 7, its own network"))
    cost = no_drop - with_drop   # what dropout takes off the training accuracy as training counts it
    return provenance(STEP, records) + "\n" + f"""
- **Result:** best train accuracy {run.best_train:.2f} % (epoch {top}), best test accuracy {run.best_test:.2f} % (epoch {run.best_epoch}), {TARGET} % reached {'in no epoch' if not run.at_target else 'in epochs ' + ', '.join(map(str, run.at_target))}; the reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %.
{seeds_bullet(7, compared)}
- **One change, dropout removed:** the name MaxPool is the reference series' name for this step, but the max-pool is where step 7 put it; the two dropout layers are the only difference (`show_changes(8)` above), and as they have no parameters the count stays {record.params:,}.
- **Training accuracy up, test accuracy {'the same' if abs(moved) <= 2 * seed_sd else 'changed'}:** the training accuracy is above step 7's in {higher} of {len(hist)} epochs ({hist[-1]['train_acc']:.2f} % against {prev.history[-1]['train_acc']:.2f} % at the end, {hist[-1]['train_acc'] - prev.history[-1]['train_acc']:+.2f} points). On the same weights, step 7's, counting in train mode with dropout on instead of without takes {cost:.2f} points off (the demonstration above): {'most' if 2 * cost > hist[-1]['train_acc'] - prev.history[-1]['train_acc'] else 'part'} of that difference is how step 7's training accuracy was counted, not a network that fits better. The best test accuracy is {run.best_test:.2f} % against {before.best_test:.2f} % ({d_best:+.2f} points), the last epoch's {hist[-1]['test_acc']:.2f} % against {prev.history[-1]['test_acc']:.2f} % ({d_final:+.2f}) on seed 1; over seeds {these.seeds} the best test accuracy averages {statistics.mean(r[2] for r in these.rows):.2f} % against step 7's {statistics.mean(r[2] for r in those.rows):.2f} %, and the last epoch {statistics.mean(r[3] for r in these.rows):.2f} % against {statistics.mean(r[3] for r in those.rows):.2f} %. The lowest test loss is {low['test_loss']:.4f} (epoch {low['epoch']}), step 7's {low7['test_loss']:.4f}.
- **Is there over-fitting?** the test accuracy is above the training accuracy in {above} of {len(hist)} epochs (the training figure is an average over the epoch, with BatchNorm on each batch's statistics, while the weights still improve: it is counted low, so test above train is weak evidence against over-fitting, not proof). The test loss is lowest at epoch {low['epoch']} and ends {hist[-1]['test_loss'] - low['test_loss']:.4f} above that, {'less' if hist[-1]['test_loss'] - low['test_loss'] < jitter else 'more'} than its mean move between neighbouring epochs of the second half ({jitter:.4f}). {'So without dropout too, this network shows no over-fitting in ' + str(config.epochs) + ' epochs, nor the gap of step 4' if above == len(hist) and hist[-1]['test_loss'] - low['test_loss'] < jitter else 'Compare step 4'}, whose training accuracy ended {s4.history[-1]['train_acc'] - s4.history[-1]['test_acc']:.2f} points above its test accuracy.
- **{'Nearly a plateau' if rise < step_move else 'Still rising'} at a constant learning rate:** from epoch {half[0]['epoch']} on, the test accuracy moves between {min(h['test_acc'] for h in half):.2f} and {max(h['test_acc'] for h in half):.2f} %, best at epoch {run.best_epoch}{'' if run.best_epoch == len(hist) else ', not the last'}. It averages {statistics.mean(h['test_acc'] for h in early):.2f} % over epochs {early[0]['epoch']}-{early[-1]['epoch']} and {statistics.mean(h['test_acc'] for h in late):.2f} % over epochs {late[0]['epoch']}-{late[-1]['epoch']}, {rise:+.2f} points, {'less than' if rise < step_move else 'more than'} it moves between neighbouring epochs ({step_move:.2f} on average), while the training loss {'still falls' if hist[-1]['train_loss'] < half[0]['train_loss'] else 'no longer falls'} ({half[0]['train_loss']:.4f} to {hist[-1]['train_loss']:.4f}). Likely the weights keep moving at lr {config.lr} instead of settling; step 10's schedule tests that.
- **What the next step tries:** rotating every training image by its own random angle, up to {step_config(9).rotation:g} degrees, so that each epoch shows new variants of every digit. That slanted digits are what this network misses is a guess (the misclassified digits above are where to look), not a measurement; and with no over-fitting here, the aim is not to close a gap."""
