"""The demonstrations that need a step of the series: its network, fresh or with its committed
weights, the training's own schedule, and whether its head folds away. The rest of each "How it
works" section needs no step (``era_mnist.utils.mechanisms``)."""
from dataclasses import dataclass
from statistics import mean

import torch
import torch.nn as nn

from ..utils.mechanisms import fold_head, folded_difference, seeded
from ..utils.train import evaluate
from .experiment import make_optimizer, make_scheduler
from .records import full_records, record_path, weights_path
from .table import build


def fresh_network(step, seed=1, device="cpu", **widths):
    """A freshly initialised network of ``step`` (``widths`` to its class), its random weights drawn
    from ``seed`` (the global random state is left as it was): two steps' networks built with one
    seed start alike."""
    return seeded(build, step, seed=seed, **widths).to(device)


def trained_network(step, seed=1, *, network=None, device="cpu"):
    """``network`` (default: a fresh ``build(step)``) with the final weights of the committed full
    run of ``step`` and ``seed`` (Data/runs/, kept beside its record), in eval mode. Step 8's
    network takes step 7's weights: dropout has none."""
    net = network if network is not None else build(step)
    state = torch.load(weights_path(record_path(step, seed, False)), map_location=device, weights_only=True)
    net.load_state_dict(state["model"])
    return net.to(device).eval()


def eval_mode_fit(steps, seeds, data):
    """How closely the final weights of each of ``steps`` and ``seeds`` fit every training image of
    ``data`` with dropout off (eval mode), beside the test accuracy of the same weights (their last
    epoch): {step: [(seed, train %, test %)]}. The training accuracy a run prints is counted with
    dropout on, over an epoch of changing weights; this counts both sets alike."""
    runs, device = full_records(), data.train_x.device
    return {step: [(seed, evaluate(trained_network(step, seed, device=device), data.train_x, data.train_y)[1],
                    runs[step][seed].history[-1]["test_acc"]) for seed in seeds] for step in steps}


def format_eval_mode_fit(fit):
    """``eval_mode_fit``'s table: per step and seed, the training and test accuracy in eval mode and
    their gap, then each step's means."""
    lines = [f"{'step':>4}  {'seed':>4}  {'train, eval mode':>16}  {'test':>6}  {'train - test':>12}"]
    for step, rows in fit.items():
        lines += [f"{step:>4}  {seed:>4}  {train:>16.2f}  {test:>6.2f}  {train - test:>12.2f}"
                  for seed, train, test in rows]
        lines.append(f"{step:>4}  mean  {mean(r[1] for r in rows):>16.2f}  {mean(r[2] for r in rows):>6.2f}  "
                     f"{mean(r[1] - r[2] for r in rows):>12.2f}")
    return "\n".join(lines)


def onecycle_schedule(config, steps_per_epoch):
    """The learning rate and the momentum SGD uses at each batch of a run of ``config``: the
    training's own optimizer and scheduler (``make_optimizer``, ``make_scheduler``) stepped over
    one parameter that never trains. ``OneCycleLR`` cycles the momentum too (its default), so the
    configuration's ``momentum`` is not what the run uses."""
    optimizer = make_optimizer(config, nn.Linear(1, 1, bias=False))
    scheduler = make_scheduler(config, optimizer, steps_per_epoch)
    lrs, momenta = [], []
    for _ in range(config.epochs * steps_per_epoch):
        group = optimizer.param_groups[0]
        lrs.append(group["lr"])
        momenta.append(group["momentum"])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return lrs, momenta


@dataclass(frozen=True)
class Folding:
    """Whether a network's last conv and head fold into one conv (``fold_head``), and what it saves."""
    relu_last: bool
    difference: float  # the largest difference of the log-probabilities, network against folded
    replaced: int      # parameters of the last conv, the head and their BatchNorms
    folded: int        # parameters of the one conv that replaces them


def folding(step, x, seed=1):
    """``Folding`` for ``step``'s network built without and with the ReLU before its head (a
    ``SlimNet``), from ``seed``; its BatchNorm statistics come from passes over the images ``x`` in
    train mode (nothing trains), so that every BatchNorm has statistics of its own."""
    rows = []
    for relu_last in (False, True):
        net = fresh_network(step, seed, relu_last=relu_last).cpu().train()
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            for _ in range(3):
                net(x.cpu())
        replaced = sum(p.numel() for m in (net.conv6, net.head) for p in m.parameters())
        folded = sum(p.numel() for p in fold_head(net.eval()).parameters())
        rows.append(Folding(relu_last, folded_difference(net, x), replaced, folded))
    return rows
