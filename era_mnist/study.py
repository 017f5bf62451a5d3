"""The search for the final models on Optuna: one study per parameter budget.

A trial samples a network and its training (``suggest``), trains it on the study's seeds and
reports the averaged weights' test accuracy after every epoch, so that the pruner stops a
trial plainly below the others; its value is the worst seed's lowest test accuracy of the last
5 epochs (the rule). A network over the budget is pruned before it trains. The studies live
in one Optuna storage (default: SQLite ``studies.db`` in the search folder: Data/search/, the
committed search, with ``--evidence``; Data/local/search/ otherwise), so that a search resumes
after an interruption and several workers, or machines given a database URL, share a study;
every finished run also leaves a JSON record in ``<study>/`` beside it (``search.study_records``
reads them without Optuna).

Choosing by test accuracy is a selection on the test set: the honest measure of a chosen
recipe is its validation on seeds the study never saw (``validate``).
Optuna is the search's own dependency (``pip install -e .[search]``): nothing else imports it.
"""
import multiprocessing
import os
import socket
import statistics
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import optuna
import sqlalchemy
import torch
from optuna.exceptions import StorageInternalError
from optuna.pruners import BasePruner
from optuna.samplers import TPESampler
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from .search import STUDIES, STUDY_SEEDS, TRIAL_RECORD, trial_path, trial_records
from .steps import StepConfig, parameters, step_config
from .steps.experiment import run_config, run_step
from .steps.records import load_record, origin, write_record
from .utils.data import load_mnist
from .utils.paths import output_dir, repo_relative
from .utils.results import AVERAGED, LAST, RULE, TARGET
from .utils.train import pick_device

# The first trials of each study: informed guesses, so that the sampler starts from sensible
# recipes: step 10's schedule and averaging (with its warm-up), batch 64, mild affine
# augmentation and label smoothing, on networks of each shape.
_START = dict(batch=64, max_lr=0.05, pct_start=0.3, final_div_factor=1e4, weight_decay=1e-6,
              label_smoothing=0.05, rotation=7.0, max_shift=0.05, max_scale=0.05, ema_decay=0.999, ema_warmup=True)
STARTS = {
    "under-8000": [dict(_START, arch="CapacityNet"),
                   dict(_START, arch="SlimNet", s_c1=8, s_c2=16, s_relu_last=True, s_padded=False, s_deep=False),
                   dict(_START, arch="PoolNet", p_c1=4, p_c2=10, p_c3=14, max_lr=0.1)],
    "under-5000": [dict(_START, arch="PoolNet", p_c1=4, p_c2=8, p_c3=10, max_lr=0.1),
                   dict(_START, arch="SlimNet", s_c1=6, s_c2=12, s_relu_last=True, s_padded=False, s_deep=False)],
}


class MarginPruner(BasePruner):
    """Stop a trial plainly below the others: after the first ``warmup`` epochs of each seed (a
    trial reports its seeds' epochs one after the other, as its config's ``epochs`` says), when
    its averaged weights lie more than ``margin`` points under the median of the finished trials
    at the same epoch of the same seed. The finished trials are the survivors of earlier pruning,
    so their median is near the front: Optuna's percentile pruner, with no margin, pruned trials
    level with the best (99.47 % at epoch 13) on the 0.05-point spread between seeds."""

    def __init__(self, margin=0.1, warmup=8, startup=5):
        self.margin, self.warmup, self.startup = margin, warmup, startup

    def prune(self, study, trial):
        step, epochs = trial.last_step, trial.user_attrs["config"]["epochs"]
        if step is None or (step - 1) % epochs + 1 <= self.warmup:  # early in a seed, even a later one
            return False
        done = [t.intermediate_values[step] for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if step in t.intermediate_values]
        return len(done) >= self.startup and trial.intermediate_values[step] < statistics.median(done) - self.margin


def suggest(trial, archs):
    """The trial's configuration: step 10's training (SGD with Nesterov momentum, OneCycleLR, 15
    epochs, averaged weights) with a sampled network, batch size, schedule, augmentation,
    label smoothing, weight decay and averaging."""
    arch = trial.suggest_categorical("arch", archs)
    if arch == "SlimNet":
        net = dict(c1=trial.suggest_int("s_c1", 4, 12), c2=trial.suggest_int("s_c2", 8, 18),
                   relu_last=trial.suggest_categorical("s_relu_last", [False, True]))
        # the options added later, named only when on: a recipe without them is the one recorded before
        net.update({k: True for k in ("padded", "deep") if trial.suggest_categorical(f"s_{k}", [False, True])})
    elif arch == "PoolNet":
        net = dict(c1=trial.suggest_int("p_c1", 4, 8), c2=trial.suggest_int("p_c2", 6, 14),
                   c3=trial.suggest_int("p_c3", 8, 18))
    else:
        net = None
    return replace(step_config(10), step=11, arch=arch, net=net,
                   batch_size=trial.suggest_categorical("batch", [32, 64, 128]),  # trials 0-34: "batch_size", 64 or 128
                   max_lr=trial.suggest_float("max_lr", 0.02, 0.2, log=True),
                   pct_start=trial.suggest_float("pct_start", 0.15, 0.4),
                   final_div_factor=trial.suggest_float("final_div_factor", 1e2, 1e4, log=True),
                   weight_decay=trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
                   label_smoothing=trial.suggest_float("label_smoothing", 0.0, 0.1),
                   rotation=trial.suggest_float("rotation", 0.0, 12.0),
                   max_shift=trial.suggest_float("max_shift", 0.0, 0.1),
                   max_scale=trial.suggest_float("max_scale", 0.0, 0.1),
                   ema_decay=trial.suggest_categorical("ema_decay", [0.99, 0.995, 0.998, 0.999]),
                   ema_warmup=trial.suggest_categorical("ema_warmup", [False, True]))


def recorded(folder, config, seed):
    """The path of a full-run record in ``folder`` of this very configuration and seed, or None:
    a trial retried after its worker died, or a validation run again, reuses what finished."""
    return next((path for path, (_, s) in trial_records(folder).items()
                 if s == seed and StepConfig(**load_record(path).config) == config), None)


def train_recorded(config, seed, path, data, device, on_epoch=None):
    """Train one seed of the trial whose record goes to ``path`` (``<study>/trial<N>_seed<S>.json``),
    its origin that study and trial, and write it there (never over an existing one); a seed
    already recorded with this configuration beside ``path`` is read back instead (and its
    epochs passed to ``on_epoch`` as if they had just run). Smoke runs always train."""
    if not data.smoke and (found := recorded(path.parent, config, seed)):
        print(f"seed {seed}: read back {repo_relative(found)}", flush=True)
        record = load_record(found)
        for row in record.history if on_epoch else []:
            on_epoch(row)
        return record
    if path.exists() and not data.smoke:  # before the training, not after it
        raise FileExistsError(f"{repo_relative(path)} holds a run of another configuration: this storage's trial "
                              "numbers are not the records' (a new database?); move the old records away, or "
                              "use the storage they came from (--storage)")
    record = run_step(config, seed, device, data, save=False, full_run=True, on_epoch=on_epoch)[1]
    record.origin = origin(study=path.parent.name, trial=int(TRIAL_RECORD.fullmatch(path.stem)[1]))
    write_record(record, path, overwrite=data.smoke)
    return record


def study_folder(name, data):
    """Where the study's records go: the search folder's ``<name>/`` (the smoke one for smoke data)."""
    folder = output_dir("search", "smoke" if data.smoke else None) / name
    folder.mkdir(exist_ok=True)
    return folder


def objective(trial, study_name, data, device):
    budget, archs = STUDIES[study_name]
    config = run_config(suggest(trial, archs), data.smoke)
    n = parameters(config)
    trial.set_user_attr("params", n)
    trial.set_user_attr("config", asdict(config))
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")  # workers may share a study
    if n >= budget:
        raise optuna.TrialPruned(f"{n:,} parameters: over the budget of {budget:,}")
    folder = study_folder(study_name, data)
    lows = []
    for i, seed in enumerate(STUDY_SEEDS):
        def report(row, offset=i * config.epochs):
            trial.report(row[AVERAGED], offset + row["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned(f"seed {seed}, epoch {row['epoch']}: {row[AVERAGED]:.2f} % is below the "
                                         "others")
        print(f"{study_name} trial {trial.number} ({n:,} parameters) seed {seed}: {trial.params}", flush=True)
        record = train_recorded(config, seed, trial_path(folder, trial.number, seed), data, device, report)
        lows.append(RULE.measure(record.history, AVERAGED))
        trial.set_user_attr("last5_min", lows)
    return min(lows)


def storage_url(url=None):
    """``url``, else the SQLite file ``studies.db`` in the search folder (the temporary one in smoke mode)."""
    return url or f"sqlite:///{output_dir('search') / 'studies.db'}"


class StorageError(ValueError):
    """The study's storage cannot be opened as it is; the message names the file (or URL) and what to do."""


def sqlite_file(url):
    """The file of an SQLite URL, or None (another database, an in-memory one, an SQLite URI)."""
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        return None
    database = parsed.database or ""
    return Path(database) if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
        and not database.startswith("file:") else None


def storage_problem(url, error):
    """One line: why the storage at ``url`` cannot be opened (``error``, as SQLAlchemy or Optuna raised
    it), and what to do."""
    while error.__cause__ is not None:  # Optuna's StorageInternalError wraps SQLAlchemy's
        error = error.__cause__
    why = str(getattr(error, "orig", None) or error).splitlines()[0]
    if isinstance(error, sqlalchemy.exc.ArgumentError):
        return (f"--storage {url!r} is no database URL ({why}): give one such as sqlite:///path/to/studies.db "
                "or postgresql://user:password@host:5432/database")
    if missing_driver(error):
        return (f"storage {shown(url)} needs a database driver that is not installed ({why}): for PostgreSQL, "
                "pip install -e .[postgres] (psycopg); or give another --storage")
    if (file := sqlite_file(url)) is None:
        return (f"storage {shown(url)} cannot be opened ({why}): check the URL, and that its database server runs "
                "and can be reached from here")
    where = repo_relative(file)
    if "readonly" in why or "read-only" in why:
        return (f"storage {where} cannot be written ({why}): make it and its folder writable, or copy it to a "
                "writable folder and give that one (--storage sqlite:///PATH)")
    if "not a database" not in why and "malformed" not in why:  # locked, full, a folder it cannot open...
        return f"storage {where} cannot be opened ({why}): free what it names, then run the command again"
    restore = f"restore it with `git checkout -- {where}` if it is committed, else " if not where.is_absolute() else ""
    return (f"storage {where} is no readable Optuna database ({why}): {restore}move it away (a new search starts "
            f"a new one; the runs recorded in {repo_relative(file.parent)}/<study>/ are kept and read back)")


def missing_driver(error):
    """Whether ``error`` is a database driver that is not installed (an ImportError of a module that
    is neither Optuna's, SQLAlchemy's nor ours)."""
    while isinstance(error, ImportError) and error.name is None and (error.__cause__ or error.__context__):
        error = error.__cause__ or error.__context__  # Optuna wraps the driver's own ImportError
    return isinstance(error, ImportError) and (error.name or "optuna").split(".")[0] not in (
        "optuna", "sqlalchemy", "era_mnist")


def shown(url):
    """``url`` as a message may show it: without its password."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def check_sqlite(url, create):
    """Refuse, before SQLAlchemy does with a traceback, an SQLite storage in a missing folder, or
    one that is missing where it is only to be read (which would create it, empty)."""
    file = sqlite_file(url)
    if file is None or file.exists():
        return
    if not create:
        raise StorageError(f"no study database {repo_relative(file)}: run a search first (--trials), or name the "
                           "storage that holds the study (--evidence: the committed Data/search/studies.db; "
                           "--storage URL)")
    if not file.parent.is_dir():
        raise StorageError(f"storage {repo_relative(file)} cannot be created: its folder {repo_relative(file.parent)} "
                           "does not exist; create it, or give another --storage")


def load_study(name, url=None, create=True):
    """The study ``name`` (created when new, with its first trials queued, unless ``create`` is
    False: then only read), in a storage that retries a trial whose worker died (no heartbeat for
    10 minutes) once. A storage that cannot be opened gives a StorageError that names it."""
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}: choose from {', '.join(STUDIES)}")
    url = storage_url(url)
    check_sqlite(url, create)
    try:
        with warnings.catch_warnings():  # heartbeats and grouped TPE are marked experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}} if url.startswith("sqlite")
                                 else None, heartbeat_interval=60, grace_period=600,
                                 heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))
            sampler = TPESampler(multivariate=True, group=True, n_startup_trials=len(STARTS[name]) + 4)  # unseeded:
        if not create:  # read only: a read-only database serves a table
            if name not in (s.study_name for s in storage.get_all_studies()):
                raise ValueError(f"no study {name!r} in {shown(url)}: run a search first, or name the storage that "
                                 "holds it (--evidence: the committed Data/search/studies.db; --storage URL)")
            return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=MarginPruner())
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                    sampler=sampler,  # parallel workers must not draw the same trials
                                    pruner=MarginPruner())
        if not study.trials:
            for params in STARTS[name]:
                study.enqueue_trial(params, skip_if_exists=True)
    except (sqlalchemy.exc.SQLAlchemyError, StorageInternalError, ImportError) as error:
        if isinstance(error, ImportError) and not missing_driver(error):
            raise  # not a missing database driver: a real fault, to be seen whole
        raise StorageError(storage_problem(url, error)) from None
    return study


def _work(name, url, trials, threads, device):
    """One worker process: its own data (and thread count, when given), trials until the study
    has ``trials``."""
    if threads:
        torch.set_num_threads(threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        device = pick_device(device)
        data = load_mnist(device)
        study = load_study(name, url)
        done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        study.optimize(lambda t: objective(t, name, data, device),
                       callbacks=[optuna.study.MaxTrialsCallback(trials, states=done)])
    except KeyboardInterrupt:  # Ctrl-C reaches every worker: the main process says what it means, once
        if multiprocessing.parent_process() is None:
            raise


def search(name, trials, workers=1, url=None, device="auto"):
    """Run study ``name`` until it holds ``trials`` finished (complete or pruned) trials, with
    ``workers`` processes side by side, each on its share of the CPU threads (one worker: torch's
    own count, which OMP_NUM_THREADS sets)."""
    load_study(name, url)  # create it (and queue its first trials) once, before the workers race
    if workers == 1:
        return _work(name, url, trials, None, device)
    threads = max(1, (os.cpu_count() or 1) // workers)
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_work, args=(name, url, trials, threads, device)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if failed := [p.exitcode for p in procs if p.exitcode]:
        raise RuntimeError(f"{len(failed)} of {workers} search workers failed (exit codes {failed}): their "
                           "messages are above; the trials they finished are kept")


def validate(name, number, seeds, url=None, device="auto"):
    """Train trial ``number``'s configuration on ``seeds``, one record each beside the study's
    (the seeds the trial itself trained are read back). Returns the records."""
    trials = load_study(name, url, create=False).trials
    if not 0 <= number < len(trials) or "config" not in trials[number].user_attrs:
        raise ValueError(f"study {name!r} has no trial {number} with a configuration: see --table")
    trial = trials[number]
    device = pick_device(device)
    data = load_mnist(device)
    config = run_config(StepConfig(**trial.user_attrs["config"]), data.smoke)
    folder = study_folder(name, data)
    return [train_recorded(config, seed, trial_path(folder, number, seed), data, device) for seed in seeds]


def study_table(name, url=None):
    """The study as text: one line per trial, best first, and what pruning saved."""
    study = load_study(name, url, create=False)
    state = optuna.trial.TrialState
    rows = sorted(study.trials, key=lambda t: (t.state != state.COMPLETE, -(t.value or 0)))
    lines = [f"study {name}: {len(study.trials)} trials, budget {STUDIES[name][0]:,} parameters, "
             f"value = worst of seeds {', '.join(map(str, STUDY_SEEDS))}: lowest {AVERAGED} of the last {LAST} "
             "epochs",
             f"{'trial':>5} {'state':<9}{'params':>7}{'value':>7}  seeds' last-5 minima  holds {TARGET}  params"]
    for t in rows:
        lows = " ".join(f"{v:.2f}" for v in t.user_attrs.get("last5_min", []))
        done = t.state == state.COMPLETE  # a pruned trial's value is only its last report
        value = f"{t.value:.2f}" if done else "-"
        holds = ("yes" if RULE.clears(t.value) else "no") if done else "-"
        sampled = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items())
        lines.append(f"{t.number:>5} {t.state.name.lower():<9}{t.user_attrs.get('params', 0):>7,}{value:>7}  "
                     f"{lows:<20}  {holds:<10}{sampled}")
    epochs = {t.number: len(t.intermediate_values) for t in study.trials if t.state == state.PRUNED}
    trained = [e for e in epochs.values() if e]
    planned = len(STUDY_SEEDS) * step_config(10).epochs
    lines.append(f"pruned: {len(epochs)} trials ({len(epochs) - len(trained)} over the budget, untrained); "
                 f"the {len(trained)} stopped in training ran {sum(trained)} of their {planned * len(trained)} "
                 f"planned epochs")
    return "\n".join(lines)
