"""Step 12's Analysis, step 10's rule on twenty seeds and which of its changes carried it
(``analysis``), and how the study's choice of it holds up (``appendix``)."""
import math
import statistics
from dataclasses import replace
from statistics import NormalDist

from ..ablation import effects
from ..search import recipe, step_runs, study_records
from ..steps import STEPS, StepConfig, config_changes, network_name, step_config
from ..steps.records import RecordError, devices, full_records
from ..utils.data import load_mnist
from ..utils.results import AVERAGED, LAST, TARGET, seed_summary
from .shared import provenance


STEP = 12


def texts():
    """(the lesson's Analysis, the appendix's), from one reading of the records."""
    config = step_config(STEP)
    records = step_runs(STEP)   # every seed of the study's trial that became this step
    ablation = effects(STEP)   # read from Data/ablations/
    ours, raw = seed_summary(records, AVERAGED), seed_summary(records, 'test_acc')
    def split(runs, seen):   # the seeds the choice looked at (seen) or not
        return seed_summary([r for r in runs if (r.seed in STEPS[STEP].chosen_on) == seen], AVERAGED)
    seen, unseen = split(records, True), split(records, False)
    study = study_records('under-8000', smoke=False)   # {trials: runs in seed order}
    before = study['31']   # the recipe before
    if [r.seed for r in before] != [r.seed for r in records]:   # the runs pair up seed by seed
        raise RecordError("trial 31's seeds are not step 12's: the paired comparison needs the same seeds")
    first, other = seed_summary(before, AVERAGED), StepConfig(**before[0].config)
    same_training = replace(other, step=12, arch=None, net=None) == config
    gains = [a[1] - b[1] for a, b in zip(ours.rows, first.rows)]
    gain, se = statistics.mean(gains), statistics.stdev(gains) / len(gains) ** 0.5
    fresh = [g for g, row in zip(gains, ours.rows) if row.seed not in STEPS[STEP].chosen_on]   # seeds the pick did not see
    fresh_gain, fresh_se = statistics.mean(fresh), statistics.stdev(fresh) / len(fresh) ** 0.5
    step10 = list(full_records()[10].values())   # seeds 1-5
    step10_unseen, ours_unseen = split(step10, False), split(records[:len(step10)], False)
    spread, window = statistics.stdev(row[1] for row in ours.rows), 1 / (1 - config.ema_decay)
    warm = math.ceil((10 * config.ema_decay - 1) / (1 - config.ema_decay))   # (1 + t) / (10 + t) reaches the decay
    per_epoch = -(-len(load_mnist("cpu", smoke=False).train_y) // config.batch_size)   # batches per epoch
    z = (ours.mean - TARGET) / spread   # how many standard deviations above the target the mean sits
    spread_unseen = statistics.stdev(row[1] for row in unseen.rows)
    z_unseen = (unseen.mean - TARGET) / spread_unseen   # the same, on the seeds the choice did not look at
    expected, every = len(records) * NormalDist().cdf(z), NormalDist().cdf(z) ** len(records)
    z90 = NormalDist().inv_cdf(0.9 ** (1 / len(records)))   # the mean every seed needs, nine times in ten
    short = ', '.join(str(row[0]) for row in ours.rows if row[1] < TARGET)
    worst_z = -NormalDist().inv_cdf(0.625 / (len(records) + 0.25))   # where the worst of n normally falls
    seen_se = spread / len(seen.rows) ** 0.5   # the standard error of a mean of the seen seeds
    two = lambda runs: seed_summary(runs[:2], AVERAGED)   # seeds 1 and 2
    shown = lambda runs: ' and '.join(f'{row[1]:.2f}' for row in two(runs).rows) + f' % (mean {two(runs).mean:.3f})'
    study_config = lambda trial: StepConfig(**study[trial][0].config)
    after = {'52': records, '51': before}   # tried after the choice: trial -> the runs of the recipe it changed
    diffs = [two(study[t]).mean - two(runs).mean for t, runs in after.items()]
    top = max((t for t, runs in study.items() if len(runs) >= 2), key=lambda t: seed_summary(study[t], AVERAGED).worst)
    verdicts = {v: [r for r in ablation if r.verdict == v] for v in ('carried', 'hurt')}
    within = [r for r in ablation if r.verdict == 'not shown']
    waiting = [r.change.name for r in ablation if r.verdict == 'too few seeds']   # fewer than two seeds so far
    named = lambda rows: ', '.join(r.text for r in rows)   # noqa: E731  "batch (-0.020 points, 95 % margin 0.031)"
    seeds_run = sorted({s for r in ablation for s in r.lows})
    tested = seed_summary([r for r in records if r.seed in seeds_run], AVERAGED)   # this step on the ablation's seeds
    threads = ', '.join(sorted({str(r.cpu_threads) for r in records}))   # a run's CPU threads
    lesson = provenance(STEP, records, 'Data/search/under-8000/') + "\n" + f"""
- **Target {'met' if ours.held == len(records) else 'missed'}:** with the averaged weights, {ours.held} of {len(records)} seeds hold {TARGET} % in each of the last {LAST} epochs{'' if ours.held == len(records) else '; seeds ' + short + ' fall short'}. The worst, {ours.worst_seeds}, {'reach' if ', ' in ours.worst_seeds else 'reaches'} {ours.worst:.2f} %; the mean of the seeds' last-{LAST} minima is {ours.mean:.2f} % ({records[0].params:,} parameters, {config.epochs} epochs).
- **Against step 10, on the seeds it ran:** on {'seed' if len(step10_unseen.rows) == 1 else 'seeds'} {step10_unseen.seeds}, which this step's choice did not look at, step 10's {'mean' if len(step10_unseen.rows) > 1 else 'minimum'} is {step10_unseen.mean:.2f} % and this step's {ours_unseen.mean:.2f} %, a difference of {ours_unseen.mean - step10_unseen.mean:+.2f} points against a spread of {spread:.2f} for a single seed; step 10 has no runs beyond seed {step10[-1].seed}. Against step 10 this step {'shows no margin' if ours_unseen.mean - step10_unseen.mean < 2 * spread else 'shows a margin'}: what it adds is a twenty-seed measurement, with {abs(step10[0].params - records[0].params):,} {'fewer' if step10[0].params > records[0].params else 'more'} parameters.
- **The spread decides the worst seed:** the seeds' last-{LAST} minima scatter with a standard deviation of {spread:.2f} points, and the worst lies {(ours.mean - ours.worst) / spread:.1f} of them under the mean; the worst of {len(records)} draws from a normal spread falls about {worst_z:.1f} under it. With the mean {z:.1f} standard deviations above the target, a normal spread expects {expected:.0f} of {len(records)} seeds to hold, and all of them {every:.0%} of the time; for all of them nine times in ten, the mean would have to sit {z90:.1f} standard deviations above, near {TARGET + z90 * spread:.2f} %.
- **Without averaging** the trained weights hold for {raw.held} of {len(records)} seeds (worst {raw.worst:.2f} %, mean {raw.mean:.2f} %){': the average of roughly the last ' + format(window, '.0f') + ' batches is what the rule rests on' if raw.held < ours.held else ''}.
- **What changed from step 10:** {config_changes(config, step_config(10))}, and the network `{network_name(STEP)}` in place of `{network_name(10)}`. They were chosen together; undone one at a time on {'seed' if len(seeds_run) == 1 else 'seeds'} {', '.join(map(str, seeds_run))} (the table and chart above), {f"undoing {named(verdicts['carried'])} costs more than its margin: of the {len(ablation)} rows, only {'that one clears its' if len(verdicts['carried']) == 1 else 'those clear their'} margin, and with {len(ablation)} rows judged at once one may clear it by luck, so it is a lead for more seeds rather than a finding" if verdicts['carried'] else 'no change undone alone costs more than its margin'}{f' (the averaging warm-up uses a decay of min({config.ema_decay:g}, (1 + t) / (10 + t)) at update t, so for its first {warm:,} updates, {warm / per_epoch:.1f} epochs at batch {config.batch_size}, the average follows the weights more closely than the fixed decay, whose memory is about {window:.0f} batches; after that the two averages differ only by what they held then, which fades by a factor {config.ema_decay:g} per batch: {config.ema_decay ** (per_epoch * (config.epochs - LAST) - warm):.0%} of it is left when the last {LAST} epochs begin, {config.ema_decay ** (per_epoch * config.epochs - warm):.1%} at the end)' if any(r.change.name == 'ema_warmup' for r in verdicts['carried']) else ''}{f"; undoing {named(verdicts['hurt'])} gains as much: on these seeds step 12 does better without it" if verdicts['hurt'] else ''}{f"; undoing {named(within)} moves the measure less than its margin: no effect these seeds can show" if within else ''}{f"; {', '.join(waiting)}: too few seeds so far for a verdict" if waiting else ''}.{f" Every row's mean lies below step 12's own on these seeds, none by more than {-min(r.delta for r in ablation):.2f} points. But seeds {', '.join(map(str, seeds_run))} are among those trial 47 was picked on, and a pick favours a recipe that ran high on the seeds it looked at (on seeds {', '.join(map(str, seeds_run))} its own mean runs {tested.mean - unseen.mean:+.3f} points above seeds {unseen.seeds}, where the rows fall short of it by {-max(r.delta for r in ablation):.3f} to {-min(r.delta for r in ablation):.3f}): a shortfall of that size in every row may be what the pick alone gives, so the rows rank the changes less surely than their margins say." if all(r.lows and r.delta < 0 for r in ablation) and set(seeds_run) <= set(STEPS[STEP].chosen_on) else ''}
- **Carry forward:** a claim for every seed rests on how far the mean sits above the line, counted in the spread between seeds, on seeds the choice did not see: on seeds {unseen.seeds} (mean {unseen.mean:.3f} %, standard deviation {spread_unseen:.3f}), {z_unseen:.1f} standard deviations; by a normal spread, all of {len(records)} new seeds would hold only {NormalDist().cdf(z_unseen) ** len(records):.0%} of the time. **Try:** a seed nobody has run, `run_step(config, seed=21, device=device, data=data)` (seed 1's run above took {full_records()[STEP][1].wall_seconds / 60:.0f} minutes on the {devices(records)} that trained these, with {threads} CPU {'thread' if threads == '1' else 'threads'}): does it hold?"""
    details = f"""- **One change measured on all twenty seeds:** trial 31, this step's recipe before trial 47 replaced it, is `{recipe(other)[0]}` ({before[0].params:,} parameters) with {'the same training' if same_training else 'other training'}: {abs(records[0].params - before[0].params):,} parameters {'fewer' if before[0].params < records[0].params else 'more'}. On the same seeds it holds for {first.held} of {len(first.rows)}, mean {first.mean:.2f} %, worst {first.worst:.2f} %. Seed by seed, this step's last-{LAST} minimum differs from trial 31's by {gain:+.3f} points on average (standard error {se:.3f}). But trial 47 was picked on seeds {seen.seeds} as the best of the variants queued around trial 31, and a pick favours a variant that happened to run high on the seeds it looked at; on seeds {unseen.seeds}, which the pick did not see, the difference is {fresh_gain:+.3f} points (standard error {fresh_se:.3f}): {'more than twice that, a gain that survives the pick' if fresh_gain > 2 * fresh_se else 'more than twice that, a loss' if fresh_gain < -2 * fresh_se else 'within twice that, no gain of the extra channel these seeds can show once the pick is set aside'}.
- **Seeds {seen.seeds} {'ran high' if seen.mean - unseen.mean > 2 * seen_se else 'did not run measurably high'}:** this recipe's mean is {seen.mean:.2f} % on them, where it was chosen, and {unseen.mean:.2f} % on seeds {unseen.seeds}, a gap of {seen.mean - unseen.mean:+.3f} points against a standard error of {seen_se:.3f} for a mean of {len(seen.rows)} seeds; trial 31's is {split(before, True).mean:.2f} and {split(before, False).mean:.2f} % on the same seeds (trial 31 was itself chosen on seeds 1-3, so it is no choice-free yardstick).
- **Tried after the choice, on seeds 1 and 2:** trial 52, trial 49's label smoothing of {study_config('52').label_smoothing} on this recipe, reaches {shown(study['52'])} there, against this step's {shown(records)}; trial 51, trial 31 with an averaging decay of {study_config('51').ema_decay} (about {1 / (1 - study_config('51').ema_decay):.0f} batches instead of {window:.0f}), reaches {shown(study['51'])}, against trial 31's {shown(before)}. {'Both are below their base' if max(diffs) < 0 else 'The differences are'} ({', '.join(f'{d:+.3f}' for d in diffs)} points){': neither change shows a gain, and this step keeps trial 47' if max(diffs) < 0 else f', against a spread of {spread:.2f} for one seed'}.{f" Trial 51 heads the study's table above because the table ranks by the worst of whatever seeds a trial ran, two for trial 51 and {len(before)} for trial 31; on seeds 1 and 2, trial 31's worst ({two(before).worst:.2f} %) is above trial 51's ({two(study['51']).worst:.2f} %)." if top == '51' and two(before).worst > two(study['51']).worst else ''}"""
    return lesson, details
