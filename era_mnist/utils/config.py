"""A step's training configuration, checked when it is made: a bad value is refused before any data loads."""
from dataclasses import dataclass, fields, replace

from ..model import ARCHS, step_number


def _check(name, value, ok, want, kind=(int, float)):
    if isinstance(value, bool) or not isinstance(value, kind) or not ok(value):
        raise ValueError(f"{name} must be {want}, not {value!r}")


@dataclass(frozen=True)
class StepConfig:
    """How one step trains. Anything a step does not name stays as the step before left it."""
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
        _check("label_smoothing", self.label_smoothing, lambda v: 0 <= v < 1, "a fraction from 0 up to (not including) 1")
        if not isinstance(self.ema_warmup, bool):
            raise ValueError(f"ema_warmup must be True or False, not {self.ema_warmup!r}")
        if self.arch is not None and self.arch not in ARCHS:
            raise ValueError(f"arch must be None or one of {', '.join(ARCHS)}, not {self.arch!r}")
        if self.ema_decay is not None:
            _check("ema_decay", self.ema_decay, lambda v: 0 < v < 1, "None or a number strictly between 0 and 1")
        if not (self.net is None or isinstance(self.net, dict)):
            raise ValueError(f"net must be None or a dict of the network's widths, not {self.net!r}")


_STEP_CONFIGS = {
    **{n: StepConfig(n) for n in range(1, 7)},          # batch 128, SGD lr 0.01 momentum 0.9
    7: StepConfig(7, batch_size=64),                    # the reference's smaller batch
    8: StepConfig(8, batch_size=64),                    # dropout removed (in the network)
    9: StepConfig(9, batch_size=64, rotation=7.0),      # random rotation within +-7 degrees
    10: StepConfig(10, batch_size=128, rotation=7.0, nesterov=True, scheduler="onecycle",
                   max_lr=0.05, ema_decay=0.999),       # OneCycleLR, weights averaged
    11: StepConfig(11, batch_size=64, rotation=7.0, nesterov=True, scheduler="onecycle",
                   max_lr=0.05, ema_decay=0.999),       # step 10's training at batch 64, SlimNet
}


def step_config(step, **changes):
    """The series' configuration of ``step`` (number or name), with any field overridden."""
    return replace(_STEP_CONFIGS[step_number(step)], **changes)


def config_changes(config):
    """Where ``config`` differs from its step's own, as text ("epochs=1"); empty for the step's own."""
    own = step_config(config.step)
    return ", ".join(f"{f.name}={getattr(config, f.name)!r}" for f in fields(config)
                     if getattr(config, f.name) != getattr(own, f.name))
