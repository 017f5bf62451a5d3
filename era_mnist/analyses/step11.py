"""Step 11's Analysis, how small a network can be and still hold, from the search's and the studies'
records: the lesson (``analysis``) and the search's and the study's details (``appendix``)."""
import statistics
from types import SimpleNamespace

from ..search import HAND_LISTED, STUDIES, recipe, seed_front, step_runs, study_records, widths
from ..steps import STEPS, StepConfig, build, changed_fields, network, network_name, step_config
from ..steps.records import full_records
from ..utils.results import AVERAGED, LAST, RULE, TARGET, seed_summary
from .shared import provenance


STEP = 11
OURS = str(STEPS[STEP].trial)   # this step's trial of the hand-listed search


def facts():
    """What both texts quote, computed once from the records."""
    f = SimpleNamespace()
    f.found = study_records(HAND_LISTED, smoke=False)   # the hand-listed search's full runs, by trial
    f.records = step_runs(STEP)   # this step's seeds, as the search trained them
    f.name = {t: label(rs[0]) for t, rs in f.found.items()}
    f.record = full_records()[STEP][1]   # seed 1 as this step's notebook trained it
    f.budget = STUDIES['under-5000'][0]   # the study's parameter budget
    f.study = {f'trial {t}': runs for t, runs in study_records('under-5000', smoke=False).items()}
    f.far = max(f.study, key=lambda n: len(f.study[n]))   # the configuration taken furthest: the most seeds
    f.far_config = StepConfig(**f.study[f.far][0].config)
    f.far_runs = seed_summary(f.study[f.far], AVERAGED)
    f.far_two = seed_summary(f.study[f.far][:2], AVERAGED)   # its seeds 1 and 2: what the study scored
    f.both = [seed_summary(runs, AVERAGED) for runs in f.study.values() if len(runs) >= 2]   # seeds 1 and 2
    f.front = seed_front(range(1, 11), smoke=False)   # seeds 1-10, fewest parameters first
    f.ours, f.raw = seed_summary(f.records, AVERAGED), seed_summary(f.records, 'test_acc')
    f.runs = {n: seed_summary(rs, AVERAGED) for n, rs in f.found.items()}
    f.size = {n: rs[0].params for n, rs in f.found.items()}
    f.net = {n: StepConfig(**rs[0].config).net for n, rs in f.found.items()}
    f.one = {n: s.low_of(1) for n, s in f.runs.items()}   # seed 1's last-5 minimum: every candidate ran it
    f.ten = list(full_records()[10].values())   # step 10's seeds 1-5: the yardstick
    f.ten_avg, f.ten_raw = seed_summary(f.ten, AVERAGED), seed_summary(f.ten, 'test_acc')
    f.sd, f.sd11 = (statistics.stdev(row.low for row in s.rows) for s in (f.ten_avg, f.ours))   # one seed's spread
    f.spread = max(f.sd, f.sd11)   # the larger of the two: the yardstick for one seed
    f.smallest = next(row for row in f.front if row.summary.held == len(row.summary.rows))   # holds all ten
    f.below = [row for row in f.front if row.params < f.smallest.params]   # smaller, on the same ten seeds
    f.five = [row for row in f.below if all(RULE.clears(r.low) for r in row.summary.rows[:5])]   # seeds 1-5 hold
    f.means = [row.summary.mean for row in f.front]
    shapes = lambda net: [p.shape for p in net.parameters()]   # noqa: E731  the widths, ReLUs aside
    f.alike = next((row for row in f.front if not row.changes   # step 12's training at this step's widths
                    and shapes(network(StepConfig(**row.runs[0].config))) == shapes(build(STEP))), None)
    sd10 = statistics.mean(statistics.stdev(r.low for r in row.summary.rows) for row in f.front)
    f.se_diff = (2 / 10) ** 0.5 * sd10   # the standard error of a difference of two ten-seed means
    return f


def label(record):
    """A hand-listed trial as the prose names it: "hand-listed trial 7 (c1=8, c2=12, batch_size=64;
    4,940 parameters)"."""
    config = StepConfig(**record.config)
    changes = recipe(config)[1]
    return (f"hand-listed trial {record.origin['trial']} ({widths(config)}{', ' + changes if changes else ''}; "
            f"{record.params:,} parameters)")


def hand_listed(f, *changed, **net):
    """The hand-listed trial of the network widths ``net`` whose training differs from step 10's in
    the fields ``changed`` and no others: a trial found by what it tried, not by its number."""
    [trial] = [n for n, rs in f.found.items() if f.net[n] == net and set(changed) == set(
        changed_fields(StepConfig(**rs[0].config), step_config(10), skip=('step', 'arch', 'net')))]
    return trial


def judge(f, x):
    """A difference against twice one seed's spread."""
    return 'within twice the spread' if abs(x) < 2 * f.spread else 'more than twice the spread'


def texts():
    """(the lesson's Analysis, the appendix's), from one reading of the records."""
    f = facts()
    return analysis(f), appendix(f)


def analysis(f):
    small, five = f.smallest, f.five
    step12 = small.network == network_name(12) and not small.changes   # step 12's network and training
    under = [n for n, runs in f.study.items() if len(runs) >= 2 and seed_summary(runs[:2], AVERAGED).held == 2]
    base, sep = hand_listed(f, c1=8, c2=12), hand_listed(f, c1=12, c2=20, separable=True)
    wide = hand_listed(f, 'batch_size', c1=10, c2=14)
    studies = ', '.join(f'`Data/search/{name}/`' for name in sorted({row.study for row in f.front}))
    return provenance(STEP, f.records, f'Data/search/{HAND_LISTED}/') + f" *The ten-seed table's runs: {studies}.*\n" + f"""
- **The answer: {small.params:,} parameters, and the Target was not reached.** Of the configurations trained on all ten of seeds 1-10 (the table above), the smallest that holds on every one is {small.network} with {"step 12's recipe (it is step 12's network)" if step12 else 'its own training'}, trial {small.trials} of the study {small.study}: worst seed {small.summary.worst:.2f} %, mean {small.summary.mean:.2f} %. Every smaller configuration trained on the same ten seeds loses at least one, and of the study's configurations under {f.budget:,} parameters {'none holds even on seeds 1 and 2' if not under else str(len(under)) + ' hold on seeds 1 and 2'}.{f" That answer is larger than step 10's network ({f.ten[0].params:,} parameters), which holds on its five seeds but never ran seeds 6-10: what the records show is that nothing smaller than step 10's network held on ten seeds." if small.params > f.ten[0].params else ''}
- **Five seeds would have said more than is true.** {f"On seeds 1-5 alone, {', '.join(f'trial {row.trials} of {row.study} ({row.params:,})' for row in five)} would have held; seeds 6-10 rule {'them' if len(five) > 1 else 'it'} out. " if five else 'No smaller configuration holds even on seeds 1-5. '}And the answer was itself picked on these ten seeds, so its {small.summary.held} of {len(small.summary.rows)} says nothing yet about new ones: its worst seed {'sits exactly on the line' if round(small.summary.worst, 2) == TARGET else f'is {small.summary.worst - TARGET:.2f} points above the line'}. A claim needs seeds the choice did not see; step 12 measures one.
- **This step's network, {f.name[OURS]}**, the smallest the hand-listed search ran on five seeds, holds for {f.ours.held} of {len(f.records)} of them: its mean, {f.ours.mean:.2f} %, {'sits on the line' if round(f.ours.mean, 2) == TARGET else f'is {f.ours.mean - TARGET:+.2f} points from the line'}, and its seeds differ by {f.sd11:.2f} points (standard deviation), so the spread decides each seed.{f" Step 12's recipe (its training, and a ReLU before the head) at the same {f.alike.params:,} parameters ({f.alike.network}, trial {f.alike.trials} of {f.alike.study}, in the ten-seed table) holds for {f.alike.summary.held} of {len(f.alike.summary.rows)} seeds, mean {f.alike.summary.mean:.2f} %: that recipe {'does not rescue' if f.alike.summary.held < len(f.alike.summary.rows) else 'rescues'} this size." if f.alike else ''} More parameters lift the mean only slowly: across the ten-seed table it rises from {f.means[0]:.2f} % at {f.front[0].params:,} parameters to {f.means[-1]:.2f} % at {f.front[-1].params:,}.
- **What the search suggests** (the appendix has the numbers): whether channels after the max-pool pay more than channels before it, seed 1 alone cannot tell; depthwise-separable convolutions with wider layers (two changes at once) saved parameters but lost {f.runs[base].mean - f.runs[sep].mean:.2f} points against the plain ones on two seeds each ({judge(f, f.runs[sep].mean - f.runs[base].mean)}); widening before the pool moved the five-seed mean by {f.runs[wide].mean - f.ours.mean:+.2f} points ({judge(f, f.runs[wide].mean - f.ours.mean)}); none of the training changes tried one at a time showed a gain the seeds can see.
- **Carry forward:** step 12 takes the {small.params:,}-parameter recipe and asks which of its changes carry it. **Try:** `SlimNet`'s widths are arguments (`from era_mnist.model import SlimNet`): count `parameter_rows(SlimNet(c1=10, c2=14))` and `parameter_rows(SlimNet(c1=8, c2=16))` as above. Which added channel costs more, one before the pool or one after it, and why, from the formula above?"""


def appendix(f):
    small, below = f.smallest, f.below
    far_net = recipe(f.far_config)[0]
    same_recipe = recipe(f.far_config)[1] == recipe(step_config(12))[1]
    best_score = f.far == max(f.study, key=lambda n: seed_summary(f.study[n][:2], AVERAGED).worst)
    close = max((n for n in f.found if f.size[n] < 5000), key=lambda n: f.runs[n].worst)   # under the budget
    held = [n for n, s in f.runs.items() if s.held == len(s.rows) and f.size[n] < f.ten[0].params]
    base, narrow = hand_listed(f, c1=8, c2=12), hand_listed(f, c1=8, c2=10)   # step 10's training
    sep = hand_listed(f, c1=12, c2=20, separable=True)
    base64, narrow64 = (hand_listed(f, 'batch_size', **f.net[n]) for n in (base, narrow))   # at batch 64
    wide = hand_listed(f, 'batch_size', c1=10, c2=14)
    before = [hand_listed(f, 'batch_size', c1=c1, c2=12) for c1 in (10, 12)]   # against OURS and wide
    shift, peak, warm = (hand_listed(f, name, **f.net[base]) for name in ('max_shift', 'max_lr', 'pct_start'))
    runs, one, record = f.runs, f.one, f.record
    small_steps = sum(abs(b - a) < f.se_diff for a, b in zip(f.means, f.means[1:]))   # within the noise
    best_below = max(below, key=lambda row: row.summary.mean)
    gaps = [one[OURS] - one[before[0]], one[wide] - one[before[1]]]
    pair = f.spread * 2 ** 0.5   # the spread of a difference of two single runs
    moves = [one[n] - one[base] for n in (shift, peak, warm)]
    step_in_b64 = f.far_two.mean - runs[base64].mean
    return f"""- **The hand-listed search.** No candidate under the Target's budget holds for every seed it ran: the closest, {f.name[close]}, holds for {runs[close].held} of {len(runs[close].rows)} seeds (worst {runs[close].worst:.2f} %, mean {runs[close].mean:.2f} %). {"No candidate below step 10's size held for every seed either: among these candidates the smallest that holds is step 10's" if not held else "Below step 10's size, " + ', '.join(f.name[n] for n in held) + " held for every seed it ran, against step 10's"} {f.ten[0].params:,} parameters (five seeds: worst {f.ten_avg.worst:.2f} %, mean {f.ten_avg.mean:.2f} %).
- **The Optuna study under {f.budget:,}.** Of the {len(f.study)} configurations it trained to the end of a seed (the others were over the budget, or stopped or interrupted before a seed ended), {len(f.both)} trained both study seeds, and {'none holds on both' if not any(s.held == len(s.rows) for s in f.both) else str(sum(s.held == len(s.rows) for s in f.both)) + ' hold on both'}. The one taken furthest, {f.far} ({f.study[f.far][0].params:,} parameters, {far_net} {"with step 12's recipe" if same_recipe else 'with its own training'}), {"was the best on the study's score" if best_score else 'reached'}, {f.far_two.worst:.2f} % for the worse of seeds 1 and 2; on all {len(f.study[f.far])} seeds it holds for {f.far_runs.held}: worst {f.far_runs.worst:.2f} %, mean {f.far_runs.mean:.2f} %, {TARGET - f.far_runs.mean:.2f} points under the line on average. The same widths, without the ReLU before the head and with step 10's training at batch 64, {f.name[base64]} of the hand-listed search, had a mean of {runs[base64].mean:.3f} % on seeds 1 and 2, where {f.far}'s has {f.far_two.mean:.3f} %: {step_in_b64:+.3f} points, {judge(f, step_in_b64)}. {f'Under {f.budget:,} parameters, no configuration reaches the line even in the mean over all its seeds.' if max(s.mean for s in f.both) < TARGET else ''}
- **The ten seeds.** The mean of the ten {'never falls' if f.means == sorted(f.means) else 'does not always rise'} as the network grows, from {f.means[0]:.3f} % at {f.front[0].params:,} parameters to {f.means[-1]:.3f} % at {f.front[-1].params:,}: {f.means[-1] - f.means[0]:.3f} points, {(f.means[-1] - f.means[0]) / f.se_diff:.0f} times the standard error of a difference of two ten-seed means ({f.se_diff:.3f}), and {small_steps} of the {len(f.means) - 1} steps between neighbours in the table are smaller than that standard error. How many hold follows the mean only loosely: trial {best_below.trials}, the best mean below trial {small.trials} ({best_below.summary.mean:.3f} %), holds {best_below.summary.held} of 10. The largest configuration that fails a seed has {below[-1].params:,} parameters; {"step 10's network lies between it and trial " + str(small.trials) + ' but ran only five seeds, and ' if below[-1].params < f.ten[0].params < small.params else ''}trial {small.trials}'s worst seed {'sits exactly on the line' if round(small.summary.worst, 2) == TARGET else f'is {small.summary.worst - TARGET:.2f} points above the line'}: the break is that close.
- **Where the channels go, like with like.** With five seeds each, {f.name[wide]} and {f.name[OURS]} differ by {runs[wide].mean - f.ours.mean:+.2f} points in mean: {'no difference these seeds can detect from the channels added before the pool' if abs(runs[wide].mean - f.ours.mean) < 2 * f.spread else "a difference larger than twice one seed's spread"}. On seed 1 alone, {f.name[before[0]]} and {f.name[before[1]]}, wider before the pool, reach {one[before[0]]:.2f} and {one[before[1]]:.2f} %, against {one[OURS]:.2f} and {one[wide]:.2f} % for hand-listed trials {OURS} and {wide}, of similar size with more channels after it: gaps of {gaps[0]:.2f} and {gaps[1]:.2f} points. Two single runs differ by chance with a spread of {pair:.2f} points (one seed's spread, {f.spread:.2f}, {"this step's, larger than step 10's" if f.sd11 >= f.sd else "step 10's, larger than this step's"}, times the square root of 2): the gaps are {gaps[0] / pair:.1f} and {gaps[1] / pair:.1f} times that, {'no evidence either way' if max(map(abs, gaps)) < 2 * pair else 'a hint for more seeds, not a measurement'}. The search table's means are not ranked across seed counts: a five-seed mean and one seed are not like with like.
- **Separable convolutions.** In {f.name[sep]}, the convolutions after the pool are depthwise-separable, and the layers wider to make up for them; it reaches a two-seed mean of {runs[sep].mean:.2f} %, against {runs[base].mean:.2f} % for {f.name[base]} at the same batch size: {runs[sep].mean - runs[base].mean:+.2f} points, {judge(f, runs[sep].mean - runs[base].mean)}. Two things changed at once, so this is the pair's effect; a likely reason, not tested here: a depthwise 3x3 filters each channel alone, and only the 1x1 after it mixes channels.
- **The training changes.** Batch 64 moved hand-listed trial {base}'s two-seed mean from {runs[base].mean:.2f} to {runs[base64].mean:.2f} % ({runs[base64].mean - runs[base].mean:+.3f} points, {judge(f, runs[base64].mean - runs[base].mean)}) and trial {narrow}'s single seed from {one[narrow]:.2f} to {one[narrow64]:.2f} % ({one[narrow64] - one[narrow]:+.2f}, {judge(f, one[narrow64] - one[narrow])}); later candidates used it all the same, a choice made before the seeds could judge it. On seed 1, random shifts besides the rotation, a peak of {f.found[peak][0].config['max_lr']:g} and a warm-up of {f.found[warm][0].config['pct_start']:.0%} of the steps reach {one[shift]:.2f}, {one[peak]:.2f} and {one[warm]:.2f} % against {one[base]:.2f} % for hand-listed trial {base}, with step 10's training: the largest difference, {max(map(abs, moves)):.2f} points, is {judge(f, max(map(abs, moves)))}, and step 10's schedule stays.
- **Train against test.** This notebook's seed 1 ends with {record.history[-1]['train_acc']:.2f} % on the training images and {record.history[-1]['test_acc']:.2f} % on the test images. Training accuracy is counted on rotated digits while the weights change during the epoch, test accuracy on clean digits with the weights at its end (their average: {record.history[-1][AVERAGED]:.2f} %): the two are not measured alike, so {'training below test does not by itself show under-fitting' if record.history[-1]['train_acc'] < record.history[-1]['test_acc'] else 'their gap, small either way, says little about fitting'}; whether capacity limits this network is what the widths above measure.
- **The trained weights alone** hold for {f.raw.held} of {len(f.records)} of this step's seeds (worst {f.raw.worst:.2f} %, mean {f.raw.mean:.2f} %, last {LAST} epochs). Averaging lifts the mean by {f.ours.mean - f.raw.mean:+.2f} points here and by {f.ten_avg.mean - f.ten_raw.mean:+.2f} in step 10: {f"about the same, so these records do not show that a smaller network needs it more; without it, this one likely loses more seeds because its trained weights' mean is lower ({f.raw.mean:.2f} against {f.ten_raw.mean:.2f} %)" if abs((f.ours.mean - f.raw.mean) - (f.ten_avg.mean - f.ten_raw.mean)) < f.sd else 'a different lift'}.
- **Not measured** on this step's network: label smoothing (step 12 uses it; the study varied it along with everything else), other places for the max-pool or a 1x1 transition, and more seeds for most candidates ({sum(len(s.rows) == 1 for s in runs.values())} of {len(runs)} ran one seed): a seed below the rule rules a candidate out, one above it proves little."""
