"""Training: device choice, seeding, the train/test loop with any torch scheduler and an averaged model."""
import random
import time
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import CyclicLR, OneCycleLR, ReduceLROnPlateau
from tqdm.auto import tqdm

from .fast import CapturedStep

PER_BATCH_SCHEDULERS = (OneCycleLR, CyclicLR)
PROGRESS_EVERY = 50  # batches between progress-bar updates (each one waits for the device)


class DeviceError(RuntimeError):
    """The device asked for is not available here; the message says what to use instead."""


def pick_device(device=None):
    """``device`` if given ("cpu", "cuda", a torch.device), else CUDA when present, else the CPU."""
    if device in (None, "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda' (CLI: --device)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError("CUDA was asked for but no GPU is available here: use device='cpu' "
                           "(CLI: --device cpu), or on Colab choose Runtime > Change runtime type > GPU")
    print(f"Using device: {device_name(device)}")
    return device


def device_name(device):
    """A readable name: the GPU's model, or 'cpu'."""
    device = torch.device(device)
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


MAX_SEED = 2**32 - 1  # NumPy's limit


def check_seed(seed):
    """Refuse a seed that seed_everything cannot take, before any data loads or training starts."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED}, not {seed!r}")


def seed_everything(seed):
    """Seed Python, NumPy and torch (CPU and every GPU) with one number."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


EVAL_BATCH = {"cpu": 256, "cuda": 2000}  # the CPU: measured fastest (its caches); the GPU: few launches


def evaluate(model, x, y, batch_size=None):
    """(mean loss, accuracy in %) of ``model`` on images ``x`` with labels ``y``, in batches of
    ``batch_size`` (default: ``EVAL_BATCH`` for the device)."""
    batch_size = batch_size or EVAL_BATCH.get(x.device.type, 2000)
    model.eval()
    loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            out = model(x[start:start + batch_size])
            target = y[start:start + batch_size]
            loss += F.nll_loss(out, target, reduction="sum")
            correct += (out.argmax(1) == target).sum()
    return loss.item() / len(x), 100.0 * correct.item() / len(x)


def training_loss(label_smoothing=0.0):
    """The loss on the networks' log-probabilities: NLL, or with ``label_smoothing`` the smoothed
    cross-entropy (its log-softmax leaves log-probabilities as they are)."""
    return partial(F.cross_entropy, label_smoothing=label_smoothing) if label_smoothing else F.nll_loss


def train_epoch(model, loader, optimizer, scheduler=None, ema=None, bar=None, captured=None, loss_fn=F.nll_loss):
    """One pass over ``loader``; returns (mean loss, accuracy in %) on the training batches.

    ``scheduler`` is stepped after every batch (pass only per-batch schedulers here);
    ``ema`` (an ``EMA``) is updated after every optimizer step; a ``CapturedStep`` replays the
    forward and backward pass of every batch of its shape (others run eagerly).
    """
    model.train()
    loss_sum = torch.zeros((), device=loader.x.device)
    correct = torch.zeros((), device=loader.x.device, dtype=torch.long)
    seen = 0
    for i, (xb, yb) in enumerate(loader, 1):
        if captured is not None and captured.fits(xb):
            out, loss = captured.step(xb, yb)
        else:
            optimizer.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if ema is not None:
            ema.update_parameters(model)
        loss_sum += loss.detach() * len(yb)
        correct += (out.argmax(1) == yb).sum()
        seen += len(yb)
        if bar is not None:
            bar.update(1)
            if i % PROGRESS_EVERY == 0 or i == len(loader):
                bar.set_postfix(loss=f"{loss_sum.item() / seen:.4f}", acc=f"{100 * correct.item() / seen:.2f}")
    return loss_sum.item() / seen, 100.0 * correct.item() / seen


def capture(model, loader, loss_fn=F.nll_loss):
    """A ``CapturedStep`` for the loader's full batches on a GPU; None on the CPU, or (with one
    message) when the capture fails, so that training goes on eagerly."""
    if loader.x.device.type != "cuda":
        return None
    try:
        return CapturedStep(model, loader.x[:loader.batch_size], loader.y[:loader.batch_size], loss_fn)
    except Exception as error:  # any failure: the eager loop learns the same, only slower
        model.zero_grad(set_to_none=True)
        print(f"CUDA graph capture failed ({type(error).__name__}: {error}); training eagerly instead")
        return None


def fit(model, train_loader, test_x, test_y, epochs, optimizer, scheduler=None, ema=None, loss_fn=F.nll_loss,
        tag="", cuda_graph=True, on_epoch=None):
    """Train for ``epochs`` and return ``(history, path)``, as pytorch/examples' train() and
    test() each epoch.

    ``scheduler`` may be any ``torch.optim.lr_scheduler``: OneCycleLR and CyclicLR step per
    batch, ReduceLROnPlateau steps on the test loss, the others step once per epoch. An ``ema``
    (``EMA``: an average of the weights) is updated after every step and evaluated each epoch
    too (``ema_test_loss``, ``ema_test_acc``). ``loss_fn`` is the training loss (``training_loss``;
    the test loss stays the plain NLL). ``on_epoch(row)`` is called after each epoch.
    On a GPU the forward and backward pass run as a CUDA graph unless ``cuda_graph`` is False;
    ``path`` says which ran: "cuda-graph" or "eager".
    History: one dict per epoch with epoch, train_loss, train_acc, test_loss, test_acc, lr, seconds.
    """
    captured = capture(model, train_loader, loss_fn) if cuda_graph else None
    per_batch = isinstance(scheduler, PER_BATCH_SCHEDULERS)
    history = []
    for epoch in range(1, epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        start = time.perf_counter()
        with tqdm(total=len(train_loader), desc=f"{tag}epoch {epoch}/{epochs}", leave=False) as bar:
            train_loss, train_acc = train_epoch(model, train_loader, optimizer,
                                                scheduler if per_batch else None, ema, bar, captured, loss_fn)
        test_loss, test_acc = evaluate(model, test_x, test_y)
        row = dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc,
                   test_loss=test_loss, test_acc=test_acc, lr=lr)
        if ema is not None:
            row["ema_test_loss"], row["ema_test_acc"] = evaluate(ema, test_x, test_y)
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(test_loss)
        elif scheduler is not None and not per_batch:
            scheduler.step()
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        print(format_epoch(row, epochs, tag))
        if on_epoch is not None:
            on_epoch(row)
    return history, "cuda-graph" if captured else "eager"


def format_epoch(row, epochs, tag=""):
    """The one line an epoch leaves in the output."""
    line = (f"{tag}epoch {row['epoch']:2d}/{epochs}  train loss {row['train_loss']:.4f} "
            f"acc {row['train_acc']:6.2f}%  test loss {row['test_loss']:.4f} acc {row['test_acc']:6.2f}%")
    if "ema_test_acc" in row:
        line += f"  ema acc {row['ema_test_acc']:6.2f}%"
    return line + f"  lr {row['lr']:.4g}  {row['seconds']:.1f} s"
