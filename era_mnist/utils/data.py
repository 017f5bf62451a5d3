"""MNIST from the repository's own copy, held as normalised tensors on the training device."""
import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import MNIST

from .records import is_smoke

REPO_ROOT = Path(__file__).resolve().parents[2]
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SMOKE_TRAIN, SMOKE_TEST = 2000, 1000


class DataError(RuntimeError):
    """The MNIST files are missing or corrupt; the message says which file and what to do."""


def data_root(root=None):
    """The folder holding ``MNIST/raw/``: ``root``, else $ERA_MNIST_DATA, else the repository's Data/."""
    return Path(root or os.environ.get("ERA_MNIST_DATA") or REPO_ROOT / "Data")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_raw(root=None):
    """Check the four ``.gz`` files against SHA256SUMS and decompress each once beside it.

    Decompression writes to a temporary file that is renamed only when complete, so an
    interrupted run leaves nothing half-written. Returns the data root.
    """
    root = data_root(root)
    raw = root / "MNIST" / "raw"
    fix = (f"restore it from the repository (git checkout -- {raw.name}) or point ERA_MNIST_DATA "
           "at a folder holding MNIST/raw/ with the four .gz files and their SHA256SUMS")
    sums_file = raw / "SHA256SUMS"
    if not sums_file.is_file():
        raise DataError(f"MNIST checksum list {sums_file} is missing: {fix}")
    sums = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line.strip())
    for name in RAW_FILES:
        gz = raw / f"{name}.gz"
        if not gz.is_file():
            raise DataError(f"MNIST file {gz} is missing: {fix}")
        if _sha256(gz) != sums.get(gz.name):
            raise DataError(f"MNIST file {gz} is corrupt (its SHA256 does not match SHA256SUMS): {fix}")
        target = raw / name
        if target.is_file():
            continue
        fd, tmp = tempfile.mkstemp(dir=raw, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as out, gzip.open(gz, "rb") as src:
                while block := src.read(1 << 20):
                    out.write(block)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    return root


@dataclass
class MnistData:
    """Normalised images (N, 1, 28, 28) and labels on one device, plus the normalisation used."""
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    mean: float
    std: float
    smoke: bool

    @property
    def background(self):
        """The normalised value of a blank (zero) pixel: what augmentation fills in."""
        return -self.mean / self.std


def load_mnist(device="cpu", root=None, smoke=None):
    """MNIST on ``device``, normalised with the training set's own mean and std.

    In smoke mode (default: $ERA_MNIST_SMOKE) only the first 2,000 training and 1,000 test
    images are kept, so that every code path runs in seconds.
    """
    root = prepare_raw(root)
    smoke = is_smoke() if smoke is None else smoke
    train, test = (MNIST(root, train=t, download=False) for t in (True, False))
    train_x, test_x = (d.data.float().div_(255) for d in (train, test))
    mean, std = train_x.mean().item(), train_x.std().item()

    def to_device(x, labels, limit):
        return ((x[:limit] - mean) / std).unsqueeze(1).to(device), labels[:limit].to(device)

    n_train, n_test = (SMOKE_TRAIN, SMOKE_TEST) if smoke else (None, None)
    tx, ty = to_device(train_x, train.targets, n_train)
    vx, vy = to_device(test_x, test.targets, n_test)
    return MnistData(tx, ty, vx, vy, mean, std, smoke)


class DeviceLoader:
    """Batches of (images, labels) drawn from tensors already on the device.

    Each pass reshuffles with its own seeded generator (``shuffle=True``) and applies
    ``augment`` (a function of a batch and a generator) to the images of every batch.
    """

    def __init__(self, x, y, batch_size, shuffle=False, augment=None, seed=0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, not {batch_size}")
        self.x, self.y, self.batch_size = x, y, batch_size
        self.shuffle, self.augment = shuffle, augment
        self.generator = torch.Generator(device=x.device).manual_seed(seed)

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        n = len(self.x)
        order = (torch.randperm(n, device=self.x.device, generator=self.generator)
                 if self.shuffle else torch.arange(n, device=self.x.device))
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            xb = self.x[idx]
            if self.augment is not None:
                xb = self.augment(xb, self.generator)
            yield xb, self.y[idx]
