"""The figures: each function returns a matplotlib Figure and saves it as PNG when given a path.

Every notebook draws on the same scales, so that two steps' figures compare at a glance: loss and
error (100 - accuracy) on log axes, so that the first epoch and the last tenths of a point fit one
chart, and one colour per curve throughout the series.
"""
import matplotlib.pyplot as plt

from .metrics import confident_mistakes
from .paths import figure_path
from .results import LAST, RULE, TARGET, spans

CURVES = {"train": ("train", "tab:blue"), "test": ("test", "tab:orange"),
          "ema_test": ("test, averaged weights", "tab:green")}


def finish(fig, title, save):
    """Title, tight layout and (with ``save``) the PNG: every figure of the package ends here."""
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if save:
        fig.savefig(save, dpi=110)
    return fig


def plot_history(history, title="", save=None, previous=None):
    """Loss and error (100 - accuracy, %) per epoch, both on log scales so that the first epoch's
    errors and the last epochs' tenths of a point fit one chart: train and test (and the averaged
    weights' test, if kept); ``previous`` (a label, a history), e.g. the step before's run, adds its
    train and test curves, dashed, to compare with."""
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key, (label, colour) in CURVES.items():
        if f"{key}_loss" in history[0]:
            ax_loss.plot(epochs, [r[f"{key}_loss"] for r in history], marker=".", color=colour, label=label)
            ax_err.plot(epochs, [error(r[f"{key}_acc"]) for r in history], marker=".", color=colour, label=label)
    if previous:
        label, old = previous
        for key, shade in (("train", "silver"), ("test", "grey")):
            x = [r["epoch"] for r in old]
            ax_loss.plot(x, [r[f"{key}_loss"] for r in old], ls="--", color=shade, label=f"{key}, {label}")
            ax_err.plot(x, [error(r[f"{key}_acc"]) for r in old], ls="--", color=shade, label=f"{key}, {label}")
    ax_err.axhline(error(TARGET), color="black", ls=":", lw=0.8, label=f"{TARGET} % accuracy")
    ax_loss.set(xlabel="epoch", ylabel="loss (log scale)", yscale="log", title="loss (train: as trained)")
    ax_err.set(xlabel="epoch", ylabel="error, 100 - accuracy (%, log scale)", yscale="log", title="error")
    for ax in (ax_loss, ax_err):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    return finish(fig, title, save)


def error(accuracy):
    """The error (%) of an accuracy (%), kept above 0 for a log scale (100 % accuracy: 0.001 %)."""
    return max(100.0 - accuracy, 1e-3)


def plot_misclassified(images, labels, preds, mean=0.1307, std=0.3081, title="", save=None, cols=10,
                       confidence=None):
    """A grid of misclassified digits, each titled 'true -> predicted' (and, given ``confidence``,
    the probability the network gave its wrong answer, as ``metrics.confident_mistakes`` orders them)."""
    n = len(images)
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow((images[i, 0].cpu() * std + mean).clamp(0, 1).numpy(), cmap="gray_r")
            sure = f"\n{float(confidence[i]):.0%}" if confidence is not None else ""
            ax.set_title(f"{int(labels[i])} -> {int(preds[i])}{sure}", fontsize=8, color="crimson")
    what = "true label -> predicted" + (", and how sure the network was; the surest mistakes first"
                                        if confidence is not None else "")
    return finish(fig, f"{title}\n{what}" if title else what, save)


def show_mistakes(model, data, record, count=20, averaged=False):
    """How many test digits ``model`` gets wrong, then the ``count`` it was surest of, drawn by
    ``plot_misclassified`` and saved as ``record``'s "misclassified" figure; ``averaged`` says in
    the title that ``model`` holds the run's averaged weights."""
    wrong, preds, sure = confident_mistakes(model, data.test_x, data.test_y)
    print(f"{len(wrong)} of {len(data.test_y):,} test images misclassified; the {count} it was surest of:")
    return plot_misclassified(data.test_x[wrong[:count]], data.test_y[wrong[:count]], preds[:count],
                              data.mean, data.std, confidence=sure[:count],
                              title=record.label() + (", averaged weights" if averaged else ""),
                              save=figure_path(record, "misclassified"))


def plot_digits(rows, mean=0.1307, std=0.3081, title="", save=None):
    """Digits in rows: ``rows`` is a list of (label, images, captions), one row each, e.g. a few
    training digits with their labels (step 1), or the same digits before and after augmentation
    (step 9), so that the eye compares them column by column."""
    cols = max(len(images) for _, images, _ in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 1.0, len(rows) * 1.25), squeeze=False)
    for (label, images, captions), line in zip(rows, axes):
        line[0].set_ylabel(label, fontsize=8)
        for i, ax in enumerate(line):
            ax.set(xticks=[], yticks=[])
            ax.spines[:].set_visible(False)
            if i < len(images):
                ax.imshow((images[i, 0].cpu() * std + mean).clamp(0, 1).numpy(), cmap="gray_r")
                ax.set_title(captions[i] if captions else "", fontsize=8)
    return finish(fig, title, save)


def plot_confusion_matrix(matrix, title="", save=None):
    """Counts of true (rows) against predicted (columns) classes; the diagonal is left blank."""
    off = matrix.clone()
    off.fill_diagonal_(0)
    fig, ax = plt.subplots(figsize=(5, 4.4))
    image = ax.imshow(off.numpy(), cmap="Reds")
    dark = off.max() / 2
    for t in range(matrix.shape[0]):
        for p in range(matrix.shape[1]):
            if t != p and matrix[t, p]:
                ax.text(p, t, int(matrix[t, p]), ha="center", va="center", fontsize=7,
                        color="white" if off[t, p] > dark else "black")
    ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10),
           title="confusion matrix (mistakes only)")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return finish(fig, title, save)


def plot_lr(history, title="", save=None):
    """The learning rate at the start of each epoch."""
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([r["epoch"] for r in history], [r["lr"] for r in history], marker=".")
    ax.set(xlabel="epoch", ylabel="learning rate", title="learning rate")
    ax.grid(alpha=0.3)
    return finish(fig, title, save)


def plot_series(steps, title="", save=None):
    """The series as one strip chart of the rule's measure: for each (step, label, each seed's
    lowest test accuracy of the last 5 epochs), a dot per seed and a bar at their mean, green where
    every seed holds the target, red where one does not; the target as a dotted line."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for step, label, lows in steps:
        colour = "tab:green" if all(RULE.clears(low) for low in lows) else "tab:red"
        ax.scatter([step] * len(lows), lows, s=14, color=colour, alpha=0.6, zorder=3)
        ax.hlines(sum(lows) / len(lows), step - 0.3, step + 0.3, color=colour, lw=2.5, zorder=4)
    ax.scatter([], [], s=14, color="grey", label=f"a seed: its lowest test accuracy of the last {LAST} epochs")
    ax.plot([], [], color="grey", lw=2.5, label="the seeds' mean")
    for colour, what in (("tab:green", f"every seed >= {TARGET} %"), ("tab:red", f"a seed < {TARGET} %")):
        ax.scatter([], [], marker="s", color=colour, label=what)
    ax.axhline(TARGET, color="black", ls=":", lw=0.8)
    ax.set(ylabel="test accuracy (%)", xticks=[step for step, _, _ in steps])
    ax.set_xticklabels([label for _, label, _ in steps], rotation=30, ha="right", fontsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return finish(fig, title, save)


def plot_seeds(records, key="ema_test_acc", title="", save=None):
    """Every seed's test accuracy per epoch on one chart, zoomed to 98.8-99.8 %, the last 5 epochs
    (where the rule is judged) shaded: green, a seed that holds the target there; red, one that
    does not (the legend names them)."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    epochs = len(records[0].history)
    ax.axvspan(epochs - LAST + 0.5, epochs + 0.5, color="grey", alpha=0.12, label=f"the last {LAST} epochs")
    failed = [rec.seed for rec in records if not RULE.holds(rec.history, key)]
    for rec in records:
        ax.plot([r["epoch"] for r in rec.history], [r[key] for r in rec.history], lw=0.9, alpha=0.75,
                color="tab:red" if rec.seed in failed else "tab:green")
    ax.plot([], [], color="tab:green", label=f"a seed that holds {TARGET} % in each of them")
    ax.plot([], [], color="tab:red", label=f"seeds that do not: {', '.join(map(str, failed)) or 'none'}")
    ax.axhline(TARGET, color="black", ls=":", lw=0.8)
    ax.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(98.8, 99.8), xlim=(0.5, epochs + 0.5),
           title=f"{len(records)} seeds, test accuracy per epoch (zoomed)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return finish(fig, title, save)


def plot_lr_range(lrs, losses, chosen=None, title="", save=None):
    """The range test's smoothed loss against the learning rate (log scale); ``chosen`` marks a peak."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(lrs, losses)
    if chosen:
        ax.axvline(chosen, color="crimson", ls="--", lw=1, label=f"chosen peak {chosen:g}")
        ax.legend(fontsize=8)
    ax.set(xscale="log", xlabel="learning rate", ylabel="training loss (smoothed)",
           title="learning-rate range test", ylim=(0, min(max(losses), 3 * losses[0])))
    ax.grid(alpha=0.3)
    return finish(fig, title, save)


def plot_pareto(points, title="", save=None, chosen=()):
    """Parameters against the worst seed's lowest test accuracy of the last 5 epochs, one point
    per (name, parameters, worst, seeds): green where every seed holds the target, red where one
    does not; the more seeds, the larger the point, and a one-seed point is hollow (its worst seed
    is its only one). The points of two seeds or more that no other beats on both counts (fewer
    parameters, a better worst seed) are joined and named, as are the ``chosen`` names (starred)."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    front, best = [], float("-inf")
    for name, n, worst, seeds in sorted(points, key=lambda p: (p[1], -p[2])):
        colour = "tab:green" if RULE.clears(worst) else "tab:red"
        ax.scatter(n, worst, s=18 + 10 * seeds, edgecolors=colour, facecolors="none" if seeds == 1 else colour,
                   marker="*" if name in chosen else "o", zorder=3, alpha=0.85)
        on_front = worst > best and seeds > 1  # one seed's worst is its only seed: no front
        if on_front or name in chosen:
            ax.annotate(f"{name} ({seeds})", (n, worst), fontsize=7, xytext=(4, 3), textcoords="offset points")
        if on_front:
            front.append((n, worst))
            best = worst
    ax.plot(*zip(*front), color="grey", lw=1, zorder=2, label="the front (named; seeds in brackets)")
    for colour, what in (("tab:green", f"every seed >= {TARGET} %"), ("tab:red", f"a seed < {TARGET} %")):
        ax.scatter([], [], color=colour, label=what)
    ax.scatter([], [], s=28, edgecolors="grey", facecolors="none", label="one seed (hollow)")
    ax.axhline(TARGET, color="black", ls=":", lw=0.8)
    ax.axvline(5000, color="tab:blue", ls=":", lw=0.8, label="5,000 parameters")
    ax.set(xlabel="parameters", ylabel="worst seed: lowest test acc., last 5 epochs (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return finish(fig, title, save)


def plot_seed_spread(points, title="", save=None):
    """Configurations trained on the same seeds, one column per (name, parameters, each seed's
    lowest test accuracy of the last 5 epochs): a dot per seed and a bar at their mean, green where
    every seed holds the target, red where one does not, named with how many hold. Configurations
    of one size stand side by side."""
    fig, ax = plt.subplots(figsize=(8, 5))
    beside = {}
    for name, n, lows in sorted(points, key=lambda p: p[1]):
        k = beside[n] = beside.get(n, -1) + 1
        x, held = n + 90 * k, sum(RULE.clears(low) for low in lows)
        colour = "tab:green" if held == len(lows) else "tab:red"
        ax.scatter([x] * len(lows), lows, s=14, color=colour, alpha=0.6, zorder=3)
        ax.hlines(sum(lows) / len(lows), x - 40, x + 40, color=colour, lw=2.5, zorder=4)
        ax.annotate(f"{name}: {held}/{len(lows)} hold", (x, max(lows)), fontsize=7, ha="center", va="bottom",
                    rotation=90, xytext=(0, 6), textcoords="offset points")
    ax.scatter([], [], s=14, color="grey", label="a seed: lowest test acc., last 5 epochs")
    ax.plot([], [], color="grey", lw=2.5, label="the seeds' mean")
    for colour, what in (("tab:green", f"every seed >= {TARGET} %"), ("tab:red", f"a seed < {TARGET} %")):
        ax.scatter([], [], marker="s", color=colour, label=what)
    ax.axhline(TARGET, color="black", ls=":", lw=0.8)
    low, high = min(min(p[2]) for p in points), max(max(p[2]) for p in points)
    ax.set(xlabel="parameters", ylabel="test accuracy, averaged weights (%)", ylim=(low - 0.03, high + 0.22))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return finish(fig, title, save)


def plot_ablation(rows, own, title="", save=None):
    """A leave-one-out ablation, seed by seed: one line per change undone (``rows``: (label, {seed:
    measure})), each seed's measure with the change undone (blue, one marker per seed) joined to the
    step's own run of that seed (grey: ``own``, {seed: measure}), a bar at the mean, over a grey band
    from the lowest to the highest of the step's own seeds. Left of its grey partner: undoing the
    change cost that seed accuracy, so the step needed it."""
    fig, ax = plt.subplots(figsize=(11, 0.8 * len(rows) + 1.6))
    markers = {seed: "o^sDvP*X"[i % 8] for i, seed in enumerate(sorted(own))}  # one shape a seed, reused past 8
    lows = list(own.values())
    ax.axvspan(min(lows), max(lows), color="grey", alpha=0.15, label=f"the step's own seeds {spans(sorted(own))}")
    for y, (label, measures) in enumerate(rows):
        for k, (seed, value) in enumerate(sorted(measures.items())):
            at = y + 0.12 * (k - (len(measures) - 1) / 2)  # the seeds one above the other
            ax.plot([own[seed], value], [at, at], color="grey", lw=0.8, zorder=2)
            ax.scatter([own[seed]], [at], s=16, color="grey", marker=markers[seed], zorder=3)
            ax.scatter([value], [at], s=22, color="tab:blue", marker=markers[seed], zorder=3)
        if measures:
            ax.vlines(sum(measures.values()) / len(measures), y - 0.3, y + 0.3, color="tab:blue", lw=2.5, zorder=4)
    for seed, marker in markers.items():
        ax.scatter([], [], s=22, color="tab:blue", marker=marker, label=f"seed {seed} undone (grey: the step's own)")
    ax.plot([], [], color="tab:blue", lw=2.5, label="the mean with the change undone")
    ax.axvline(TARGET, color="black", ls=":", lw=0.8, label=f"{TARGET} %")
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set(xlabel=f"lowest test accuracy of the last {LAST} epochs (%)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return finish(fig, title, save)
