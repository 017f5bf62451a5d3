"""The searches' records, read without Optuna: step 11's hand-listed candidates and the Optuna
studies of ``era_mnist.study``.

Step 11's search: the smallest network that holds 99.4 % in each of the last 5 epochs, every
seed. Each candidate is step 10's training (batch 128) of step 11's network with its widths, and
for some its training, changed. Every run writes one record, ``<candidate>_seed<S>.json``, in the
search folder (``output_dir("search")``: Data/search/ for the committed search, Data/local/search/
for a user's, the temporary folder in smoke mode); ``benchmarks/smallest_search.py`` trains and
charts them.
"""
import re
from dataclasses import replace
from typing import NamedTuple

from .steps import STEPS, StepConfig, config_changes, network_parts, parameters, step_config
from .steps.experiment import run_config, run_step
from .steps.records import devices, full_records, load_record, origin, write_record
from .utils.data import load_mnist
from .utils.paths import output_dir, repo_relative
from .utils.plots import plot_pareto, plot_seed_spread
from .utils.results import AVERAGED, RULE, TARGET, seed_summary

# The Optuna studies (era_mnist.study): name -> (parameter budget, the networks a trial may sample)
STUDIES = {
    "under-8000": (8000, ("CapacityNet", "SlimNet", "PoolNet")),
    "under-5000": (5000, ("SlimNet", "PoolNet")),
}
STUDY_SEEDS = (1, 2)  # the seeds a trial trains; a chosen trial is validated on others too

CANDIDATES = {  # name -> changes to step 10's training (batch 128), with step 11's network
    # c1 channels before the max-pool, c2 after it
    "slim-8-10": dict(net=dict(c1=8, c2=10)),
    "slim-8-12": dict(net=dict(c1=8, c2=12)),
    "sep-12-20": dict(net=dict(c1=12, c2=20, separable=True)),  # depthwise-separable after the pool
    "slim-8-12-shift": dict(net=dict(c1=8, c2=12), max_shift=0.1),  # random shifts besides rotation
    "slim-8-12-peak0.1": dict(net=dict(c1=8, c2=12), max_lr=0.1),  # a higher OneCycle peak
    "slim-8-12-warm0.2": dict(net=dict(c1=8, c2=12), pct_start=0.2),  # a shorter warm-up
    # batch 64: twice the updates in the same epochs
    "slim-8-10-b64": dict(net=dict(c1=8, c2=10), batch_size=64),
    "slim-8-12-b64": dict(net=dict(c1=8, c2=12), batch_size=64),
    "slim-6-14-b64": dict(net=dict(c1=6, c2=14), batch_size=64),
    "slim-8-13-b64": dict(net=dict(c1=8, c2=13), batch_size=64),
    "slim-10-12-b64": dict(net=dict(c1=10, c2=12), batch_size=64),
    "slim-8-14-b64": dict(net=dict(c1=8, c2=14), batch_size=64),
    "slim-12-12-b64": dict(net=dict(c1=12, c2=12), batch_size=64),
    "slim-10-14-b64": dict(net=dict(c1=10, c2=14), batch_size=64),
}
STEP11 = "slim-8-14-b64"  # the candidate that became step 11: SlimNet's default widths, step_config(11)
PARETO_FIGURE = "step11_pareto.png"
STUDY_FIGURE = "study_front.png"
SEED_FRONT_FIGURE = "step11_ten_seeds.png"


def candidate_config(name, smoke=False):
    """Step 10's configuration for step 11's network, changed as the candidate says (as a run on
    smoke data trains it, with ``smoke``)."""
    if name not in CANDIDATES:
        raise ValueError(f"unknown candidate {name!r}: choose from {', '.join(CANDIDATES)}")
    return run_config(replace(step_config(10), step=11, **CANDIDATES[name]), smoke)


def train_candidates(names, seeds, device=None, data=None):
    """Train every candidate and seed not yet recorded; one record per run."""
    data = data if data is not None else load_mnist(device)
    folder = output_dir("search", "smoke" if data.smoke else None)
    for name in names:
        config = candidate_config(name, data.smoke)
        for seed in seeds:
            path = folder / f"{name}_seed{seed}.json"
            if path.exists() and not data.smoke:
                print(f"{name} seed {seed}: already recorded in {repo_relative(path)}")
                continue
            print(f"{name} ({parameters(config):,} parameters) seed {seed}", flush=True)
            record = run_step(config, seed, device, data, save=False, full_run=True)[1]
            record.origin = origin(search="step 11", candidate=name)
            write_record(record, path, overwrite=data.smoke)


def search_records(smoke=None):
    """{candidate: [RunRecord per seed, in seed order]} of the current mode (or the one ``smoke``
    names), where the record still matches the candidate's configuration."""
    found = {}
    for path in sorted(output_dir("search", smoke).glob("*_seed*.json")):
        if not (named := re.fullmatch(r"(.+)_seed\d+", path.stem)):  # a copy, step05_seed2_old.json: no run
            continue
        name, record = named[1], load_record(path)
        if name in CANDIDATES and StepConfig(**record.config) == candidate_config(name, record.mode == "smoke"):
            found.setdefault(name, []).append(record)
    return {name: sorted(records, key=lambda r: r.seed) for name, records in found.items()}


TRIAL_RECORD = re.compile(r"trial(\d+)_seed(\d+)")  # a study's run: <study>/trial<N>_seed<S>.json


def trial_path(folder, trial, seed):
    """Where a study's trial ``trial`` keeps its run of ``seed``, in the study's ``folder``."""
    return folder / f"trial{trial}_seed{seed}.json"


def trial_records(folder, trial=None):
    """{path: (trial, seed)} of the study runs in ``folder`` (of ``trial`` only, if given), by the
    exact name ``trial_path`` gives: a copy beside them (trial3_seed1_old.json) is no run."""
    found = {path: tuple(map(int, named.groups())) for path in sorted(folder.glob("trial*_seed*.json"))
             if (named := TRIAL_RECORD.fullmatch(path.stem))}
    return {path: ts for path, ts in found.items() if trial is None or ts[0] == trial}


def study_records(study, smoke=None):
    """{trials: [RunRecord per seed, in seed order]} of an Optuna study's finished runs
    (``era_mnist.study``: ``<study>/trial<N>_seed<S>.json`` in the search folder), read as records.
    Runs of one configuration go together: a trial retried after its worker died reads back the
    seeds it had finished, and a validation adds seeds to its trial; ``trials`` names the trial
    numbers ("0, 3"). A configuration with fewer seeds than STUDY_SEEDS was pruned or stopped."""
    groups = []  # (trial numbers, config, records)
    for path, (number, _) in trial_records(output_dir("search", smoke) / study).items():
        record = load_record(path)
        config = StepConfig(**record.config)
        for numbers, known, records in groups:
            if known == config:
                break
        else:
            numbers, records = set(), []
            groups.append((numbers, config, records))
        numbers.add(number)
        records.append(record)
    return {", ".join(map(str, sorted(numbers))): sorted(records, key=lambda r: r.seed)
            for numbers, _, records in sorted(groups, key=lambda g: min(g[0]))}


def step_runs(step):
    """The committed runs of the study trial that is ``step``'s recipe (``Step.validated_in`` and
    ``Step.trial``: its records in Data/search/<study>/ name that origin), in seed order."""
    study, trial = STEPS[step].validated_in, STEPS[step].trial
    if study is None:
        raise ValueError(f"step {step} was not chosen from a study")
    wanted = origin(study=study, trial=trial)
    records = [load_record(path) for path in trial_records(output_dir("search", False) / study, trial)]
    return sorted((r for r in records if r.origin == wanted), key=lambda r: r.seed)


def is_step_recipe(step, config):
    """Whether a search record's ``config`` (a dict) is ``step``'s own network and training."""
    config, (cls, widths) = StepConfig(**config), network_parts(step)
    return ((config.arch, config.net or {}) == (cls.__name__, widths)
            and replace(config, step=step, arch=None, net=None) == step_config(step))


class StudyRow(NamedTuple):
    """One configuration of a study: its trial numbers ("0, 3"), network, parameters, changes to step
    10's training, seeds, the worst seed's and the mean last-window minimum, the seeds that hold."""
    trials: str
    network: str
    params: int
    changes: str
    seeds: int
    worst: float
    mean: float
    held: int


def study_rows(study, smoke=None):
    """A ``StudyRow`` per configuration of a study."""
    rows = []
    for numbers, records in study_records(study, smoke).items():
        network, changes = recipe(StepConfig(**records[0].config))
        seeds = seed_summary(records, AVERAGED)
        rows.append(StudyRow(numbers, network, records[0].params, changes, len(records), seeds.worst, seeds.mean,
                             seeds.held))
    return rows


def study_text(study, smoke=None):
    """A study's configurations as text: those that trained every study seed (or more) first, the
    best worst seed first; then the ones pruned or stopped short; then what the finished runs cost."""
    lines = [f"{'trials':<8}{'params':>7}{'seeds':>6}{'worst':>7}{'mean':>7}{'hold':>6}  network; changes to step 10"]
    lines += [f"{numbers:<8}{n:>7,}{seeds:>6}{worst:>7.2f}{mean:>7.2f}{held:>6}  {network}; {changes}"
              for numbers, network, n, changes, seeds, worst, mean, held
              in sorted(study_rows(study, smoke), key=lambda row: (row[4] < len(STUDY_SEEDS), -row[5]))]
    return "\n".join(lines + [study_cost(study, smoke)])


def study_cost(study, smoke=None):
    """What a study's finished runs took, as text: their wall-clock time summed (a run the pruner
    stopped leaves no record, so its time is not counted)."""
    runs = [r for records in study_records(study, smoke).values() for r in records]
    threads = ", ".join(map(str, sorted({r.cpu_threads for r in runs})))
    return (f"{len(runs)} finished runs: {sum(r.wall_seconds for r in runs) / 3600:.1f} hours of training summed "
            f"over them, on {devices(runs)} with {threads} CPU thread(s) a run (runs the pruner stopped are not "
            "counted)")


class FrontRow(NamedTuple):
    """A study configuration trained on given seeds: its study, trial numbers, parameters, network,
    changes to step 12's training, those seeds' summary of the averaged weights, their records."""
    study: str
    trials: str
    params: int
    network: str
    changes: str
    summary: object  # results.SeedSummary
    runs: list


def seed_front(seeds, smoke=None):
    """A ``FrontRow`` per study configuration trained on each of ``seeds``, fewest parameters first:
    where the smallest network that holds for many seeds lies, and how the mean falls below it."""
    rows = []
    for study in STUDIES:
        for trials, runs in study_records(study, smoke).items():
            runs = [r for r in runs if r.seed in seeds]
            if len(runs) == len(seeds):
                config = StepConfig(**runs[0].config)
                changes = config_changes(config, step_config(12), skip=("step", "arch", "net"))
                rows.append(FrontRow(study, trials, runs[0].params, recipe(config)[0], changes,
                                     seed_summary(runs, AVERAGED), runs))
    return sorted(rows, key=lambda row: row.params)


def seed_front_text(rows):
    """``seed_front``'s rows as a table."""
    lines = [f"{'study':<11}{'trials':<8}{'params':>7}{'hold':>6}{'worst':>7}{'mean':>7}  network; changes to "
             "step 12's training"]
    lines += [f"{study:<11}{trials:<8}{n:>7,}{s.held:>6}{s.worst:>7.2f}{s.mean:>7.2f}  {network}; {changes or 'none'}"
              for study, trials, n, network, changes, s, _ in rows]
    return "\n".join(lines)


def plot_seed_front(rows, figure=SEED_FRONT_FIGURE):
    """Chart ``seed_front``'s rows, every seed of each configuration and their mean against its
    parameters, and save it as ``figure`` in the figures folder; returns its path."""
    runs = [r for row in rows for r in row.runs]
    path = output_dir("figures") / figure
    title = (f"Optuna studies: each configuration run on seeds {rows[0].summary.seeds}, averaged weights\n"
             f"{runs[0].mode} runs on {devices(runs)}, torch {runs[0].torch_version}, {runs[0].config['epochs']} "
             "epochs each")
    points = [(f"{row.study} #{row.trials}", row.params, [seed.low for seed in row.summary.rows]) for row in rows]
    plot_seed_spread(points, title=title, save=path)
    return path


def recipe(config):
    """A configuration as its network and its changes to step 10's training, as text; an option
    recorded as off (``padded=False``) is left out, as the network it builds is the same."""
    widths = ", ".join(f"{k}={v}" for k, v in (config.net or {}).items() if v is not False)
    return f"{config.arch}({widths})", config_changes(config, step_config(10), skip=("step", "arch", "net"))


def worst_seed(records):
    """(the worst seed's last-5-epoch minimum, the mean of the seeds'), averaged weights."""
    seeds = seed_summary(records, AVERAGED)
    return seeds.worst, seeds.mean


def describe(name):
    """The candidate's changes, as text: 'c1=8, c2=12, batch_size=64'."""
    changes = dict(CANDIDATES[name])
    return ", ".join(f"{k}={v}" for k, v in {**changes.pop("net", {}), **changes}.items())


class CandidateRow(NamedTuple):
    """One hand-listed candidate: its name, parameters, seeds, worst seed's and mean last-window minimum."""
    name: str
    params: int
    seeds: int
    worst: float
    mean: float


def search_rows(found):
    """A ``CandidateRow`` per candidate, fewest parameters first."""
    return sorted((CandidateRow(name, rs[0].params, len(rs), *worst_seed(rs)) for name, rs in found.items()),
                  key=lambda row: (row.params, row.name))


def pareto_table(found):
    """The search as text, one line per candidate."""
    width = max(map(len, found)) + 1
    lines = [f"{'candidate':<{width}}{'params':>7}{'seeds':>6}{'worst':>7}{'mean':>7}  holds {TARGET}  changes"]
    lines += [f"{name:<{width}}{n:>7,}{seeds:>6}{worst:>7.2f}{mean:>7.2f}  {'yes' if RULE.clears(worst) else 'no ':<9}"
              f"{describe(name)}" for name, n, seeds, worst, mean in search_rows(found)]
    return "\n".join(lines)


def pareto_points(found, reference=None):
    """(name, parameters, worst seed's last-5 minimum, seeds) per candidate, fewest parameters
    first; ``reference`` (name, records) adds another step's runs, e.g. step 10's."""
    groups = list(found.items()) + ([reference] if reference else [])
    return sorted((name, rs[0].params, worst_seed(rs)[0], len(rs)) for name, rs in groups)


def search_label(found, what="Step 11 search"):
    """What produced the search's records, for the chart's title."""
    records = [r for rs in found.values() for r in rs]
    return (f"{what}, averaged weights (seeds in brackets): {records[0].mode} runs on {devices(records)}, "
            f"torch {records[0].torch_version}, {records[0].config['epochs']} epochs each")


def plot_search(found, figure=PARETO_FIGURE, what="Step 11 search", chosen=()):
    """Chart a search's records ({name: records}), beside step 10's full runs when they are full
    runs too, and save it as ``figure`` in the figures folder (the smoke one in smoke mode);
    returns its path."""
    full = all(r.mode == "full" for rs in found.values() for r in rs)
    step10 = full_records().get(10) if full else None
    points = pareto_points(found, ("step 10", list(step10.values())) if step10 else None)
    path = output_dir("figures") / figure
    plot_pareto(points, title=search_label(found, what), save=path, chosen=chosen)
    return path


def plot_studies(smoke=None, step=None):
    """Chart every configuration the Optuna studies finished (``study_records``) as study_front.png,
    ``step``'s own recipe (``is_step_recipe``) starred; returns its path, or None before any record."""
    found = {f"{study} #{trials}": records for study in STUDIES
             for trials, records in study_records(study, smoke).items()}
    chosen = [name for name, records in found.items()
              if step and name.startswith(f"{STEPS[step].validated_in} #") and is_step_recipe(step, records[0].config)]
    return plot_search(found, STUDY_FIGURE, "Optuna studies", chosen) if found else None
