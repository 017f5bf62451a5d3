"""Evaluation beyond accuracy: predictions, the confusion matrix and its largest mistakes."""
import torch


def outputs(model, x, batch_size=2000):
    """``model``'s outputs (log-probabilities) for images ``x``, in eval mode, a batch at a time."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def predict(model, x, batch_size=2000):
    """Predicted classes of ``model`` for images ``x``, in eval mode."""
    return outputs(model, x, batch_size).argmax(1)


def confusion_matrix(preds, labels, classes=10):
    """counts[true, predicted], a (classes x classes) tensor on the CPU."""
    index = labels.cpu() * classes + preds.cpu()
    return torch.bincount(index, minlength=classes * classes).reshape(classes, classes)


def most_confused(matrix, n=3):
    """The ``n`` largest off-diagonal counts of a confusion matrix, and any tied with the last of
    them, as (true, predicted, count), the largest first: which digit the network takes for which,
    most often."""
    off = matrix.clone()
    off.fill_diagonal_(0)
    counts = off.flatten()
    mistakes = int((counts > 0).sum())
    if not mistakes:
        return []
    floor = max(int(counts.topk(min(n, mistakes)).values[-1]), 1)  # the n-th count: its ties go too
    pairs = [(int(i) // matrix.shape[1], int(i) % matrix.shape[1], int(counts[i])) for i in (counts >= floor).nonzero()]
    return sorted(pairs, key=lambda pair: -pair[2])


def misclassified(preds, labels, limit=None):
    """Indices of the wrong predictions (the first ``limit`` of them)."""
    wrong = (preds != labels).nonzero().flatten().cpu()
    return wrong[:limit] if limit else wrong


def confident_mistakes(model, x, labels, limit=None, batch_size=2000):
    """The wrong predictions of ``model`` (whose output is log-probabilities), the surest first:
    (indices, predicted classes, the probability given to each wrong answer), on the CPU."""
    confidence, preds = outputs(model, x, batch_size).exp().max(1)
    wrong = (preds != labels).nonzero().flatten()
    wrong = wrong[confidence[wrong].argsort(descending=True)][:limit]
    return wrong.cpu(), preds[wrong].cpu(), confidence[wrong].cpu()
