"""Which change carried a bundled step: the step's recipe with one of its changes undone (leave
one out), trained on a few seeds and set beside the step's own seeds.

``python -m era_mnist ablate --step 7 --seeds 1-3`` trains what is missing; every run is a record
like any other (``Data/ablations/stepNN/<change>_seed<S>.json``, its weights beside it) whose
``origin`` names the step and the change undone. A run already recorded with the same recipe is
read back, so an interrupted ablation resumes where it stopped.
"""
from dataclasses import dataclass, replace

from .steps import STEPS, StepConfig, step_config
from .utils.paths import output_dir, repo_relative
from .utils.records import RecordError, load_record, save_weights, weights_path, write_record


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
         Change("final_rate", "a final rate of max_lr / 100 (step 10: / 10,000)", dict(final_div_factor=1e4)),
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


def origin(step, change):
    """What produced an ablation run, as its record says it."""
    return dict(step=step, ablation=change.name)


def ablation_path(step, change, seed, smoke=False, evidence=False):
    """Where the run of ``step`` with ``change`` undone on ``seed`` is recorded."""
    where = "smoke" if smoke else "evidence" if evidence else None
    folder = output_dir("ablations", where) / f"step{step:02d}"
    folder.mkdir(exist_ok=True)
    return folder / f"{change.name}_seed{seed}.json"


def run_ablation(step, change, seed, data, device, evidence=False):
    """The record of ``step`` with ``change`` undone on ``seed``: read back when it is recorded with
    this recipe, else trained now and written (with its final weights) where ``ablation_path`` says."""
    from .utils.experiment import run_step
    config = undone(step, change)
    path = ablation_path(step, change, seed, data.smoke, evidence)
    if path.exists() and not data.smoke:
        record = load_record(path)
        if StepConfig(**record.config) != config:
            raise RecordError(f"{repo_relative(path)} holds another recipe than step {step} with {change.name} "
                              "undone: move it away to train this one")
        print(f"step {step} without {change.name}, seed {seed}: read back {repo_relative(path)}", flush=True)
        return record
    print(f"step {step} without {change.name} ({change.what}), seed {seed}", flush=True)
    model, record, ema = run_step(config, seed, device, data, save=False, full_run=True)
    record.origin = origin(step, change)
    if write_record(record, path, overwrite=data.smoke):
        save_weights(dict(model=model.state_dict(), ema=ema.state_dict() if ema else None), weights_path(path))
    return record
