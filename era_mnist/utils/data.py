"""MNIST from the repository's own copy, held as normalised tensors on the training device."""
import contextlib
import gzip
import hashlib
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import MNIST

from . import paths

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SMOKE_TRAIN, SMOKE_TEST = 2000, 1000


class DataError(RuntimeError):
    """The MNIST files are missing, corrupt or cannot be written; the message says which file and
    what to do."""


SUMS = "SHA256SUMS"  # sha256sum's format: the four .gz files, then the files they decompress to
STALE_SECONDS = 600  # without flock: a temporary file untouched this long is a killed decompression's


def _locate(root=None):
    """(the folder holding ``MNIST/raw/``, what named it: "root", "ERA_MNIST_DATA" or None for the
    repository's Data/)."""
    if root:
        return Path(root), "root"
    if env := os.environ.get("ERA_MNIST_DATA"):
        return Path(env), "ERA_MNIST_DATA"
    return paths.REPO_ROOT / "Data", None


def data_root(root=None):
    """The folder holding ``MNIST/raw/``: ``root``, else $ERA_MNIST_DATA, else the repository's Data/."""
    return _locate(root)[0]


INSTEAD = {"ERA_MNIST_DATA": "unset ERA_MNIST_DATA", "root": "leave out root="}


def _fix(root, named_by):
    """What to do about a missing or corrupt file in the folder that ``named_by`` pointed at."""
    if named_by is None:
        return "restore it with `git checkout -- Data/MNIST/raw` (from the repository root)"
    return (f"{named_by}={root} points here: restore it by copying the repository's Data/MNIST/raw/ (the four "
            f".gz files and {SUMS}) to {root / 'MNIST' / 'raw'}, or {INSTEAD[named_by]} to use the repository's "
            "own copy")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_sums(path, fix):
    """{file name: SHA256} from ``path``; every line well formed, every file listed."""
    if not path.is_file():
        raise DataError(f"MNIST checksum list {path} is missing: {fix}")
    sums = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if line.strip():
            match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](\S+)", line.strip())
            if not match:
                raise DataError(f"{path} line {number} is malformed ({line.strip()!r}; expected "
                                f"'<64 hex digits>  <file name>'): {fix}")
            sums[match[2]] = match[1].lower()
    for name in (*RAW_FILES, *(f"{n}.gz" for n in RAW_FILES)):
        if name not in sums:
            raise DataError(f"{path} lists no checksum for {name}: {fix}")
    return sums


def _remove_stale(raw):
    """Delete the hidden temporary files a killed decompression left: a running one holds a lock
    on its file (``_decompress``), so a file no process holds is a dead one's. Where there is no
    flock (Windows), only those untouched for STALE_SECONDS go."""
    for name in RAW_FILES:
        for tmp in raw.glob(f".{name}.*"):
            with contextlib.suppress(OSError):
                if _unheld(tmp) if fcntl else time.time() - tmp.stat().st_mtime > STALE_SECONDS:
                    tmp.unlink()


def _unheld(path):
    """Whether no process holds a lock on ``path`` (taking it for a moment to see)."""
    with open(path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _decompress(gz, target, expected, fix):
    """Decompress ``gz`` into ``target`` (atomically, its temporary file locked while it is written),
    checking its SHA256 on the way."""
    digest = hashlib.sha256()
    with paths.atomic_file(target, "wb") as out, gzip.open(gz, "rb") as src:
        if fcntl:
            fcntl.flock(out, fcntl.LOCK_EX)
        while block := src.read(1 << 20):
            digest.update(block)
            out.write(block)
        if digest.hexdigest() != expected:
            raise DataError(f"{gz} decompresses to data that does not match {SUMS}'s line for {target.name}: {fix}")


def prepare_raw(root=None):
    """Check the four ``.gz`` files against SHA256SUMS and keep each decompressed beside it, checked
    against SHA256SUMS too: a decompressed file that does not match (truncated, changed) is
    decompressed again, and says so.

    Decompression writes to a temporary file that is renamed only when complete, so an
    interrupted run leaves nothing half-written (a killed one's leftovers go on a later load).
    Returns the data root.
    """
    root, named_by = _locate(root)
    fix = _fix(root, named_by)
    if named_by and not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise DataError(f"{named_by}={root} {what}: point it at a folder holding MNIST/raw/ (the four .gz "
                        f"files and {SUMS}), or {INSTEAD[named_by]} to use the repository's own copy")
    raw = root / "MNIST" / "raw"
    sums = _read_sums(raw / SUMS, fix)
    _remove_stale(raw)
    for name in RAW_FILES:
        gz = raw / f"{name}.gz"
        if not gz.is_file():
            raise DataError(f"MNIST file {gz} is missing: {fix}")
        if _sha256(gz) != sums[gz.name]:
            raise DataError(f"MNIST file {gz} is corrupt (its SHA256 does not match {SUMS}): {fix}")
        target = raw / name
        if target.is_dir():
            raise DataError(f"MNIST file {target} is a folder, not the file decompressed from {gz.name}: move it "
                            "away (or delete it), and it is decompressed again on the next load")
        if target.is_file() and _sha256(target) == sums[name]:
            continue
        if target.exists():
            print(f"MNIST file {target} does not match {SUMS} (truncated or changed): decompressing it again "
                  f"from {gz.name}", file=sys.stderr)
        try:
            _decompress(gz, target, sums[name], fix)
        except OSError as error:
            pointed = f" ({named_by}={root} points here)" if named_by else ""
            raise DataError(f"MNIST folder {raw} cannot be written ({error.strerror or error}), so {name} cannot be "
                            f"decompressed there{pointed}: make it writable, or copy MNIST/raw/ to a writable folder "
                            "and point ERA_MNIST_DATA at the folder above it") from None
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
    smoke = paths.output_mode() == "smoke" if smoke is None else smoke
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
