"""Where every output goes, and the one way it is written (atomically).

The run modes are read from the environment here only: $ERA_MNIST_SMOKE (the notebooks' and
CI's way into smoke mode), $ERA_MNIST_EVIDENCE (set by ``reproduce`` for the notebooks it
executes, and by the search scripts' ``--evidence``) and $ERA_MNIST_REUSE (set by ``reproduce``
unless ``--retrain``: a committed run with its weights is reused, not retrained). Everything
else is passed along as data: the smoke flag of the loaded data, the mode of a record.
($ERA_MNIST_DATA, where MNIST lies, is read where the data is found.)
"""
import contextlib
import errno
import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _on(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def output_mode():
    """Where this process writes: "smoke" with $ERA_MNIST_SMOKE (1, true, yes), else "evidence"
    with $ERA_MNIST_EVIDENCE, else "local": a user's own runs, from the CLI or a notebook."""
    return "smoke" if _on("ERA_MNIST_SMOKE") else "evidence" if _on("ERA_MNIST_EVIDENCE") else "local"


def reuse_runs():
    """Whether a committed full run whose weights were kept may stand in for training it again
    ($ERA_MNIST_REUSE, which ``reproduce`` sets so that re-rendering a notebook does not retrain it);
    a user's own run, on Colab or here, always trains."""
    return output_mode() == "evidence" and _on("ERA_MNIST_REUSE")


def output_dir(kind, where=None):
    """The folder for ``kind`` (runs, figures, search, benchmarks), created if need be: the one
    place that decides where output goes. Smoke output goes to the system's temporary folder, a
    user's own to the git-ignored Data/local/, and only the evidence (what the tests compare with
    the README) to Data/ itself.

    ``where``: None for this process's mode (``output_mode``); a mode; a run's mode ("full": this
    process's, "custom": anywhere but the evidence); or a bool, smoke or not (False: the
    committed evidence, to read it).
    """
    mode = output_mode()
    place = {None: mode, "full": mode, "custom": "local" if mode == "evidence" else mode,
             True: "smoke", False: "evidence"}.get(where, where)
    base = {"smoke": Path(tempfile.gettempdir()) / "era_mnist_smoke", "local": REPO_ROOT / "Data" / "local",
            "evidence": REPO_ROOT / "Data"}[place]
    path = base / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def figure_path(record, kind):
    """Where a run's figure goes: beside the run's other output (``output_dir``), named after it."""
    return output_dir("figures", record.mode) / f"{Path(record.filename).stem}_{kind}.png"


def repo_relative(path):
    """``path`` relative to the repository when it lies inside it, for messages."""
    path = Path(path)
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


@contextlib.contextmanager
def atomic_file(path, mode="w", exclusive=False):
    """A file for ``path``, written beside it and renamed into place only when the block ends
    without an error: no reader ever sees half a file, and a failure leaves nothing behind.
    ``exclusive``: FileExistsError rather than replace a file at ``path``, even one another
    process put there while this one wrote."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, 0o644)
        if exclusive:
            _link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _link(tmp, path):
    """Put ``tmp`` at ``path`` unless a file is there: a hard link is created or fails as one step.
    A file system without hard links (some network drives, FAT) is checked, then replaced."""
    try:
        os.link(tmp, path)
    except OSError as error:
        if error.errno == errno.EEXIST:
            raise
        if path.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(tmp, path)


def write_atomically(path, text, exclusive=False):
    """Write ``text`` to ``path`` through ``atomic_file``."""
    with atomic_file(path, exclusive=exclusive) as f:
        f.write(text)
