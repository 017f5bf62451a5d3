"""How each step's change works, shown live on the step's own network and data, before it trains:
how the receptive field grows (step 2), where the parameters sit (step 3), what BatchNorm does to a layer's output (step 4), dropout with
the network in train and in eval mode (steps 5 and 8), what global average pooling keeps and what
it cannot mix (step 6), what a block hands the next with ReLU before or after BatchNorm (step 7), rotation at two magnitudes (step 9), the OneCycle schedule (step 10), label
smoothing and a head that folds into the conv before it (step 12). The notebooks' "How it works"
sections call these; their figures are drawn here too (plots.py draws the runs' figures).

Nothing here trains, and nothing changes a network it is given or the global random state: a
demonstration run before training leaves the training exactly as it would have been.
"""
import copy
from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from .augment import affine
from .plots import finish


def seeded(make, *args, seed=1, **kwargs):
    """``make(*args, **kwargs)`` with its random weights drawn from ``seed``, the global random state
    left as it was: e.g. ``seeded(CapacityAblation, relu_first=False)``, a network that starts as
    ``fresh_network`` of its step does wherever the two share layers."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make(*args, **kwargs)


# --- how the receptive field grows (step 2) ----------------------------------------------------

@dataclass(frozen=True)
class Square:
    """The input pixels one output of a layer sees: a square of side ``rf`` whose top-left corner
    is at row and column ``start`` (negative where it reaches into the padding)."""
    layer: str
    rf: int
    start: int


def receptive_squares(rows, size=28):
    """For each layer of ``rows`` (``receptive_field_table``), the square of its most central output.
    Output i of a layer starts at i * jump - P in the input, P being the padding added so far, in
    input pixels (each layer adds its padding times the jump before it)."""
    squares, padded = [], 0
    for row in rows:
        padded += row.padding * (row.jump // row.stride)
        i = min(max(round(((size - row.rf) / 2 + padded) / row.jump), 0), row.size - 1)
        squares.append(Square(row.layer, row.rf, i * row.jump - padded))
    return squares


def plot_receptive_fields(image, squares, mean=0.1307, std=0.3081, title="", save=None):
    """One panel per layer: the digit and, in red, the square one of the layer's outputs sees."""
    fig, axes = plt.subplots(1, len(squares), figsize=(1.45 * len(squares), 1.9), squeeze=False)
    picture = (image[0].cpu() * std + mean).clamp(0, 1).numpy()
    for ax, sq in zip(axes[0], squares):
        ax.imshow(picture, cmap="gray_r")
        corner = (sq.start - 0.5, sq.start - 0.5)
        ax.add_patch(plt.Rectangle(corner, sq.rf, sq.rf, fill=False, color="tab:red", lw=1.5))
        low, high = min(sq.start, 0) - 1, max(sq.start + sq.rf, picture.shape[0]) + 0.5
        ax.set(xlim=(low, high), ylim=(high, low), xticks=[], yticks=[])
        ax.set_title(f"{sq.layer}\nRF {sq.rf}", fontsize=8)
    return finish(fig, title, save)


# --- where the parameters sit (step 3) ---------------------------------------------------------

@dataclass(frozen=True)
class ParameterRow:
    """One layer that holds parameters: its name in the model, its kind, how its count is made
    (``formula``, e.g. "3*3*10*20" for a 3x3 conv from 10 to 20 channels) and the count."""
    name: str
    kind: str
    formula: str
    count: int


def parameter_formula(module):
    """How ``module``'s own parameters are counted, as a product a student can check: k*k*c_in*c_out
    for a convolution (c_in per group), 2*c for BatchNorm's scale and shift, in*out for a linear
    layer; "+ c_out" for a bias."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        text = f"{kh}*{kw}*{module.in_channels // module.groups}*{module.out_channels}"
        return text + (f" + {module.out_channels}" if module.bias is not None else "")
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return f"2*{module.num_features}" if module.affine else "0"
    if isinstance(module, nn.Linear):
        return f"{module.in_features}*{module.out_features}" + (f" + {module.out_features}" if module.bias is not None
                                                                 else "")
    return str(sum(p.numel() for p in module.parameters(recurse=False)))


def parameter_rows(model):
    """Every layer of ``model`` that holds parameters of its own, in order, with its formula and count;
    the counts sum to the model's total."""
    return [ParameterRow(name, type(module).__name__, parameter_formula(module),
                         sum(p.numel() for p in module.parameters(recurse=False)))
            for name, module in model.named_modules() if any(True for _ in module.parameters(recurse=False))]


def format_parameter_rows(rows, before=None, before_label="before"):
    """``parameter_rows`` as a table: each layer's formula, count and share of the total; with
    ``before`` (another network's rows, matched by layer name) its count there too."""
    total = sum(r.count for r in rows)
    old = {r.name: r for r in before or []}
    head = f"{'layer':<10} {'kind':<12} {'k*k*c_in*c_out':<16} {'parameters':>10} {'share':>6}"
    lines = [head + (f" {before_label:>12}" if before else "")]
    for r in rows:
        line = f"{r.name:<10} {r.kind:<12} {r.formula:<16} {r.count:>10,} {r.count / total:>6.0%}"
        if before:
            line += f" {old[r.name].count:>12,}" if r.name in old else f" {'-':>12}"
        lines.append(line)
    lines.append(f"{'total':<40} {total:>10,}" + (f" {sum(r.count for r in before):>19,}" if before else ""))
    return "\n".join(lines)


def plot_parameters(rows, title="", save=None):
    """One bar per layer: its parameter count, labelled with its formula."""
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.2))
    names = [r.name for r in rows][::-1]
    counts = [r.count for r in rows][::-1]
    ax.barh(names, counts, color="steelblue")
    for i, r in enumerate(rows[::-1]):
        ax.text(r.count, i, f"  {r.formula} = {r.count:,}", va="center", fontsize=7)
    ax.set(xlabel="parameters", xlim=(0, max(counts) * 1.45), title="where the parameters sit")
    return finish(fig, title, save)


# --- BatchNorm (step 4) ------------------------------------------------------------------------

def batchnorm_by_hand(bn, x):
    """What ``bn`` (a BatchNorm2d) computes in train mode, written out:
    y = gamma * (x - mean_batch) / sqrt(var_batch + eps) + beta, per channel, the mean and the
    (biased) variance taken over the batch and every position."""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    gamma, beta = bn.weight.view(1, -1, 1, 1), bn.bias.view(1, -1, 1, 1)
    return gamma * (x - mean) / torch.sqrt(var + bn.eps) + beta


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel mean and standard deviation of one layer's input and output on one batch."""
    name: str
    in_mean: torch.Tensor
    in_std: torch.Tensor
    out_mean: torch.Tensor
    out_std: torch.Tensor


def _keep(store, name, inputs=True):
    """A forward hook that keeps a layer's (input, output), or only its output, in ``store``
    under ``name`` (the first call only); it returns None, so the output passes on unchanged."""
    def hook(module, args, output):
        if name not in store:
            store[name] = (args[0], output) if inputs else output
    return hook


def _per_channel(x):
    return x.mean(dim=(0, 2, 3)).cpu(), x.std(dim=(0, 2, 3)).cpu()


def layer_stats(model, x, kind=nn.BatchNorm2d, train=True):
    """For every ``kind`` layer of ``model``, the per-channel mean and std of what goes in and what
    comes out, for the batch ``x``, the network in train mode (BatchNorm on the batch's own
    statistics) unless ``train`` is False. Runs on a copy: ``model`` and its running statistics stay
    as they are."""
    net = copy.deepcopy(model).train(train)
    seen = {}
    hooks = [m.register_forward_hook(_keep(seen, name)) for name, m in net.named_modules() if isinstance(m, kind)]
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        net(x)
    for h in hooks:
        h.remove()
    return [ChannelStats(name, *_per_channel(i), *_per_channel(o)) for name, (i, o) in seen.items()]


def batchnorm_check(model, x):
    """{BatchNorm layer: largest difference between its output in train mode and ``batchnorm_by_hand``
    on the same input}, for the batch ``x``: about 1e-6 when the formula is what the layer does."""
    net, seen = copy.deepcopy(model).train(), {}
    hooks = [m.register_forward_hook(_keep(seen, n)) for n, m in net.named_modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        net(x)
        for h in hooks:
            h.remove()
        modules = dict(net.named_modules())
        return {n: float((batchnorm_by_hand(modules[n], i) - o).abs().max()) for n, (i, o) in seen.items()}


def format_layer_stats(stats):
    """``layer_stats`` as a table, one line per layer: the range over its channels of the mean and
    the std of its input and of its output."""
    def span(t, digits=2, sign="+"):
        return f"{float(t.min()):{sign}.{digits}f} to {float(t.max()):{sign}.{digits}f}"
    lines = [f"{'layer':<9} {'input mean':>18} {'input std':>14} {'output mean':>20} {'output std':>14}"]
    lines += [f"{s.name:<9} {span(s.in_mean):>18} {span(s.in_std, sign=''):>14} {span(s.out_mean, 4):>20} "
              f"{span(s.out_std, sign=''):>14}" for s in stats]
    return "\n".join(lines)


def block_output_std(model, x, names, train=True):
    """The spread of each named block's output on the batch ``x``: the std over the batch and the
    positions, averaged over the channels; a fresh network shows how the scale of the signal moves
    from layer to layer. On a copy, as ``layer_stats``."""
    out = _outputs(model, x, names, train)
    return [float(out[n].std(dim=(0, 2, 3)).mean()) for n in names]


def _outputs(model, x, names, train=True):
    """{name: output} of the named blocks of a copy of ``model`` (on ``x``'s device, in train or eval
    mode) on the batch ``x``; the random state, the CUDA one too, left as it was."""
    net = copy.deepcopy(model).to(x.device).train(train)
    out = {}
    hooks = [getattr(net, n).register_forward_hook(_keep(out, n, inputs=False)) for n in names]
    with torch.no_grad(), torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
        net(x)
    for h in hooks:
        h.remove()
    return out


@dataclass(frozen=True)
class BlockOutput:
    """What one block hands the next, on one batch: the mean and std over the batch, the positions
    and the channels, and the share of values that are exactly zero."""
    name: str
    mean: float
    std: float
    zeros: float


def block_outputs(model, x, names):
    """``BlockOutput`` of each named block of ``model`` on the batch ``x``, in train mode (BatchNorm
    on the batch's statistics, as in training), on a copy: conv -> ReLU -> BatchNorm hands on values
    centred on zero, conv -> BatchNorm -> ReLU values that are never negative, about half of them 0."""
    out = _outputs(model, x, names)
    return [BlockOutput(n, float(out[n].mean()), float(out[n].std()), float((out[n] == 0).float().mean()))
            for n in names]


def format_block_outputs(rows_by_label):
    """{label: ``block_outputs``} as one table: per block, each network's mean, std and share of zeros."""
    labels = list(rows_by_label)
    head = f"{'block':<7}" + "".join(f"{label:>33}" for label in labels)
    sub = f"{'':<7}" + f"{'mean':>11}{'std':>10}{'zeros':>12}" * len(labels)
    lines = [head, sub]
    for i, row in enumerate(rows_by_label[labels[0]]):
        cells = "".join(f"{r.mean:>11.3f}{r.std:>10.3f}{r.zeros:>12.0%}" for r in (rows_by_label[lb][i] for lb in labels))
        lines.append(f"{row.name:<7}" + cells)
    return "\n".join(lines)


def plot_batchnorm(stats, scales, title="", save=None):
    """Left: one BatchNorm layer's input and output, per channel (mean as a dot, +-1 std as a bar);
    right: ``scales``, {label: (block names, output std per block)}, one line per network."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    channels = torch.arange(len(stats.in_mean))
    for shift, (mean, std, label, colour) in enumerate([(stats.in_mean, stats.in_std, "conv output (BN input)",
                                                         "tab:red"),
                                                        (stats.out_mean, stats.out_std, "BatchNorm output",
                                                         "tab:blue")]):
        xs = channels + (shift - 0.5) * 0.3
        left.errorbar(xs, mean, yerr=std, fmt="o", ms=3, capsize=2, color=colour, label=label)
    left.axhline(0, color="black", lw=0.6)
    left.set(xlabel=f"channel of {stats.name}", ylabel="mean +- std over the batch",
             title="one layer, per channel, on one batch", xticks=channels[::2].tolist())
    left.legend(fontsize=7, loc="lower left", framealpha=0.9)
    for label, (names, values) in scales.items():
        right.plot(names, values, marker="o", label=label)
    right.set(yscale="log", ylabel="output std (mean over channels)", title="the signal's scale, layer by layer")
    right.tick_params(axis="x", labelsize=7)
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return finish(fig, title, save)


# --- dropout (steps 5 and 8) -------------------------------------------------------------------

def dropout_layers(model):
    """The ``nn.Dropout`` layers of ``model``, by name."""
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Dropout)}


def _with_dropout(model, on):
    """A copy of ``model`` in eval mode (BatchNorm on its running statistics), its dropout layers on
    (train mode) when ``on``: dropout alone, nothing else of train mode."""
    net = copy.deepcopy(model).eval()
    for m in dropout_layers(net).values():
        m.train(on)
    return net


def dropout_passes(model, x, passes=2, seed=0):
    """The probabilities ``model`` gives the images ``x``, ``passes`` times with its dropout on and
    ``passes`` times with it off (eval mode); BatchNorm on its running statistics in both, so that
    dropout is the only difference. Returns {"on": [...], "off": [...]}."""
    out = {}
    with torch.no_grad(), torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
        torch.manual_seed(seed)
        for key, on in (("on", True), ("off", False)):
            net = _with_dropout(model, on)
            out[key] = [net(x).exp() for _ in range(passes)]
    return out


def dropout_mask_stats(model, x, seed=0):
    """What each dropout layer of ``model`` does to the batch ``x`` with dropout on: the share of
    its non-zero inputs it sets to zero (about p) and the factor by which it scales the rest
    (1 / (1 - p)). Returns {name: (p, zeroed share, scale)}."""
    net, seen = _with_dropout(model, True), {}
    hooks = [m.register_forward_hook(_keep(seen, n)) for n, m in dropout_layers(net).items()]
    with torch.no_grad(), torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
        torch.manual_seed(seed)
        net(x)
    for h in hooks:
        h.remove()
    stats = {}
    for name, (i, o) in seen.items():
        live = i != 0
        kept = live & (o != 0)
        stats[name] = (dropout_layers(net)[name].p, float((live & (o == 0)).sum() / live.sum()),
                       float((o[kept] / i[kept]).mean()))
    return stats


def measured_accuracy(model, x, y, mode="eval", batch_size=64, seed=0):
    """Accuracy (%) of ``model`` on images ``x`` with labels ``y``, the network in ``mode``:
    "eval" (how the test accuracy is measured), "train" (how the training accuracy is measured
    during training: dropout on, BatchNorm on each batch's own statistics, batches of
    ``batch_size``) or "dropout" (eval mode with dropout on: dropout alone). The weights do not
    change; a copy runs, so ``model``'s running statistics stay as they are."""
    if mode == "train":
        net = copy.deepcopy(model).train()
    else:
        net = _with_dropout(model, mode == "dropout")
    correct = 0
    with torch.no_grad(), torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, len(x), batch_size):
            correct += int((net(x[start:start + batch_size]).argmax(1) == y[start:start + batch_size]).sum())
    return 100.0 * correct / len(x)


def mode_accuracies(model, x, y, batch_size=64):
    """{mode: accuracy (%)} of ``model`` on ``x``, ``y`` in the three modes of ``measured_accuracy``."""
    return {mode: measured_accuracy(model, x, y, mode, batch_size) for mode in ("eval", "dropout", "train")}


def format_mode_accuracies(rows):
    """{label: ``mode_accuracies``} as a table, one line per network."""
    lines = [f"{'':<34} {'eval mode':>10} {'dropout on':>11} {'train mode':>11}"]
    lines += [f"{label:<34} {a['eval']:>9.2f}% {a['dropout']:>10.2f}% {a['train']:>10.2f}%"
              for label, a in rows.items()]
    return "\n".join(lines)


def format_passes(passes, index=0, top=3):
    """``dropout_passes`` for image ``index``: each pass's ``top`` digits and their probabilities."""
    lines = []
    for key, what in (("on", "dropout on,"), ("off", "dropout off,")):
        for n, p in enumerate(passes[key], 1):
            best = p[index].topk(top)
            shown = "  ".join(f"{int(d)}: {100 * float(v):8.4f}%" for v, d in zip(best.values, best.indices))
            lines.append(f"{what:<12} pass {n}:  {shown}")
    return "\n".join(lines)


# --- global average pooling (step 6) -----------------------------------------------------------

def shapes_through(model, x, names=None):
    """(name, output shape without the batch, parameters) of each top-level layer of ``model`` as the
    batch ``x`` passes, in the order they run; only ``names`` if given."""
    seen = []
    def hook(name):
        def keep(module, args, output):
            seen.append((name, tuple(output.shape[1:]), sum(p.numel() for p in module.parameters())))
        return keep
    hooks = [m.register_forward_hook(hook(n)) for n, m in model.named_children() if names is None or n in names]
    net_mode = model.training
    model.eval()
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        model(x)
    model.train(net_mode)
    for h in hooks:
        h.remove()
    return seen


def format_shapes(rows):
    """``shapes_through`` as lines: layer, output (channels x height x width), parameters."""
    return "\n".join(f"{name:<6} -> {'x'.join(map(str, shape)):<8} {count:>6,} parameters"
                     for name, shape, count in rows)


def channel_mixing(layer, channels=10, size=7, seed=0):
    """Which input channels each output of ``layer`` listens to: for every input channel in turn,
    add 1 to that channel's whole map (``channels`` x ``size`` x ``size``, random otherwise) and
    measure how much each output changes. Returns a (outputs x inputs) tensor: a 7x7 convolution
    fills it, global average pooling changes only the output of the channel that moved (+1)."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, channels, size, size, generator=g)
    layer = copy.deepcopy(layer).eval().cpu()
    with torch.no_grad():
        ref = layer(base).flatten()
        cols = []
        for c in range(channels):
            bumped = base.clone()
            bumped[:, c] += 1
            cols.append((layer(bumped).flatten() - ref).abs())
    return torch.stack(cols, 1)


def plot_mixing(matrices, title="", save=None):
    """``matrices`` ({label: outputs x inputs}) side by side: how much each output moves when one
    input channel moves (``channel_mixing``); white is not at all, any change is tinted, and each
    panel's colour bar gives the scale."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.3 * len(matrices), 3.4), squeeze=False)
    cmap = plt.get_cmap("Blues").with_extremes(bad="white")  # white: no change at all; any change a tint
    for ax, (label, m) in zip(axes[0], matrices.items()):
        top = float(m.max())
        image = ax.imshow(m.masked_fill(m <= 1e-6 * top, float("nan")).numpy(), cmap=cmap,
                          vmin=-0.25 * top, vmax=top)
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="change of the output")
        bar.ax.set_ylim(0, top)  # the tint below 0 only lifts the smallest changes off white
        ax.set(xlabel="input channel moved by +1", ylabel="output (class score)", title=label,
               xticks=range(m.shape[1]), yticks=range(m.shape[0]))
        ax.tick_params(labelsize=7)
        ax.title.set_fontsize(9)
    return finish(fig, title, save)


# --- rotation (step 9) ---------------------------------------------------------------------------

def rotated(x, degrees, fill=0.0):
    """Every image of ``x`` turned by exactly ``degrees`` (the augmentation's own ``affine``)."""
    return affine(x, torch.full((len(x),), float(degrees), device=x.device), fill=fill)


def rotation_accuracy(model, x, y, angles, fill=0.0):
    """{angle: accuracy (%)} of ``model`` (eval mode) on ``x`` turned by +angle and by -angle
    (the two averaged)."""
    out = {}
    for angle in angles:
        accs = [measured_accuracy(model, rotated(x, sign * angle, fill), y, batch_size=1000) for sign in (1, -1)]
        out[angle] = sum(accs) / len(accs)
    return out


# --- the OneCycle schedule (step 10) -------------------------------------------------------------

def plot_schedule(lrs, momenta, steps_per_epoch, title="", save=None):
    """The learning rate (left) and the momentum (right) at every batch, against the epoch."""
    epochs = [i / steps_per_epoch for i in range(len(lrs))]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, values, label in zip(axes, (lrs, momenta), ("learning rate", "momentum")):
        ax.plot(epochs, values, color="tab:blue")
        ax.set(xlabel="epoch", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    return finish(fig, title, save)


# --- label smoothing and a head that folds (step 12) ---------------------------------------------

def smoothed_target(label, classes=10, smoothing=0.0):
    """The distribution the smoothed loss trains towards: 1 - smoothing + smoothing / classes on
    the right class, smoothing / classes on every other (``F.cross_entropy``'s definition)."""
    target = torch.full((classes,), smoothing / classes)
    target[label] += 1 - smoothing
    return target


def loss_by_confidence(p, smoothing, classes=10):
    """The training loss (``training_loss(smoothing)``) of one image whose network gives the right
    class probability ``p`` and shares the rest evenly among the others, for each ``p``."""
    from .train import training_loss
    p = torch.as_tensor(p, dtype=torch.float64)
    probs = torch.cat([p[:, None], ((1 - p) / (classes - 1))[:, None].expand(-1, classes - 1)], 1)
    loss = training_loss(smoothing)
    return torch.stack([loss(row.log()[None], torch.zeros(1, dtype=torch.long)) for row in probs])


def plot_smoothing(p, losses, title="", save=None):
    """The loss against the right class's probability, one curve per smoothing ({label: losses}),
    each curve's lowest point marked."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for label, values in losses.items():
        best = int(values.argmin())
        ax.plot(p, values, label=label)
        ax.plot(p[best], values[best], "o", color=ax.lines[-1].get_color())
    ax.set(xlabel="probability the network gives the right class", ylabel="loss", yscale="log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return finish(fig, title, save)


def fold_head(model):
    """The last conv, its BatchNorm, the GAP and the 1x1 head of a ``SlimNet`` (in eval mode) as one
    3x3 conv with a bias: W = diag(s2) H diag(s1) W6 and b = s2 (H b1) + b2, where a BatchNorm in
    eval mode is y = s x + b (s = gamma / sqrt(var + eps), b = beta - mean s). It computes the
    same logits only when no ReLU sits between the conv and the head: a linear layer after a linear
    layer adds weights, not power."""
    conv6, bn6 = model.conv6[0], model.conv6[-1]
    head, bn_head = model.head[0], model.head[-1]
    if model.deep or conv6.groups != 1:
        raise ValueError("fold_head folds a SlimNet whose last conv is a plain 3x3 (not deep, not separable)")

    def scale_shift(bn):
        s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        return s, bn.bias - bn.running_mean * s
    (s1, b1), (s2, b2) = scale_shift(bn6), scale_shift(bn_head)
    h = head.weight[:, :, 0, 0]
    folded = nn.Conv2d(conv6.in_channels, h.shape[0], conv6.kernel_size, bias=True,
                       device=conv6.weight.device, dtype=conv6.weight.dtype)
    with torch.no_grad():
        folded.weight.copy_(torch.einsum("o,oc,c,cikl->oikl", s2, h, s1, conv6.weight))
        folded.bias.copy_(s2 * (h @ b1) + b2)
    return folded


def folded_difference(model, x):
    """The largest difference between ``model``'s log-probabilities for the images ``x`` and those of
    the same network with its last conv, GAP and head replaced by ``fold_head``'s one conv."""
    model = copy.deepcopy(model).eval().cpu()
    x = x.cpu()
    with torch.no_grad():
        h = model.pool(model.conv3(model.conv2(model.conv1(x))))
        h = model.conv5(model.conv4(h))
        folded = torch.log_softmax(fold_head(model)(h).mean((2, 3)), 1)
        return float((model(x) - folded).abs().max())


__all__ = ["seeded", "BlockOutput", "block_outputs", "format_block_outputs", "ParameterRow", "parameter_formula", "parameter_rows", "format_parameter_rows",
           "plot_parameters", "batchnorm_by_hand", "batchnorm_check", "ChannelStats", "layer_stats",
           "format_layer_stats", "block_output_std", "plot_batchnorm", "dropout_layers", "dropout_passes",
           "dropout_mask_stats", "measured_accuracy", "mode_accuracies", "format_mode_accuracies", "format_passes",
           "shapes_through", "format_shapes", "channel_mixing", "plot_mixing", "rotated",
           "rotation_accuracy", "plot_schedule", "smoothed_target", "loss_by_confidence",
           "plot_smoothing", "fold_head", "folded_difference"]
