"""The studies' records, read without Optuna: the Optuna studies of ``era_mnist.study``, and the
hand-listed search that came before them, kept as a finished study.

Every run of a study is one record, ``<study>/trial<N>_seed<S>.json`` in the search folder
(``output_dir("search")``: Data/search/ for the committed studies, Data/local/search/ for a
user's, the temporary folder in smoke mode), its origin that study and trial. The hand-listed
search trained step 10's training (batch 128) of step 11's network with widths, and for some
trials training, changed by hand; its trainer is retired, its records are read like a study's
(docs/migrations/ says how they moved).
"""
import re
from dataclasses import replace
from typing import NamedTuple

from .steps import STEPS, StepConfig, build, config_changes, network, network_parts, step_config
from .steps.records import devices, full_records, load_record, origin
from .utils.paths import output_dir
from .utils.plots import plot_pareto, plot_seed_spread
from .utils.results import AVERAGED, PARAM_LIMIT, seed_summary

# The Optuna studies (era_mnist.study): name -> (parameter budget, the networks a trial may sample)
STUDIES = {
    "under-8000": (PARAM_LIMIT, ("CapacityNet", "SlimNet", "PoolNet")),
    "under-5000": (5000, ("SlimNet", "PoolNet")),
}
STUDY_SEEDS = (1, 2)  # the seeds a trial trains; a chosen trial is validated on others too
HAND_LISTED = "hand-listed"  # the search before the studies: its trials listed by hand, step 11's among them
SEARCHES = (HAND_LISTED, *STUDIES)  # every study with records, the finished hand-listed one first
PARETO_FIGURE = "step11_pareto.png"
STUDY_FIGURE = "study_front.png"
SEED_FRONT_FIGURE = "step11_ten_seeds.png"


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


def own_runs(step):
    """The step's own committed full runs by seed: its study trial's for a step chosen from a study
    (``Step.validated_in``: steps 11 and 12, every seed of their trial), else its runs in Data/runs/."""
    runs = step_runs(step) if STEPS[step].validated_in else full_records().get(step, {}).values()
    return {r.seed: r for r in runs}


def is_step_recipe(step, config):
    """Whether a search record's ``config`` (a dict) is ``step``'s own network, as built, and training."""
    config = StepConfig(**config)
    return (str(network(config)) == str(build(step))
            and replace(config, step=step, arch=None, net=None) == step_config(step))


class StudyRow(NamedTuple):
    """One configuration of a study: its trial numbers ("0, 3"), network, parameters, changes to step
    10's training, seeds, the worst seed's and the mean last-window minimum, the seeds that hold,
    and seed 1's minimum (the seed every trial ran first), None where it did not finish."""
    trials: str
    network: str
    params: int
    changes: str
    seeds: int
    worst: float
    mean: float
    held: int
    first: float | None


def study_rows(study, smoke=None):
    """A ``StudyRow`` per configuration of a study."""
    rows = []
    for numbers, records in study_records(study, smoke).items():
        network, changes = recipe(StepConfig(**records[0].config))
        seeds = seed_summary(records, AVERAGED)
        rows.append(StudyRow(numbers, network, records[0].params, changes, len(records), seeds.worst, seeds.mean,
                             seeds.held, seeds.low_of(1)))
    return rows


def study_text(study, smoke=None):
    """A study's configurations as text: those that trained every study seed (or more) first, the
    best worst seed first; then the ones pruned, stopped short or (hand-listed) given fewer seeds;
    then what the finished runs cost."""
    lines = [f"{'trials':<8}{'params':>7}{'seeds':>6}{'worst':>7}{'mean':>7}{'hold':>6}{'seed 1':>8}  "
             "network; changes to step 10"]
    lines += [f"{numbers:<8}{n:>7,}{seeds:>6}{worst:>7.2f}{mean:>7.2f}{held:>6}{seed_one(first):>8}  {network}; "
              f"{changes or 'none'}" for numbers, network, n, changes, seeds, worst, mean, held, first
              in sorted(study_rows(study, smoke), key=lambda row: (row.seeds < len(STUDY_SEEDS), -row.worst))]
    return "\n".join(lines + [study_cost(study, smoke)])


def seed_one(first):
    """Seed 1's last-window minimum as a table prints it: "-" where seed 1 did not finish."""
    return "-" if first is None else f"{first:.2f}"


def study_cost(study, smoke=None):
    """What a study's finished runs took, as text: their wall-clock time summed (a run the pruner
    stopped leaves no record, so its time is not counted)."""
    runs = [r for records in study_records(study, smoke).values() for r in records]
    threads = ", ".join(map(str, sorted({r.cpu_threads for r in runs})))
    return (f"{len(runs)} finished runs: {sum(r.wall_seconds for r in runs) / 3600:.1f} hours of training summed "
            f"over them, on {devices(runs)} with {threads} CPU thread(s) a run"
            + (" (runs the pruner stopped are not counted)" if study in STUDIES else ""))


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
    for study in SEARCHES:
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
    what = "Optuna studies" if {row.study for row in rows} <= set(STUDIES) else "Studies"
    title = (f"{what}: each configuration run on seeds {rows[0].summary.seeds}, averaged weights\n"
             f"{runs[0].mode} runs on {devices(runs)}, torch {runs[0].torch_version}, {runs[0].config['epochs']} "
             "epochs each")
    points = [(f"{row.study} #{row.trials}", row.params, [seed.low for seed in row.summary.rows]) for row in rows]
    plot_seed_spread(points, title=title, save=path)
    return path


def widths(config):
    """A configuration's network widths as text, "c1=8, c2=12"; an option recorded as off
    (``padded=False``) is left out, as the network it builds is the same."""
    return ", ".join(f"{k}={v}" for k, v in (config.net or {}).items() if v is not False)


def recipe(config):
    """A configuration as its network and its changes to step 10's training, as text."""
    arch = config.arch or network_parts(config.step)[0].__name__  # the hand-listed runs name none: step 11's
    return f"{arch}({widths(config)})", config_changes(config, step_config(10), skip=("step", "arch", "net"))


def pareto_points(found, reference=None):
    """(name, parameters, worst seed's last-5 minimum, seeds) per candidate, fewest parameters
    first; ``reference`` (name, records) adds another step's runs, e.g. step 10's."""
    groups = list(found.items()) + ([reference] if reference else [])
    return sorted((name, rs[0].params, seed_summary(rs, AVERAGED).worst, len(rs)) for name, rs in groups)


def search_label(found, what):
    """What produced the search's records, for the chart's title."""
    records = [r for rs in found.values() for r in rs]
    return (f"{what}, averaged weights (seeds in brackets): {records[0].mode} runs on {devices(records)}, "
            f"torch {records[0].torch_version}, {records[0].config['epochs']} epochs each")


def plot_search(found, figure=PARETO_FIGURE, what="The hand-listed search", chosen=()):
    """Chart a search's records ({name: records}, as ``named_trials`` gives them), beside step 10's
    full runs when they are full runs too, and save it as ``figure`` in the figures folder (the
    smoke one in smoke mode); returns its path."""
    full = all(r.mode == "full" for rs in found.values() for r in rs)
    step10 = full_records().get(10) if full else None
    points = pareto_points(found, ("step 10", list(step10.values())) if step10 else None)
    path = output_dir("figures") / figure
    plot_pareto(points, title=search_label(found, what), save=path, chosen=chosen)
    return path


def named_trials(studies, smoke=None):
    """{"<study> #<trials>": [RunRecord per seed]} of every configuration of ``studies``."""
    return {f"{study} #{trials}": records
            for study in studies for trials, records in study_records(study, smoke).items()}


def plot_studies(smoke=None, step=None):
    """Chart every configuration the Optuna studies finished (``study_records``) as study_front.png,
    ``step``'s own recipe (``is_step_recipe``) starred; returns its path, or None before any record."""
    found = named_trials(STUDIES, smoke)
    chosen = [name for name, records in found.items()
              if step and name.startswith(f"{STEPS[step].validated_in} #") and is_step_recipe(step, records[0].config)]
    return plot_search(found, STUDY_FIGURE, "Optuna studies", chosen) if found else None
