"""Run records: one JSON file per finished run, written atomically and never silently replaced or
lost; where each goes, ``paths.output_dir`` decides (the committed evidence only when asked for)."""
import contextlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from itertools import count
from pathlib import Path

import torch

from ..utils.paths import REPO_ROOT, atomic_file, output_dir, repo_relative, write_atomically
from .table import StepConfig, config_changes, step_config, step_number

KEEP_WEIGHTS_UNDER = 1_000_000  # parameters: smaller networks keep their final weights beside the record


class RecordError(RuntimeError):
    """A run record, or the README block written from them, cannot be read as it is; the message
    names the file and what to do."""


CODE_PATHS = ("era_mnist", "pyproject.toml", "requirements.txt")


def git_commit():
    """The repository's current commit, with ``+dirty`` when the code that trains (the package,
    its requirements) has uncommitted changes; None outside a git checkout. Executed notebooks
    and records, which a run itself writes, do not count."""
    try:
        def git(*args):
            return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True,
                                  text=True, check=True, timeout=10).stdout.strip()
        commit = git("rev-parse", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS) else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model():
    """This machine's CPU as /proc/cpuinfo names it ("AMD EPYC"), else as the platform does, or
    None: a CPU run repeats its record epoch by epoch only on the same kind of CPU (its kernels
    round differently) and at the same thread count."""
    try:
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    except OSError:
        names = []
    return names[0].strip() if names else platform.processor() or None


@dataclass
class RunRecord:
    """Everything a finished run produced, as saved to ``stepNN_seedS.json`` in its runs folder."""
    step: int
    name: str
    seed: int
    params: int
    config: dict
    history: list
    device: str
    torch_version: str
    wall_seconds: float
    mode: str  # "full" (the step's own configuration, the whole set), "custom" (another) or "smoke"
    git_commit: str | None = None
    epochs_at_target: list = field(default_factory=list)
    cpu_threads: int | None = None  # torch's intra-op threads: the same seed differs with another count
    train_path: str | None = None   # "cuda-graph" or "eager" (era_mnist.utils.fast)
    code: str | None = None  # fingerprint of the code that trained it (experiment.training_code)
    origin: dict | None = None  # what produced it (``origin``); a step's own run when none is given
    cpu_model: str | None = field(default_factory=cpu_model)  # the CPU it ran on; None: not recorded then

    def __post_init__(self):
        self.origin = self.origin or origin(step=self.step)

    @property
    def filename(self):
        return record_filename(self.step, self.seed)

    def label(self):
        """One line naming what produced the run, for figure titles; a custom run names its changes."""
        changes = f" ({config_changes(StepConfig(**self.config))})" if self.mode == "custom" else ""
        return (f"step {self.step} ({self.name}), seed {self.seed}, {self.mode} run{changes} on {self.device}, "
                f"torch {self.torch_version}")

    def save(self, folder=None, overwrite=False):
        """Write the record into ``folder`` (default: the mode's runs folder) as ``save_record`` does."""
        folder = Path(folder) if folder else output_dir("runs", self.mode)
        folder.mkdir(parents=True, exist_ok=True)
        return save_record(self, folder / self.filename, overwrite)


def origin(**what):
    """What produced a run, as its record names it: ``step`` (a step's own run, the default),
    ``study`` and ``trial`` (a trial of a study, ``era_mnist.search``), ``step`` and ``ablation``
    (a change undone)."""
    known = ({"step"}, {"study", "trial"}, {"step", "ablation"})
    if set(what) not in known:
        raise ValueError(f"a run's origin names one of {known}, not {sorted(what)}")
    return dict(what)


def save_record(record, path, overwrite=False):
    """Write ``record`` to ``path`` atomically; an existing record is kept and FileExistsError
    raised unless ``overwrite`` is True (the file is created exclusively: a record another process
    wrote a moment before is never replaced either). Returns the path."""
    if not overwrite:
        refuse_overwrite(path)
    write_atomically(path, json.dumps(asdict(record), indent=1) + "\n", exclusive=not overwrite)
    return path


def _number(value, low=-math.inf, high=math.inf):
    """Whether ``value`` is a finite int or float (not a bool) from ``low`` to ``high``."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and low <= value <= high)


ACCURACIES = ("train_acc", "test_acc")  # every row's; ema_test_acc too in a run that averaged its weights


def check_record(record):
    """Raise ValueError where a record's values cannot be a finished run's: wrong types, an
    accuracy outside 0-100, a history that is not its configuration's epochs one by one."""
    from ..utils.train import MAX_SEED
    config = StepConfig(**record.config)
    step_number(config.step)
    origin(**record.origin)
    for name, ok in (("step", record.step == config.step), ("seed", _number(record.seed, 0, MAX_SEED)
                                                            and isinstance(record.seed, int)),
                     ("params", isinstance(record.params, int) and _number(record.params, 1)),
                     ("mode", record.mode in ("full", "custom", "smoke")),
                     ("wall_seconds", _number(record.wall_seconds, 0)),
                     *((key, isinstance(getattr(record, key), str)) for key in ("name", "device", "torch_version"))):
        if not ok:
            raise ValueError(f"its {name} is {getattr(record, name)!r}" + (f", its config's step {config.step}"
                                                                          if name == "step" else ""))
    history = record.history
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise ValueError("its history is not a list of epochs")
    if [row.get("epoch") for row in history] != list(range(1, config.epochs + 1)):
        raise ValueError(f"its history holds epochs {[row.get('epoch') for row in history]}, not the "
                         f"{config.epochs} of its config")
    keys = ACCURACIES + (("ema_test_acc",) if any("ema_test_acc" in row for row in history) else ())
    for row in history:
        if bad := [key for key in keys if not _number(row.get(key), 0, 100)]:
            raise ValueError(f"epoch {row['epoch']}'s {bad[0]} is {row.get(bad[0])!r}, not a percentage")


def load_record(path):
    """A RunRecord read back from its JSON file; a file that is not one, or whose values cannot be a
    finished run's (``check_record``), gives a RecordError naming it."""
    try:
        record = RunRecord(**{"cpu_model": None, **json.loads(Path(path).read_text())})  # older: no CPU named
        check_record(record)
    except (OSError, ValueError, TypeError) as error:
        where = repo_relative(path)
        fix = ("delete it or move it away" if where.is_absolute()
               else f"restore it with `git checkout -- {where}` if it is committed, else delete it")
        raise RecordError(f"run record {where} cannot be read ({error}): {fix}") from None
    return record


def weights_path(path):
    """Where the final weights of the record at ``path`` are kept: beside it, ``.pt`` for ``.json``."""
    return Path(path).with_suffix(".pt")


def save_weights(state, path, exclusive=False):
    """Write ``state`` (state dicts) with torch.save, atomically (``exclusive``: never over other
    weights, as ``atomic_file``); torch's own write errors (a full disk) are raised as OSError."""
    try:
        with atomic_file(path, "wb", exclusive=exclusive) as f:
            torch.save(state, f)
    except RuntimeError as error:  # torch.save's writer reports a failed write so
        raise OSError(f"torch.save failed: {str(error).splitlines()[0]}") from None


@contextlib.contextmanager
def saving(folder):
    """Hold the folder's save lock: archiving, writing a record and writing its weights are one step
    that no other process's save can come between (no record is lost, none sits beside another
    run's weights). Where there is no flock (Windows), the exclusive creates alone guard."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # a file system without locks (CIFS): the exclusive creates guard
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def record_filename(step, seed):
    return f"step{step:02d}_seed{seed}.json"


def record_path(step, seed, where=None):
    """Where the record of ``step`` and ``seed`` lives (``where`` as for ``output_dir``)."""
    return output_dir("runs", where) / record_filename(step, seed)


def reserve(folder, stem, suffix):
    """A new empty file ``folder/stem{suffix}``, else ``stem-2{suffix}``, ``stem-3``...: created
    exclusively, so that no name is ever taken twice, by this process or another."""
    for n in count(1):
        path = Path(folder) / f"{stem}{f'-{n}' if n > 1 else ''}{suffix}"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return path
        except FileExistsError:
            continue


def archive_existing(path):
    """Move the record at ``path`` into ``previous/`` beside it, stamped with its modification
    time (and numbered, should two share a second: no archive is ever overwritten); returns the
    new path, or None when there was no record."""
    path = Path(path)
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
    (path.parent / "previous").mkdir(exist_ok=True)
    target = reserve(path.parent / "previous", f"{path.stem}.{stamp}", path.suffix)
    try:
        os.replace(path, target)
    except BaseException:
        target.unlink()
        raise
    if weights_path(path).exists():  # its weights go with it
        os.replace(weights_path(path), weights_path(target))
    return target


def refuse_overwrite(path):
    """Raise FileExistsError when a record already exists at ``path``."""
    if Path(path).exists():
        raise FileExistsError(f"{path} already exists: a finished run is never replaced silently; "
                              "pass overwrite=True (CLI: --overwrite) to replace it")


UNSAVED = "era_mnist_unsaved"  # in the system's temporary folder: a record that cannot go where it belongs


def write_record(record, path, overwrite=False, weights=None):
    """``save_record``, and say where; ``weights`` (the final state dicts), when given, go beside it
    (``weights_path``). A record that cannot be written there (a read-only folder, a full disk, a
    name already taken) never costs the run: see ``keep_unsaved``. Returns True when the record
    went to ``path``."""
    try:
        save_record(record, path, overwrite)
    except OSError as error:
        keep_unsaved(record, repo_relative(path.parent), error, weights, path.name)
        return False
    print(f"Record written to {repo_relative(path)}", flush=True)
    try:
        if weights is not None:
            save_weights(weights, weights_path(path), exclusive=not overwrite)
    except OSError as error:
        print(f"warning: the final weights could not be written beside the record ({error.strerror or error}), "
              "so they are dropped: the record is complete, but re-rendering its notebook will train it again",
              file=sys.stderr)
    return True


def kept_weights(record, model, ema=None):
    """The final state dicts a record keeps beside it (the averaged weights' too), or None for a
    network of ``KEEP_WEIGHTS_UNDER`` parameters or more."""
    if record.params < KEEP_WEIGHTS_UNDER:
        return dict(model=model.state_dict(), ema=ema.state_dict() if ema else None)
    return None


def save_run(record, overwrite=False, evidence=False, weights=None):
    """Write a finished run's record where its mode puts it (with ``evidence``, a full run goes to
    the committed Data/runs/), an earlier one moved to ``previous/`` beside it (replaced with
    ``overwrite``), and say where; ``weights`` (the final state dicts), when given, go beside it
    (``weights_path``). The folder's save lock (``saving``) keeps concurrent saves of one step and
    seed apart. A folder that cannot be written (read-only, full) never costs the run: see
    ``keep_unsaved``. Returns True when the record went where it belongs."""
    overwrite = overwrite or record.mode == "smoke"  # smoke records are throwaway: a rerun replaces them
    folder = None
    try:
        folder = output_dir("runs", "evidence" if evidence and record.mode == "full" else record.mode)
        path = folder / record.filename
        with saving(folder):
            if not overwrite and (kept := archive_existing(path)):
                print(f"The previous record of this step and seed was moved to {repo_relative(kept)}")
            with contextlib.suppress(OSError):  # else the record cannot go there either: write_record keeps it
                weights_path(path).unlink(missing_ok=True)  # a replaced run's weights never pass for this one's
            return write_record(record, path, overwrite, weights)
    except OSError as error:
        keep_unsaved(record, repo_relative(folder or error.filename or "its runs folder"), error, weights)
        return False


def keep_unsaved(record, home, error, weights=None, name=None):
    """Write a record that could not go ``home`` (as ``name``, default its own file name) into the
    temporary folder's era_mnist_unsaved/, under a name no other record has, with its ``weights``
    when given, or else print it as JSON; and say which, and why."""
    failed = f"error: the record could not be written to {home} ({error.strerror or error})"
    folder, path = Path(tempfile.gettempdir()) / UNSAVED, None
    text = json.dumps(asdict(record), indent=1) + "\n"
    name = name or record.filename
    try:
        folder.mkdir(exist_ok=True)
        path = reserve(folder, Path(name).stem, ".json")
        write_atomically(path, text)
    except OSError as spare_error:
        if path:
            path.unlink(missing_ok=True)
        print(f"{failed}, nor to {folder} ({spare_error.strerror or spare_error}); here it is, to save by hand"
              f"{'' if weights is None else ' (its final weights are dropped)'}:", file=sys.stderr)
        print(text, end="")
        return
    try:
        if weights is not None:
            save_weights(weights, weights_path(path), exclusive=True)
        kept = "" if weights is None else f", its weights beside it ({weights_path(path).name})"
    except OSError as weights_error:
        kept = f"; its final weights are dropped ({weights_error.strerror or weights_error})"
    pair = f"{name} (and its .pt)"
    print(f"{failed}; it was written to {path} instead{kept}: once {home} can be written, first move any {pair} "
          f"there into {home}/previous/ (a record is never overwritten), then move this one there as {pair}",
          file=sys.stderr)


RECORD_NAME = re.compile(r"step\d\d_seed(0|[1-9]\d*)\.json")  # as record_filename names a record


def full_records():
    """{step: {seed: RunRecord}} of the committed full runs under Data/runs/: only a full run of its
    step's own configuration counts (earlier ones in previous/, custom runs, aside), and only a
    file named as save_run names one (a copy such as step05_seed2_old.json is no run of its own);
    a record whose name says another step or seed than it holds gives a RecordError."""
    records = {}
    for path in sorted(output_dir("runs", "evidence").glob("step*_seed*.json")):
        if not RECORD_NAME.fullmatch(path.name):
            continue
        record = load_record(path)
        if path.name != record_filename(record.step, record.seed):
            raise RecordError(f"run record {repo_relative(path)} holds step {record.step}, seed {record.seed}, not "
                              f"the step and seed its name says: restore it with `git checkout -- "
                              f"{repo_relative(path)}` if it is committed, else delete it")
        if record.mode == "full" and StepConfig(**record.config) == step_config(record.step):
            records.setdefault(record.step, {})[record.seed] = record
    return records


def devices(records):
    """The devices that made ``records``, as a figure's or a table's label says them: "cpu", "cpu, cuda"."""
    return ", ".join(sorted({r.device for r in records}))
