"""A step's training configuration and the one function that runs it and writes its record."""
import time
from dataclasses import asdict, dataclass, replace

import torch

from ..model import ARCHS, STEPS, step_number
from .augment import rotation
from .data import DeviceLoader, load_mnist
from .records import (RunRecord, archive_existing, epochs_at_target, git_commit, is_smoke, load_record,
                      record_path, shown)
from .train import device_name, fit, pick_device, seed_everything

SMOKE_EPOCHS = 2


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
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            raise ValueError(f"epochs must be a whole number >= 1, not {self.epochs!r}")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ValueError(f"batch_size must be a whole number >= 1, not {self.batch_size!r}")
        if self.lr <= 0 or (self.scheduler == "onecycle" and self.max_lr <= 0):
            raise ValueError("learning rates must be positive")
        if self.scheduler not in (None, "onecycle"):
            raise ValueError(f"scheduler must be None or 'onecycle', not {self.scheduler!r}")
        if self.arch is not None and self.arch not in ARCHS:
            raise ValueError(f"arch must be None or one of {', '.join(ARCHS)}, not {self.arch!r}")


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


def network(config):
    """A fresh network as ``config`` names it: its ``arch`` class, else its step's, with its ``net`` widths."""
    make = ARCHS[config.arch] if config.arch else STEPS[config.step][1]
    return make(**(config.net or {}))


def model_and_loader(config, data, seed):
    """The config's network on the data's device and its shuffled, augmented training batches."""
    model = network(config).to(data.train_x.device)
    loader = DeviceLoader(data.train_x, data.train_y, config.batch_size, shuffle=True, seed=seed,
                          augment=rotation(config.rotation, config.max_shift, config.max_scale,
                                           fill=data.background))
    return model, loader


def make_optimizer(config, model):
    """SGD with the config's learning rate, momentum and weight decay."""
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           nesterov=config.nesterov, weight_decay=config.weight_decay)


def make_scheduler(config, optimizer, steps_per_epoch):
    """The config's scheduler from torch.optim.lr_scheduler, or None."""
    if config.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.max_lr, epochs=config.epochs,
                                                   steps_per_epoch=steps_per_epoch,
                                                   pct_start=config.pct_start,
                                                   final_div_factor=config.final_div_factor)
    return None


def run_step(config, seed=1, device=None, data=None, save=True, overwrite=False, cuda_graph=True, on_epoch=None):
    """Seed, build the step's network, train it as ``config`` says and write the run record.

    An earlier record of the same step and seed is moved to ``previous/`` beside it (replaced
    only with ``overwrite``). On a GPU the forward and backward pass run as a CUDA graph unless
    ``cuda_graph`` is False (the record's ``train_path`` says which ran). Smoke mode
    ($ERA_MNIST_SMOKE) trains at most 2 epochs on the small subset and writes its record to a
    temporary folder, replacing the previous smoke one.
    ``on_epoch(row)`` is called after every epoch (a search prunes there).
    Returns ``(model, record, ema_model)``; ``ema_model`` is None unless the config averages.
    """
    smoke = is_smoke()
    if smoke:  # smoke records are throwaway: a rerun replaces them
        config = replace(config, epochs=min(config.epochs, SMOKE_EPOCHS))
        overwrite = True
    device = device if isinstance(device, torch.device) else pick_device(device)
    data = data if data is not None else load_mnist(device, smoke=smoke)
    seed_everything(seed)
    model, loader = model_and_loader(config, data, seed)
    optimizer = make_optimizer(config, model)
    scheduler = make_scheduler(config, optimizer, len(loader))
    mode, commit = ("smoke" if smoke else "full"), git_commit()  # the code as it was when the run began
    start = time.perf_counter()
    history, ema, train_path = fit(model, loader, data.test_x, data.test_y, config.epochs, optimizer,
                                   scheduler, ema_decay=config.ema_decay, tag=f"[{mode}] " if smoke else "",
                                   cuda_graph=cuda_graph, label_smoothing=config.label_smoothing,
                                   ema_warmup=config.ema_warmup, on_epoch=on_epoch)
    record = RunRecord(step=config.step, name=STEPS[config.step][0], seed=seed,
                       params=sum(p.numel() for p in model.parameters()), config=asdict(config),
                       history=history, device=device_name(device), torch_version=torch.__version__,
                       wall_seconds=time.perf_counter() - start, mode=mode, git_commit=commit,
                       epochs_at_target=epochs_at_target(history), cpu_threads=torch.get_num_threads(),
                       train_path=train_path)
    if save:
        path = record_path(config.step, seed, smoke)
        if not overwrite and (kept := archive_existing(path)):
            print(f"The previous record of this step and seed was moved to {shown(kept)}")
        record.save(path.parent, overwrite=overwrite)
        print(f"Record written to {shown(path)}")
    return model, record, ema


def run_seeds(config, seeds, device=None, data=None):
    """One record per seed: a full-run record already made with this very configuration is
    loaded (and the notebook says so); every other seed is trained now."""
    records = []
    for seed in seeds:
        path = record_path(config.step, seed)
        record = load_record(path) if path.exists() and not is_smoke() else None
        if record and StepConfig(**record.config) == config:
            print(f"seed {seed}: loaded {path.name} ({record.mode} run on {record.device}, "
                  f"commit {record.git_commit})")
        else:
            record = run_step(config, seed, device, data)[1]
        records.append(record)
    return records


def lr_range_test(config, data, seed=1, start_lr=1e-4, end_lr=1.0, steps=200):
    """The learning-rate range test: a fresh network of ``config``'s step is trained for
    ``steps`` batches while the learning rate grows exponentially from ``start_lr`` to
    ``end_lr``; returns the learning rates and the smoothed training loss at each, stopping
    early once the loss is four times its best. Only the training set is used."""
    seed_everything(seed)
    model, loader = model_and_loader(config, data, seed)
    optimizer = make_optimizer(replace(config, lr=start_lr), model)
    lrs, losses, smooth, batches = [], [], None, iter(loader)
    model.train()
    for i in range(steps):
        lr = start_lr * (end_lr / start_lr) ** (i / (steps - 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = next(batches, None)
        if batch is None:  # start another pass
            batches = iter(loader)
            batch = next(batches)
        xb, yb = batch
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.nll_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        smooth = loss.item() if smooth is None else 0.9 * smooth + 0.1 * loss.item()
        lrs.append(lr)
        losses.append(smooth)
        if smooth > 4 * min(losses):
            break
    return lrs, losses
