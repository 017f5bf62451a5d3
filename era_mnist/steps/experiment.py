"""The one function that runs a step's configuration and writes its record, and its parts."""
import ast
import hashlib
import inspect
import io
import json
import textwrap
import time
import tokenize
from dataclasses import asdict, replace
from typing import NamedTuple

import torch

from ..utils.augment import augmentation
from ..utils.data import DeviceLoader, load_mnist
from ..utils.fast import EMA
from ..utils.paths import output_dir, repo_relative, reuse_runs, write_atomically
from ..utils.results import epochs_at_target
from ..utils.train import check_seed, device_name, fit, format_epoch, pick_device, seed_everything, training_loss
from .records import KEEP_WEIGHTS_UNDER, RunRecord, git_commit, load_record, record_path, save_run, weights_path
from .table import STEPS, StepConfig, model_classes, network, step_config, used_functions

SMOKE_EPOCHS = 2


def run_config(config, smoke):
    """The configuration a run of ``config`` trains: on smoke data at most 2 epochs."""
    return replace(config, epochs=min(config.epochs, SMOKE_EPOCHS)) if smoke else config


def model_and_loader(config, data, seed):
    """The config's network on the data's device and its shuffled, augmented training batches."""
    model = network(config).to(data.train_x.device)
    loader = DeviceLoader(data.train_x, data.train_y, config.batch_size, shuffle=True, seed=seed,
                          augment=augmentation(config, fill=data.background))
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


def training_sources(config):
    """The code that computes ``config``'s numbers, as source: its network's classes, the
    model.py functions they name (and those name in turn) and the network as built, the data as tensors, augmentation, the
    CUDA graph and averaging, the training loop, and this module's builders and ``run_step``. Left
    out: what only finds, checks or decompresses the files (each is checked against its SHA256, so
    it cannot change a number), picks the device or prints."""
    from ..utils import augment, data, fast, train
    net = network(config)
    classes = model_classes(type(net))
    parts = [inspect.getsource(module) for module in (augment, fast)]
    parts += [inspect.getsource(f) for f in (data.MnistData, data.load_mnist, data.DeviceLoader, train.check_seed,
                                             train.seed_everything, train.evaluate, train.training_loss,
                                             train.train_epoch, train.capture, train.fit)]
    parts.append(repr((data.SMOKE_TRAIN, data.SMOKE_TEST, train.EVAL_BATCH, train.PER_BATCH_SCHEDULERS)))
    parts += [inspect.getsource(f) for f in (model_and_loader, make_optimizer, make_scheduler, run_step)]
    parts += [inspect.getsource(c) for c in classes]
    parts += [inspect.getsource(f) for f in used_functions(classes).values()]
    parts.append(repr(net))  # its layers as built: the widths and ReLUs the step table passes
    return parts


def code_only(source):
    """``source`` without its docstrings, comments and blank lines: what computes, as written. Cut by
    the positions ``ast`` and ``tokenize`` give, so the text (and a fingerprint of it) is the same
    under every Python that reads it. A part that is no Python source (a repr) is kept whole."""
    source = textwrap.dedent(source)
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
        cut = [(t.start, t.end) for t in tokenize.generate_tokens(io.StringIO(source).readline)
               if t.type == tokenize.COMMENT]
    except (SyntaxError, tokenize.TokenError):
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            cut.append(((body[0].lineno, body[0].col_offset), (body[0].end_lineno, body[0].end_col_offset)))
    for (row, col), (end_row, end_col) in sorted(cut, reverse=True):  # from the end: earlier positions hold
        lines[row - 1:end_row] = [lines[row - 1][:col] + lines[end_row - 1][end_col:]]
    return "\n".join(line.rstrip() for line in lines if line.strip())


def training_code(config):
    """A fingerprint of ``training_sources(config)`` as ``code_only`` reads them. A kept run is
    reused only while it matches: an edit to what computes trains it again, one to a docstring or
    a comment does not."""
    return hashlib.sha256("\n".join(map(code_only, training_sources(config))).encode()).hexdigest()[:16]


def reuse_run(config, seed, code, model, ema):
    """The committed full run of ``config`` and ``seed`` (Data/runs/) when its final weights were
    kept and the same training code (``code``) made it: its weights are loaded into ``model`` and
    ``ema``, its epochs printed as training would print them, and its record returned. Else None."""
    path = record_path(config.step, seed, "evidence")
    if not (path.exists() and weights_path(path).exists()):
        return None
    record = load_record(path)
    if StepConfig(**record.config) != config or record.code != code:
        return None
    state = torch.load(weights_path(path), map_location=next(model.parameters()).device, weights_only=True)
    model.load_state_dict(state["model"])
    if ema is not None:
        ema.load_state_dict(state["ema"])
    print(f"Not retrained: {repo_relative(path)} and its weights, made by this training code "
          "(`reproduce --retrain` trains it again). Its epochs:", flush=True)
    for row in record.history:
        print(format_epoch(row, config.epochs), flush=True)
    return record


def run_step(config, seed=1, device=None, data=None, save=True, overwrite=False, cuda_graph=True,
             full_run=False, on_epoch=None):
    """Seed, build the step's network, train it as ``config`` says and write the run record
    (``save_run``: a user's own runs go to Data/local/runs/, an earlier record to ``previous/``
    beside it unless ``overwrite``).

    The record's mode says what ran: "full", the step's own configuration (``step_config``) on the
    whole set; "custom", any other (other epochs, say), never counted among the step's full runs;
    "smoke" on smoke ``data`` (``load_mnist``'s default with $ERA_MNIST_SMOKE): at most 2 epochs of
    the subset, in a temporary folder, a rerun replacing it. ``full_run`` lets a caller call a
    configuration of its own a full run (the searches). On a GPU the forward and backward pass run as a CUDA graph
    unless ``cuda_graph`` is False (the record's ``train_path`` says which ran). ``on_epoch(row)`` is
    called after every epoch (a search prunes there). A network under ``KEEP_WEIGHTS_UNDER``
    parameters keeps its final weights (and the averaged ones) beside its record; when ``reproduce``
    re-renders a notebook, a committed run of the same configuration and training code is reused
    instead of trained (``reuse_run``).
    Returns ``(model, record, ema_model)``; ``ema_model`` is None unless the config averages.
    """
    check_seed(seed)
    device = device if isinstance(device, torch.device) else pick_device(device)
    data = data if data is not None else load_mnist(device)
    smoke = data.smoke
    config = run_config(config, smoke)
    seed_everything(seed)
    model, loader = model_and_loader(config, data, seed)
    optimizer = make_optimizer(config, model)
    scheduler = make_scheduler(config, optimizer, len(loader))
    mode = "smoke" if smoke else "full" if full_run or config == step_config(config.step) else "custom"
    commit, code = git_commit(), training_code(config)  # the code as it was when the run began
    ema = EMA(model, config.ema_decay, config.ema_warmup) if config.ema_decay else None
    if mode == "full" and save and reuse_runs() and (record := reuse_run(config, seed, code, model, ema)):
        return model, record, ema
    start = time.perf_counter()
    history, train_path = fit(model, loader, data.test_x, data.test_y, config.epochs, optimizer, scheduler, ema,
                              training_loss(config.label_smoothing), tag=f"[{mode}] " if smoke else "",
                              cuda_graph=cuda_graph, on_epoch=on_epoch)
    record = RunRecord(step=config.step, name=STEPS[config.step].name, seed=seed,
                       params=sum(p.numel() for p in model.parameters()), config=asdict(config),
                       history=history, device=device_name(device), torch_version=torch.__version__,
                       wall_seconds=time.perf_counter() - start, mode=mode, git_commit=commit,
                       epochs_at_target=epochs_at_target(history), cpu_threads=torch.get_num_threads(),
                       train_path=train_path, code=code)
    if save:
        weights = dict(model=model.state_dict(), ema=ema.state_dict() if ema else None)
        save_run(record, overwrite=overwrite, weights=weights if record.params < KEEP_WEIGHTS_UNDER else None)
    return model, record, ema


def run_seeds(config, seeds, device=None, data=None):
    """One record per seed: a committed full-run record (Data/runs/) already made with this very
    configuration is loaded (and the notebook says so); every other seed is trained now."""
    device = device if isinstance(device, torch.device) else pick_device(device)
    data = data if data is not None else load_mnist(device)
    records = []
    for seed in seeds:
        path = None if data.smoke else record_path(config.step, seed, "evidence")
        record = load_record(path) if path and path.exists() else None
        if record and StepConfig(**record.config) == config:
            print(f"seed {seed}: loaded {path.name} ({record.mode} run on {record.device})")
        else:
            record = run_step(config, seed, device, data)[1]
        records.append(record)
    return records


def lr_range_test(config, data, seed=1, start_lr=1e-4, end_lr=1.0, steps=200):
    """The learning-rate range test: a fresh network of ``config``'s step is trained for
    ``steps`` batches while the learning rate grows exponentially from ``start_lr`` to
    ``end_lr``; returns the learning rates and the smoothed training loss at each, stopping
    early once the loss is four times its best. Only the training set is used. The result is
    kept where the mode's records go (``range_test_path``), so that an Analysis can quote it."""
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
    kept = dict(step=config.step, seed=seed, start_lr=start_lr, end_lr=end_lr, steps=steps, lrs=lrs, losses=losses,
                device=device_name(data.train_x.device), torch_version=torch.__version__,
                cpu_threads=torch.get_num_threads(), git_commit=git_commit(),
                origin={"step": config.step, "range_test": True})
    write_atomically(range_test_path(config.step, data.smoke or None), json.dumps(kept, indent=1) + "\n")
    return lrs, losses


def range_test_path(step, where=None):
    """Where ``lr_range_test`` keeps a step's result: beside the mode's run records (``where`` as
    ``output_dir`` takes it; False: the committed one)."""
    return output_dir("runs", where) / f"step{step:02d}_range_test.json"


def load_range_test(step):
    """The committed range test of ``step``: (learning rates, smoothed losses)."""
    kept = json.loads(range_test_path(step, False).read_text())
    return kept["lrs"], kept["losses"]


class RangeReadings(NamedTuple):
    """What a range test's smoothed loss says, as batch indices into its (lrs, losses): the turn,
    where it first rises a tenth above its lowest so far; its lowest before the turn (``low``), its
    peak after it (``top``), its lowest of the whole test (``end``); and the start of the 10 batches
    before the turn where it falls fastest in proportion (``fast``) and in absolute terms (``drop``)."""
    turn: int
    low: int
    top: int
    end: int
    fast: int
    drop: int


def range_readings(losses):
    """``RangeReadings`` of a range test's smoothed ``losses``."""
    turn = next((i for i, x in enumerate(losses) if x > 1.1 * min(losses[:i + 1])), len(losses) - 1)
    by_loss = losses.__getitem__
    return RangeReadings(
        turn, min(range(turn), key=by_loss), max(range(turn, len(losses)), key=by_loss),
        min(range(len(losses)), key=by_loss),
        max(range(turn - 10), key=lambda i: losses[i] / losses[i + 10], default=0),
        max(range(turn - 10), key=lambda i: losses[i] - losses[i + 10], default=0))


def format_range_readings(lrs, losses, chosen):
    """The readings of a range test as lines: each a smoothed loss and the rate it came at, then
    the stretches where the loss falls fastest, and ``chosen``, the peak rate the step uses."""
    r = range_readings(losses)
    return "\n".join([
        f"{len(losses)} batches, the rate from {lrs[0]:g} to {lrs[-1]:.2f}; the smoothed training loss:",
        f"  first batch                     {losses[0]:.2f}",
        f"  lowest before the turn          {losses[r.low]:.2f} at lr {lrs[r.low]:.3f}",
        f"  the turn (a tenth above)        {losses[r.turn]:.2f} at lr {lrs[r.turn]:.3f}",
        f"  peak after the turn             {losses[r.top]:.2f} at lr {lrs[r.top]:.2f}",
        f"  lowest of the whole test        {losses[r.end]:.2f} at lr {lrs[r.end]:.2f} (batch {r.end + 1})",
        f"  fastest fall, in proportion     lr {lrs[r.fast]:.3f} to {lrs[r.fast + 10]:.3f}",
        f"  fastest fall, in absolute terms lr {lrs[r.drop]:.4f} to {lrs[r.drop + 10]:.4f}",
        f"  the peak the step uses          lr {chosen:g}",
    ])
