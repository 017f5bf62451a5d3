"""The figures: each function returns a matplotlib Figure and saves it as PNG when given a path."""
import matplotlib.pyplot as plt

from .results import TARGET


def _finish(fig, title, save):
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if save:
        fig.savefig(save, dpi=110)
    return fig


def plot_history(history, title="", save=None):
    """Loss and accuracy per epoch, train and test (and the averaged weights' test, if kept)."""
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key, label in (("train", "train"), ("test", "test"), ("ema_test", "test, averaged weights")):
        if f"{key}_loss" in history[0]:
            ax_loss.plot(epochs, [r[f"{key}_loss"] for r in history], marker=".", label=label)
            ax_acc.plot(epochs, [r[f"{key}_acc"] for r in history], marker=".", label=label)
    ax_acc.axhline(TARGET, color="grey", ls="--", lw=0.8, label=f"{TARGET} %")
    ax_loss.set(xlabel="epoch", ylabel="loss (NLL)", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    ax_acc.set_ylim(max(90.0, min(r["test_acc"] for r in history) - 0.5), 100)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, title, save)


def plot_misclassified(images, labels, preds, mean=0.1307, std=0.3081, title="", save=None, cols=10):
    """A grid of misclassified digits, each titled 'true -> predicted'."""
    n = len(images)
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow((images[i, 0].cpu() * std + mean).clamp(0, 1), cmap="gray_r")
            ax.set_title(f"{int(labels[i])} -> {int(preds[i])}", fontsize=8, color="crimson")
    return _finish(fig, title, save)


def plot_per_class_accuracy(accuracy, title="", save=None):
    """Test accuracy of each digit class, as bars."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    values = [float(a) for a in accuracy]
    ax.bar(range(len(values)), values, color="steelblue")
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set(xlabel="digit", ylabel="accuracy (%)", xticks=range(len(values)),
           ylim=(max(0.0, min(values) - 2), 100.5), title="per-class test accuracy")
    return _finish(fig, title, save)


def plot_confusion_matrix(matrix, title="", save=None):
    """Counts of true (rows) against predicted (columns) classes; the diagonal is left blank."""
    off = matrix.clone()
    off.fill_diagonal_(0)
    fig, ax = plt.subplots(figsize=(5, 4.4))
    image = ax.imshow(off, cmap="Reds")
    for t in range(matrix.shape[0]):
        for p in range(matrix.shape[1]):
            if t != p and matrix[t, p]:
                ax.text(p, t, int(matrix[t, p]), ha="center", va="center", fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10),
           title="confusion matrix (mistakes only)")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _finish(fig, title, save)


def plot_lr(history, title="", save=None):
    """The learning rate at the start of each epoch."""
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([r["epoch"] for r in history], [r["lr"] for r in history], marker=".")
    ax.set(xlabel="epoch", ylabel="learning rate", title="learning rate")
    ax.grid(alpha=0.3)
    return _finish(fig, title, save)


def plot_series(records, title="", save=None):
    """Test accuracy per epoch of several runs (one line per record) on one chart."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for rec in records:
        ax.plot([r["epoch"] for r in rec.history], [r["test_acc"] for r in rec.history],
                marker=".", label=f"step {rec.step} {rec.name} ({rec.params:,} params)")
    ax.axhline(TARGET, color="grey", ls="--", lw=0.8)
    ax.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(97, 100), title="test accuracy per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _finish(fig, title, save)


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
    return _finish(fig, title, save)


def plot_pareto(points, title="", save=None):
    """Parameters against the worst seed's lowest test accuracy of the last 5 epochs, one point
    per (name, parameters, worst, seeds); the points no other beats on both counts (fewer
    parameters, a better worst seed) are joined. Green: holds the target on every seed."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    front, best = [], float("-inf")
    for name, n, worst, seeds in sorted(points, key=lambda p: (p[1], -p[2])):
        ax.scatter(n, worst, color="tab:green" if worst >= TARGET else "tab:red", zorder=3)
        ax.annotate(f"{name} ({seeds})", (n, worst), fontsize=7, xytext=(4, 3), textcoords="offset points")
        if worst > best:
            front.append((n, worst))
            best = worst
    ax.plot(*zip(*front), color="grey", lw=1, zorder=2)
    ax.axhline(TARGET, color="grey", ls="--", lw=0.8, label=f"{TARGET} %")
    ax.axvline(5000, color="tab:blue", ls=":", lw=0.8, label="5,000 parameters")
    ax.set(xlabel="parameters", ylabel="worst seed: lowest test acc., last 5 epochs (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _finish(fig, title, save)
