"""Which change carried a bundled step: the step's recipe with one of its changes undone (leave
one out), trained on a few seeds and set beside the step's own seeds.

``python -m era_mnist ablate --step 7 --seeds 1-3`` trains what is missing; every run is a record
like any other (``Data/ablations/stepNN/<change>_seed<S>.json``, its weights beside it) whose
``origin`` names the step and the change undone. A run already recorded with the same recipe is
read back, so an interrupted ablation resumes where it stopped.
"""
import math
import statistics
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

from .search import own_runs
from .steps import STEPS, StepConfig, step_config
from .steps.records import RecordError, kept_weights, load_record, origin, weights_path, write_record
from .utils.paths import output_dir, repo_relative
from .utils.results import AVERAGED, RULE


@dataclass(frozen=True)
class Change:
    """One change a step makes to the step it builds on, and the configuration fields that undo it."""
    name: str      # short, for the CLI and the file names: "batch"
    what: str      # the change as the step makes it, in words
    undo: dict     # StepConfig fields that put it back as the base step had it
    readout: bool = False  # the averaged weights only: training is the same, so the step's own runs'
    #                        trained weights are the measure with it undone (nothing to train)


def _capacity(**undone):
    """Step 7's network with ``undone`` of its changes put back (``model.CapacityAblation``)."""
    return dict(arch="CapacityAblation", net=dict(dropout=0.1, **undone))


ABLATION_SEEDS = (1, 2, 3)  # the seeds each change is undone on, beside the step's own
# t for a two-sided 95 % interval of a mean difference over n seeds, by n - 1: with few seeds the
# spread is itself uncertain, so the margin is wider than twice the standard error
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}

ABLATIONS = {
    7: [Change("batch", "batch 64 (step 6: 128)", dict(batch_size=128)),
        Change("depth", "a 4th conv before the pool and a 7th after it (step 6: 3 and 2)", _capacity(deep=False)),
        Change("head", "a 1x1 head after the GAP (step 6: the last conv gives the 10 logits)", _capacity(head=False)),
        Change("relu_first", "ReLU before BatchNorm (step 6: after)", _capacity(relu_first=False)),
        Change("linear", "no ReLU on the 4th and 7th convs, the transition and the head (step 6: every layer)",
               _capacity(linear=False)),
        Change("trans_first", "the transition 1x1 before the pool (step 6: after)", _capacity(trans_first=False))],
    10: [Change("onecycle", "OneCycleLR up to 0.05 (step 9: a constant 0.01)", dict(scheduler=None, max_lr=0.0)),
         Change("nesterov", "Nesterov momentum (step 9: plain)", dict(nesterov=False)),
         Change("batch", "batch 128 (step 9: 64)", dict(batch_size=64)),
         Change("averaged", "judged on averaged weights (step 9: the trained ones)", dict(ema_decay=None),
                readout=True)],
    12: [Change("network", "SlimNet(8, 17) with a ReLU before its head (step 10: CapacityNet)",
                dict(arch="CapacityNet", net=None)),
         Change("relu_last", "the ReLU before the head (SlimNet(8, 17) without it)",
                dict(arch="SlimNet", net=dict(c1=8, c2=17))),
         Change("batch", "batch 64 (step 10: 128)", dict(batch_size=128)),
         Change("shift_zoom", "random shift and zoom of 5 % (step 10: none)", dict(max_shift=0.0, max_scale=0.0)),
         Change("final_rate", "final_div_factor 100 (step 10: 10,000): a last rate 100 times higher",
                dict(final_div_factor=1e4)),
         Change("weight_decay", "weight decay 1e-6 (step 10: none)", dict(weight_decay=0.0)),
         Change("label_smoothing", "label smoothing 0.05 (step 10: none)", dict(label_smoothing=0.0)),
         Change("ema_warmup", "the averaging's warm-up (step 10: none)", dict(ema_warmup=False))],
}


def changes(step):
    """The step's changes, by name; a ValueError naming the steps that have an ablation."""
    if step not in ABLATIONS:
        raise ValueError(f"step {step} has no ablation: the bundled steps are {', '.join(map(str, ABLATIONS))}")
    return {c.name: c for c in ABLATIONS[step]}


def undone(step, change):
    """The configuration of ``step`` with ``change`` (a Change) undone."""
    return replace(step_config(step), **change.undo)


def ablation_path(step, change, seed, smoke=False, evidence=False):
    """Where the run of ``step`` with ``change`` undone on ``seed`` is recorded (the folder may not exist)."""
    where = "smoke" if smoke else "evidence" if evidence else "local"
    return Path(output_dir("ablations", where)) / f"step{step:02d}" / f"{change.name}_seed{seed}.json"


def read_ablation(step, change, path):
    """The record at ``path`` when it is ``step`` with ``change`` undone; a RecordError otherwise."""
    record = load_record(path)
    if StepConfig(**record.config) != undone(step, change):
        raise RecordError(f"{repo_relative(path)} holds another recipe than step {step} with {change.name} "
                          f"undone: move it and its {weights_path(path).name} away to train this one")
    return record


def run_ablation(step, change, seed, data, device, evidence=False):
    """The record of ``step`` with ``change`` undone on ``seed``: read back when it is recorded with
    this recipe, else trained now and written (with its final weights) where ``ablation_path`` says."""
    from .steps.experiment import run_step
    path = ablation_path(step, change, seed, data.smoke, evidence)
    if path.exists() and not data.smoke:
        record = read_ablation(step, change, path)
        kept = "" if weights_path(path).exists() else " (its weights are missing: only its record is kept)"
        print(f"step {step} without {change.name}, seed {seed}: read back {repo_relative(path)}{kept}", flush=True)
        return record
    path.parent.mkdir(parents=True, exist_ok=True)
    weights_path(path).unlink(missing_ok=True)  # a removed run's weights must never pass for this one's
    print(f"step {step} without {change.name} ({change.what}), seed {seed}", flush=True)
    model, record, ema = run_step(undone(step, change), seed, device, data, save=False, full_run=True)
    record.origin = origin(step=step, ablation=change.name)
    write_record(record, path, overwrite=data.smoke, weights=kept_weights(record, model, ema))
    return record


@dataclass(frozen=True)
class Effect:
    """What undoing one change does to the rule's measure (each seed's lowest test accuracy of the
    last epochs, ``RULE.measure``) against the step's own runs on the same seeds, seed by seed."""
    change: Change
    lows: dict       # seed -> the measure with the change undone (the seeds recorded so far)
    own: dict        # seed -> the step's own measure, on the same seeds
    missing: tuple   # the seeds asked for that have no record yet
    records: tuple   # the runs behind ``lows`` (the step's own, for a readout)

    @property
    def mean(self):
        return statistics.mean(self.lows.values())

    @property
    def differences(self):
        """Per seed, the measure with the change undone minus the step's own: the same seed draws the same
        initial weights where the network is unchanged, and the same batches where the batch size is."""
        return [self.lows[s] - self.own[s] for s in self.lows]

    @property
    def delta(self):
        """The mean difference: negative where the change helped the step."""
        return statistics.mean(self.differences)

    @property
    def se(self):
        """The standard error of ``delta``, from the spread of the seeds' differences (0 with one seed)."""
        if len(self.differences) < 2:
            return 0.0
        return statistics.stdev(self.differences) / math.sqrt(len(self.differences))

    @property
    def margin(self):
        """Half the width of the 95 % interval of ``delta``: t (``T95``) times its standard error."""
        return T95.get(len(self.differences) - 1, 2.0) * self.se

    @property
    def text(self):
        """The change and what undoing it did: "onecycle (-0.017 points, 95 % margin 0.211)"."""
        return f"{self.change.name} ({self.delta:+.3f} points, 95 % margin {self.margin:.3f})"

    @property
    def verdict(self):
        """"carried" (undoing it costs more than the 95 % margin), "hurt" (undoing it gains as much),
        "not shown" (within it), or "too few seeds"."""
        if len(self.differences) < 2:
            return "too few seeds"
        return "carried" if self.delta < -self.margin else "hurt" if self.delta > self.margin else "not shown"


def measure(record, key=None):
    """The rule's measure of a run: its averaged weights' when it averaged, else its trained weights'."""
    key = key or (AVERAGED if AVERAGED in record.history[0] else "test_acc")
    return RULE.measure(record.history, key)


def effects(step, seeds=ABLATION_SEEDS):
    """One ``Effect`` per change of ``step``, from the committed records (Data/ablations/, read only:
    nothing trains here); a change with no record yet has empty ``lows``."""
    own = own_runs(step)
    missing_own = [s for s in seeds if s not in own]
    if missing_own:
        raise RecordError(f"step {step} has no committed run of seed(s) {missing_own}: train them first")
    rows = []
    for change in ABLATIONS[step]:
        if change.readout:
            runs = {s: own[s] for s in seeds}
        else:
            paths = {s: ablation_path(step, change, s, evidence=True) for s in seeds}
            runs = {s: read_ablation(step, change, p) for s, p in paths.items() if p.exists()}
        lows = {s: measure(r, "test_acc" if change.readout else None) for s, r in runs.items()}
        rows.append(Effect(change, lows, {s: measure(own[s]) for s in lows},
                           tuple(s for s in seeds if s not in lows), tuple(runs.values())))
    return rows


def effects_table(rows):
    """The ablation as a text table: first the step's own seeds (nothing undone), then per change
    undone, each seed's measure, the mean, the mean difference from the step's own seeds with its
    95 % margin, and the verdict; under it, how many verdicts chance alone would give among the rows judged."""
    seeds = sorted({s for r in rows for s in (*r.lows, *r.missing)})
    own = {s: low for r in rows for s, low in r.own.items()}
    lines = [f"{'change undone':<16}" + "".join(f"{f'seed {s}':>8}" for s in seeds)
             + f"{'mean':>8}{'vs own':>9}{'95 %':>8}  verdict"]
    if own:
        lines.append(f"{'none (own)':<16}" + "".join(f"{own[s]:>8.2f}" if s in own else f"{'-':>8}" for s in seeds)
                     + f"{sum(own.values()) / len(own):>8.2f}")
    for r in rows:
        cells = "".join(f"{r.lows[s]:>8.2f}" if s in r.lows else f"{'-':>8}" for s in seeds)
        if r.lows:
            lines.append(f"{r.change.name:<16}{cells}{r.mean:>8.2f}{r.delta:>+9.3f}{r.margin:>8.3f}  {r.verdict}")
        else:
            lines.append(f"{r.change.name:<16}{cells}{'':>25}  not run yet")
    if (judged := sum(r.verdict in ("carried", "hurt", "not shown") for r in rows)) > 1:
        lines.append(f"each row is judged alone at 95 %: of {judged} rows with no real effect, {judged * 0.05:.1f} "
                     "would pass their margin by chance on average, so a verdict nothing else backs is a lead")
    return "\n".join(lines)


def ablation_figure(step):
    """The file name of a step's ablation chart in the figures folder."""
    return f"step{step:02d}_ablation.png"


def plot_effects(step, rows):
    """``plots.plot_ablation`` of ``effects(step)``, titled with what made the runs, saved as
    ``ablation_figure`` names it in the figures folder."""
    from .utils.plots import plot_ablation
    from .steps.records import devices
    runs = [r for row in rows for r in row.records]
    seeds = {s for row in rows for s in (*row.lows, *row.missing)}
    own = {s: measure(r) for s, r in own_runs(step).items() if s in seeds}
    save = output_dir("figures") / ablation_figure(step)
    title = (f"step {step} ({STEPS[step].name}), each change undone: full runs on {devices(runs)}, torch "
             f"{', '.join(sorted({r.torch_version for r in runs}))}, {step_config(step).epochs} epochs"
             if runs else f"step {step}: no ablation run recorded yet")
    labels = [f"{row.change.name}\n" + textwrap.fill(row.change.what, 36) for row in rows]
    return plot_ablation([(label, row.lows) for label, row in zip(labels, rows)], own, title, save)
