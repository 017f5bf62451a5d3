"""The series, one entry per step: its name, its idea, its network, its training and the
reference's figures. The CLI, the notebooks, the README and the tests all read a step from here,
so a step is added or changed in this one place."""
import inspect
import math
import re
from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Callable

import torch

from .. import model


def _check(name, value, ok, want, kind=(int, float)):
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or not ok(value):
        raise ValueError(f"{name} must be {want}, not {value!r}")


def check_widths(make, widths):
    """Refuse, before torch does with a traceback (or builds a layer of no channels), widths that the
    network ``make`` (a class or a partial of one) does not take: an unknown name, a channel count
    under 1, an option that is not True or False, a dropout outside 0-1."""
    cls = getattr(make, "func", make)
    takes = inspect.signature(cls).parameters
    for name, value in widths.items():
        if name not in takes:
            raise ValueError(f"{cls.__name__} takes no {name!r}: it takes {', '.join(takes) or 'nothing'}")
        default = takes[name].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{cls.__name__}'s {name} must be True or False, not {value!r}")
        elif isinstance(default, int):
            _check(f"{cls.__name__}'s {name}", value, lambda v: v >= 1, "a whole number of channels >= 1", int)
        elif isinstance(default, float):
            _check(f"{cls.__name__}'s {name}", value, lambda v: 0 <= v < 1, "a fraction from 0 up to (not including) 1")


@dataclass(frozen=True)
class StepConfig:
    """How one step trains. Anything a step does not name stays as the step it builds on left it
    (``_series``); step 1 takes the defaults."""
    step: int
    epochs: int = 15
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    nesterov: bool = False
    rotation: float = 0.0      # degrees, +- (training set only)
    max_shift: float = 0.0     # random shift, +- this fraction of the image (training set only)
    max_scale: float = 0.0     # random zoom, 1 +- this fraction (training set only)
    scheduler: str | None = None  # None or "onecycle"
    max_lr: float = 0.0        # OneCycleLR peak
    pct_start: float = 0.3     # OneCycleLR warm-up fraction
    final_div_factor: float = 1e4  # OneCycleLR: the last rate is the first divided by this
    weight_decay: float = 0.0  # SGD's L2 penalty
    label_smoothing: float = 0.0  # the share of the target spread over all classes
    ema_decay: float | None = None  # evaluate an exponential moving average of the weights too
    ema_warmup: bool = False   # the average's decay grows as (1 + t) / (10 + t) up to ema_decay
    arch: str | None = None    # a network class of era_mnist.model; None: the step's own network
    net: dict | None = None    # keyword arguments of the network (its widths)

    def __post_init__(self):
        _check("step", self.step, lambda v: v >= 1, "a step number", int)
        if "STEPS" in globals():  # the table's own entries are made before it exists; later ones are checked
            step_number(self.step)
        _check("epochs", self.epochs, lambda v: v >= 1, "a whole number >= 1", int)
        _check("batch_size", self.batch_size, lambda v: v >= 1, "a whole number >= 1", int)
        _check("lr", self.lr, lambda v: v > 0, "a positive number")
        _check("momentum", self.momentum, lambda v: 0 <= v < 1, "a number from 0 up to (not including) 1")
        if not isinstance(self.nesterov, bool) or (self.nesterov and self.momentum == 0):
            raise ValueError(f"nesterov must be True (with a momentum above 0) or False, not {self.nesterov!r}")
        _check("rotation", self.rotation, lambda v: 0 <= v <= 180, "a number of degrees from 0 to 180")
        _check("max_shift", self.max_shift, lambda v: 0 <= v < 1, "a fraction from 0 up to (not including) 1")
        _check("max_scale", self.max_scale, lambda v: 0 <= v < 1, "a fraction from 0 up to (not including) 1")
        if self.scheduler not in (None, "onecycle"):
            raise ValueError(f"scheduler must be None or 'onecycle', not {self.scheduler!r}")
        _check("max_lr", self.max_lr, lambda v: v > 0 if self.scheduler else v >= 0,
               "a positive number with OneCycleLR" if self.scheduler else "a number >= 0")
        _check("pct_start", self.pct_start, lambda v: 0 < v < 1, "a fraction strictly between 0 and 1")
        _check("final_div_factor", self.final_div_factor, lambda v: v >= 1, "a number >= 1")
        _check("weight_decay", self.weight_decay, lambda v: v >= 0, "a number >= 0")
        _check("label_smoothing", self.label_smoothing, lambda v: 0 <= v < 1,
               "a fraction from 0 up to (not including) 1")
        if not isinstance(self.ema_warmup, bool):
            raise ValueError(f"ema_warmup must be True or False, not {self.ema_warmup!r}")
        if self.arch is not None and self.arch not in model.ARCHS:
            raise ValueError(f"arch must be None or one of {', '.join(model.ARCHS)}, not {self.arch!r}")
        if self.ema_decay is not None:
            _check("ema_decay", self.ema_decay, lambda v: 0 < v < 1, "None or a number strictly between 0 and 1")
        if not (self.net is None or isinstance(self.net, dict)):
            raise ValueError(f"net must be None or a dict of the network's widths, not {self.net!r}")
        if self.net and (self.arch or "STEPS" in globals()):
            check_widths(model.ARCHS[self.arch] if self.arch else STEPS[step_number(self.step)].network, self.net)


@dataclass(frozen=True)
class Step:
    """One step of the series."""
    number: int
    name: str           # short name, for the CLI and the records: "onecycle"
    notebook: str       # notebooks/StepNN_<notebook>.ipynb
    idea: str           # what this step changes, in a few words
    network: Callable   # builds the step's network (keyword arguments: its widths)
    changes: dict       # what its training changes in the training of the step it builds on
    reference: dict | None = None  # the published reference series' own figures: params, best_train, best_test
    validated_in: str | None = None  # the study whose records hold this step's many seeds (era_mnist.search)
    trial: int | None = None  # that study's trial whose recipe this step is: its records are this step's runs
    chosen_on: tuple = ()  # the seeds that study chose this step's recipe on; the others came after the choice
    builds_on: int | None = None  # the step this one changes (default: the one before it)
    config: StepConfig | None = None  # how the step trains: its base's config with ``changes`` (``_series``)

    @property
    def base(self):
        """The step this one builds on: ``builds_on``, else the step before."""
        return self.builds_on or self.number - 1

    @property
    def stem(self):
        """The notebook's file name without .ipynb: "Step10_OneCycle"."""
        return f"Step{self.number:02d}_{self.notebook}"


def _reference(params, best_train, best_test):
    return dict(params=params, best_train=best_train, best_test=best_test)


def _series(steps):
    """The table: each step's configuration is the one of the step it builds on with its ``changes``
    (step 1's: the defaults), so that a step names only what it changes."""
    table = {}
    for step in steps:
        base = table[step.base].config if step.base in table else StepConfig(step.number)
        table[step.number] = replace(step, config=replace(base, step=step.number, **step.changes))
    return table


STEPS = _series([
    Step(1, "setup", "Setup", "a working pipeline: data, net, train and test loop", model.SetupNet,
         {}, _reference(6_379_786, 99.85, 99.06)),  # batch 128, SGD lr 0.01 momentum 0.9
    Step(2, "skeleton", "Skeleton", "a skeleton to slim down", model.SkeletonNet,
         {}, _reference(194_884, 99.27, 98.86)),
    Step(3, "lighter", "Lighter", "fewer channels", model.LightNet,
         {}, _reference(10_790, 98.88, 98.82)),
    Step(4, "batchnorm", "BatchNorm", "batch normalization", model.BatchNormNet,
         {}, _reference(10_970, 99.75, 98.28)),
    Step(5, "regularization", "Regularization", "dropout", partial(model.BatchNormNet, dropout=0.1),
         {}, _reference(10_970, 99.81, 99.28)),
    Step(6, "gap", "GAP", "global average pooling", partial(model.GapNet, dropout=0.1),
         {}, _reference(6_070, 98.81, 98.72)),
    Step(7, "capacity", "Capacity", "more depth, batch 64", partial(model.CapacityNet, dropout=0.1),
         dict(batch_size=64), _reference(7_884, 99.23, 99.23)),
    Step(8, "maxpool", "MaxPool", "dropout removed", model.CapacityNet,
         {}, _reference(7_884, 99.34, 99.36)),
    Step(9, "augmentation", "Augmentation", "random rotation +-7 degrees", model.CapacityNet,
         dict(rotation=7.0), _reference(7_884, 99.31, 99.27)),
    Step(10, "onecycle", "OneCycle", "OneCycleLR and averaged weights, 5 seeds", model.CapacityNet,
         dict(batch_size=128, nesterov=True, scheduler="onecycle", max_lr=0.05, ema_decay=0.999),
         _reference(7_884, 99.34, 99.56)),
    Step(11, "smallest", "Smallest", "beyond the assignment: how small can it go, by a recorded search",
         model.SlimNet, dict(batch_size=64),  # no reference: beyond the series
         validated_in="hand-listed", trial=11, chosen_on=(1, 2, 3, 4, 5)),
    Step(12, "margin", "Margin",
         "a recipe for every seed: one an Optuna study chose, measured on 20 seeds",
         partial(model.SlimNet, c1=8, c2=17, relu_last=True),  # trial 47 of the study under-8000: trial 31, c2=17
         dict(batch_size=64, final_div_factor=100.0, weight_decay=1e-6, label_smoothing=0.05, max_shift=0.05,
              max_scale=0.05, ema_warmup=True),
         validated_in="under-8000", trial=47, chosen_on=(1, 2, 3, 4), builds_on=10),  # not on step 11's search
])


def step_number(step):
    """The step number for a number or a short name; a clear ValueError for anything else."""
    names = {s.name: n for n, s in STEPS.items()}
    if isinstance(step, str) and step.strip().lower() in names:
        return names[step.strip().lower()]
    if isinstance(step, int) and not isinstance(step, bool) and step in STEPS:
        return step
    valid = ", ".join(f"{n} ({s.name})" for n, s in STEPS.items())
    raise ValueError(f"unknown step {step!r}: valid steps are {valid}")


def step_config(step, **changes):
    """The series' configuration of ``step`` (number or name), with any field overridden."""
    return replace(STEPS[step_number(step)].config, **changes)


def build(step, **widths):
    """A fresh network for ``step`` (a step number or its short name, e.g. ``build(10)``);
    ``widths`` go to the network's class (step 11's search: ``build(11, c1=8, c2=10)``)."""
    make = STEPS[step_number(step)].network
    check_widths(make, widths)
    return make(**widths)


def network(config):
    """A fresh network as ``config`` names it: its ``arch`` class, else its step's, with its ``net`` widths."""
    make = model.ARCHS[config.arch] if config.arch else STEPS[config.step].network
    return make(**(config.net or {}))


def parameters(config):
    """The parameter count of ``config``'s network."""
    return sum(p.numel() for p in network(config).parameters())


def changed_fields(config, base=None, skip=("step",)):
    """The names of the fields where ``config`` differs from ``base`` (default: its step's own)."""
    base = base or step_config(config.step)
    return [f.name for f in fields(config) if f.name not in skip and getattr(config, f.name) != getattr(base, f.name)]


def config_changes(config, base=None, skip=("step",)):
    """Where ``config`` differs from ``base`` (default: its step's own), as text ("epochs=1");
    empty where nothing differs."""
    return ", ".join(f"{name}={_shown(getattr(config, name))}" for name in changed_fields(config, base, skip))


def _shown(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)  # as typed; a sampled float to 4 digits


def network_parts(step):
    """The class a step's network is built from and the keyword arguments the step table gives it."""
    make = STEPS[step_number(step)].network
    return getattr(make, "func", make), getattr(make, "keywords", {})


def model_classes(cls):
    """``cls`` and its bases that era_mnist.model defines, the class itself first."""
    return [c for c in cls.__mro__ if c.__module__ == model.__name__]


def model_functions():
    """The functions era_mnist.model defines (its layer builders), by name, in the file's order."""
    return {name: f for name, f in vars(model).items() if inspect.isfunction(f) and f.__module__ == model.__name__}


def used_functions(classes):
    """The functions of era_mnist.model that ``classes`` name, and those these name in turn, by name,
    in the file's order: the layer builders a network is made with."""
    functions = model_functions()
    used, text = set(), "\n".join(inspect.getsource(c) for c in classes)
    while more := [name for name in functions if name not in used and re.search(rf"\b{name}\b", text)]:
        used.update(more)
        text = "\n".join(inspect.getsource(functions[name]) for name in more)
    return {name: f for name, f in functions.items() if name in used}


def network_name(step):
    """How the step table builds a step's network, as code: "BatchNormNet(dropout=0.1)"."""
    cls, widths = network_parts(step)
    return f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in widths.items())})"


def final_step():
    """The last step whose recipe a study chose (``Step.validated_in``): the series' final model; or None."""
    return max((n for n, step in STEPS.items() if step.validated_in), default=None)


def training_changes(step, since=None):
    """What a step changes in the training of step ``since`` (default: the step it builds on), as
    text; step 1's own settings."""
    n = step_number(step)
    if n == 1:
        config = STEPS[1].config
        return "SGD, " + ", ".join(f"{k}={_shown(getattr(config, k))}"
                                   for k in ("epochs", "batch_size", "lr", "momentum"))
    config, base = STEPS[n].config, STEPS[since or STEPS[n].base].config
    changes = config_changes(config, base) or "none"
    if config.scheduler == "onecycle" and base.scheduler != "onecycle":
        changes += f" ({onecycle_momentum()}, not momentum={_shown(config.momentum)})"
    return changes


def onecycle_momentum():
    """What ``OneCycleLR`` does to SGD's momentum by default (``cycle_momentum``), which the runs keep:
    "momentum cycled 0.95 -> 0.85 -> 0.95", read from torch's own defaults."""
    defaults = {k: v.default for k, v in inspect.signature(torch.optim.lr_scheduler.OneCycleLR).parameters.items()}
    high, low = defaults["max_momentum"], defaults["base_momentum"]
    return f"momentum cycled {high:g} -> {low:g} -> {high:g}"
