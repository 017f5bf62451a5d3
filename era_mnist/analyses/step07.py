"""Step 7's Analysis: more depth and batch 64, and which of its changes carried it."""
import statistics

from ..ablation import effects
from ..model import CapacityAblation
from ..steps import STEPS, build, step_config
from ..steps.records import full_records
from ..utils.layers import receptive_field_table
from ..utils.results import TARGET, lowest_test_loss, run_summary
from .shared import provenance, seeds_against, seeds_bullet


STEP = 7


def layout(step):
    """Step ``step``'s network around its max-pool: the widths of its 3x3 convolutions before the
    pool and after it, and the layer the pool takes its map from (its size and receptive field)."""
    net, rows = build(step), receptive_field_table(build(step))
    at = next(i for i, row in enumerate(rows) if row.kind == 'MaxPool2d')
    modules = dict(net.named_modules())
    def widths(part): return [modules[r.layer].out_channels for r in part if r.kind == 'Conv2d' and r.kernel == 3]
    return widths(rows[:at]), widths(rows[at:]), rows[at - 1]


def analysis():
    config = step_config(STEP)
    records = sorted(full_records()[STEP].values(), key=lambda r: r.seed)
    record = records[0]
    ablation = effects(STEP)   # read from Data/ablations/
    compared = seeds_against(records, full_records()[6].values())   # this step's seeds, step 6's
    these, those, moved = compared.these, compared.those, compared.moved
    prev, s4, hist = full_records()[6][1], full_records()[4][1], record.history   # step 6 and step 4, seed 1
    run, before, ref = run_summary(record), run_summary(prev), STEPS[STEP].reference
    gain, above = run.best_test - before.best_test, sum(h['test_acc'] > h['train_acc'] for h in hist)
    low = lowest_test_loss(hist)
    net = build(STEP)
    def size(*parts): return sum(p.numel() for m in parts for p in m.parameters())
    ones, c7, classes = size(net.trans, net.head), net.conv7[0], net.head[0].out_channels   # 1x1s with their BN
    folded = record.params - ones - (c7.out_channels - classes) * (c7.weight[0].numel() + 2)   # conv7 straight to 10
    carried, hurt = ([r for r in ablation if r.verdict == v] for v in ('carried', 'hurt'))   # the ablation's rows
    unseen, verdict_of = [r for r in ablation if r.verdict == 'not shown'], {r.change.name: r.verdict for r in ablation}
    close = [r for r in carried if -r.delta - r.margin < 0.1 * r.margin]   # past its margin by a hair
    shallow = sum(p.numel() for p in CapacityAblation(dropout=0.1, deep=False).parameters())   # depth undone
    pending = ', '.join(r.change.name for r in ablation if r.verdict == 'too few seeds' or not r.lows)
    seeds_run = sorted(ablation[0].own)
    (before6, after6, pooled6), (before7, after7, pooled7) = layout(6), layout(STEP)
    def dashed(widths): return '-'.join(map(str, widths))
    return provenance(STEP, records) + "\n" + f"""
- **Result:** {record.params:,} parameters, {record.params - prev.params:,} more than step 6; best train accuracy {run.best_train:.2f} %, best test accuracy {run.best_test:.2f} % (epoch {run.best_epoch}{', the last' if run.best_epoch == len(hist) else ''}), {TARGET} % reached {'in no epoch' if not run.at_target else 'in epochs ' + ', '.join(map(str, run.at_target))}. The reference reports {ref['best_train']:.2f} % and {ref['best_test']:.2f} %.
{seeds_bullet(6, compared)}
- **Eight changes at once** (listed by `show_changes(7)` above): {len(before7) + len(after7)} 3x3 convolutions instead of {len(before6) + len(after6)}; widths {dashed(before7)} before the pool and {dashed(after7)} after it, instead of {dashed(before6)} and {dashed(after6)}; the max-pool after 3x3 convolution {len(before7)}, on a {pooled7.size}x{pooled7.size} map of receptive field {pooled7.rf}, instead of after convolution {len(before6)} ({pooled6.size}x{pooled6.size}, receptive field {pooled6.rf}); the 1x1 transition before the pool instead of after it; ReLU before BatchNorm instead of after; no ReLU after conv4, the transition, conv7 and the head, where step 6 had one after every convolution; a 1x1 head with BatchNorm after the GAP in place of step 6's 1x1 before it; and batch {config.batch_size} instead of {prev.config['batch_size']}, {'twice' if prev.config['batch_size'] == 2 * config.batch_size else format(prev.config['batch_size'] / config.batch_size, 'g') + ' times'} the updates per epoch. Dropout stays, after conv3 and now conv6 (step 6: conv5).
- **What they did together:** the best test accuracy rose from {before.best_test:.2f} to {run.best_test:.2f} % ({gain:+.2f} points), and the first epoch ends at {hist[0]['test_acc']:.2f} % against {prev.history[0]['test_acc']:.2f} %. Over seeds {these.seeds} the best test accuracy averages {statistics.mean(r[2] for r in these.rows):.2f} % against step 6's {statistics.mean(r[2] for r in those.rows):.2f} %, and the seeds bullet above judges the step against their spread. No number of seeds of the whole step can say which of the bundled changes mattered: that takes one change at a time (next bullet).
- **Which change carried it** (each undone alone on seeds {', '.join(map(str, seeds_run))}, the table and chart above): undoing {' and '.join(r.text for r in carried) or 'no change'} lowers the rule's measure by more than its margin{f": on these {len(seeds_run)} seeds {'it' if len(carried) == 1 else 'they'} carried the step, though with {len(ablation)} rows judged one may pass by chance (the table's last line), so each is a lead until more seeds back it" if carried else ''}. {f"Undoing {' and '.join(r.text for r in hurt)} raises it by as much: on these seeds step 7 does better without {'that change' if len(hurt) == 1 else 'them'}. " if hurt else ''}{'Undoing ' + ', '.join(r.text for r in unseen) if unseen else 'No other change'}: within it, no effect these seeds can show.{f" Undoing {' and '.join(r.change.name for r in close)} clears its margin by less than a tenth of it: at the line." if close else ''} Each row says what the step cannot do without that one change; the rows do not add up to the step's {moved:+.2f} points, and a change that matters only together with another shows in no row.{f' Too few seeds yet to judge {pending} (one command adds them: `python -m era_mnist ablate --step 7`).' if pending else ''} Three of the changes are the likeliest suspects: the head after the GAP (step 6 had no layer that combines the pooled channels), the depth, and batch {config.batch_size} (twice the updates, each on half the images: the ablation undoes both as one change). Of those: {'; '.join(f"the {what} {('holds up, only at the line' if name in {r.change.name for r in close} else 'holds up') if verdict_of[name] == 'carried' else 'is contradicted' if verdict_of[name] == 'hurt' else 'is neither borne out nor ruled out (not shown, either way)'}" for name, what in (('head', 'head'), ('depth', f'depth (the shallower network has {shallow:,} parameters against {record.params:,}, so that row undoes capacity too)'), ('batch', 'batch')))}.
- **Is there over-fitting, with dropout still on?** the test accuracy is above the training accuracy in {above} of {len(hist)} epochs and the test loss is lowest at epoch {low['epoch']} ({low['test_loss']:.4f}){', the last: no sign of over-fitting in these curves' if low is hist[-1] else f", and the later epochs lie at most {max(h['test_loss'] for h in hist[low['epoch']:]) - low['test_loss']:.4f} above it without rising to the end ({hist[-1]['test_loss']:.4f} at the last): no sign of over-fitting" if hist[-1]['test_loss'] <= max(h['test_loss'] for h in hist[low['epoch']:]) else ''}. The size of the network does not settle this: step 4's network of {s4.params:,} parameters, without dropout, ended with its training accuracy above its test accuracy ({s4.history[-1]['train_acc']:.2f} % against {s4.history[-1]['test_acc']:.2f} %), though its test loss was still falling over its last epochs (a least-squares line, step 4's Analysis). And the training figure here is taken with dropout active, averaged over each epoch while the weights improve, so test above train says little by itself; the test loss says more. Step 8 tests whether this network over-fits without it.
- **Two 1x1 layers that fold away:** the transition and the head have no ReLU after their convolution and BatchNorm, and neither has the layer before each (conv4; conv7, with only the GAP, an average, between). A linear map after a linear map is one linear map: once trained (BatchNorm on its stored statistics), conv4 and the transition are one 3x3 convolution with a bias, and conv7, the GAP and the head are one 3x3 convolution from {c7.in_channels} channels straight to the {classes} classes, then the GAP. The two 1x1 layers hold {ones} parameters; without them, and with conv7 making the {classes} class channels itself, {folded:,} parameters compute every function this network can. They add parameters, not expressive power{', yet undoing the head costs accuracy (the ablation above): they change how training goes' if verdict_of['head'] == 'carried' else ', and undoing the head (the ablation above) shows no cost these seeds can see'}. A ReLU between would make them count; step 12 puts one before the head.
- **What the next step tries:** removing the dropout, step 8's only change: this run cannot say whether dropout helps a network that shows no over-fitting with it on."""
