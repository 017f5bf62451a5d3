"""What several steps' Analyses share: the line naming the runs they describe, the comparison of a
step's seeds with the step before, computing a demonstration as its notebook did, and the Analysis
of a step that has no module of its own yet (``default_analysis``)."""
import contextlib
import statistics
from typing import NamedTuple

import torch

from ..search import own_runs
from ..steps import STEPS
from ..steps.records import devices
from ..utils.results import LAST, TARGET, SeedSummary, run_summary, seed_summary, spans

PENDING = "*Written by `python -m era_mnist reproduce` from this step's committed full runs once they exist.*"


def provenance(step, records, folder="Data/runs/"):
    """"*Written from the committed full runs of step 3, seeds 1-3 (`Data/runs/`: cpu, torch 2.14.1); ...*"."""
    seeds = spans(sorted(r.seed for r in records))
    torches = ", ".join(sorted({r.torch_version for r in records}))
    return (f"*Written from the committed full {'run' if len(records) == 1 else 'runs'} of step {step}, "
            f"{'seed' if len(records) == 1 else 'seeds'} {seeds} (`{folder}`: {devices(records)}, torch "
            f"{torches}); a run of your own prints its own Result above.*")


class Seeds(NamedTuple):
    """A step's seeds under the rule beside the step before's: the two summaries, the spread between
    this step's seeds (0 with one seed) and how far the step moves the mean."""
    these: SeedSummary
    those: SeedSummary
    sd: float
    moved: float


def seeds_against(records, base):
    """``Seeds`` of ``records`` against ``base``, the runs of the step before."""
    these, those = seed_summary(records), seed_summary(list(base))
    sd = statistics.stdev(row.low for row in these.rows) if len(these.rows) > 1 else 0.0
    return Seeds(these, those, sd, these.mean - those.mean)


def seeds_bullet(base_step, seeds):
    """The Analysis bullet that judges a step's move against the spread between its seeds."""
    these, those, sd, moved = seeds
    verdict = (('more than twice the spread between seeds: an effect of the step' if abs(moved) > 2 * sd else
                'within twice the spread between seeds: no effect the seeds can show') if sd
               else 'with one seed, no spread to judge it by')
    stand_in = f" (step {base_step} ran one seed: this step's spread stands in for both)" if sd and len(those.rows) == 1 else ""
    shared = [row.seed for row in these.rows if those.low_of(row.seed) is not None]
    diffs = [these.low_of(seed) - those.low_of(seed) for seed in shared]   # seed by seed
    same = len(diffs) > 1 and (all(d > 0 for d in diffs) or all(d < 0 for d in diffs))
    lead = same and abs(moved) <= 2 * sd   # one sign on every seed, yet within the spread
    paired = (f" Seed by seed ({', '.join(map(str, shared))}) it moves by {', '.join(f'{d:+.2f}' for d in diffs)}"
              + (f": {'higher' if diffs[0] > 0 else 'lower'} on every one, a lead for more seeds (chance alone gives "
                 f"one sign on all {len(diffs)} one time in {2 ** (len(diffs) - 1)})." if lead else ".")
              if len(diffs) > 1 else "")
    return (f"- **Seeds {these.seeds}:** the lowest test accuracy of the last {LAST} epochs averages {these.mean:.2f} % "
            f"(worst {these.worst:.2f} %, {these.worst_seeds}), and differs by {sd:.2f} points from seed to seed "
            f"(standard deviation); step {base_step}'s "
            f"{'seeds ' + those.seeds if len(those.rows) > 1 else 'one seed'}: {those.mean:.2f} %. The step moves it "
            f"by {moved:+.2f} points, {verdict}{stand_in}.{paired} "
            "The bullets below follow seed 1, whose curves the plots show.")


@contextlib.contextmanager
def one_thread():
    """Compute on one CPU thread, the random state left as it was: as ``reproduce`` ran the notebook's
    demonstration (OMP_NUM_THREADS=1), so that its numbers come out the same here."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def default_analysis(step):
    """A new step's Analysis until it has a module of its own: its Result and its seeds against the
    step it builds on, from its committed full runs (``PENDING`` while it has none)."""
    records = sorted(own_runs(step).values(), key=lambda r: r.seed)
    if not records:
        return PENDING
    base, run = STEPS[step].base, run_summary(records[0])
    result = (f"- **Result:** {records[0].params:,} parameters; best train accuracy {run.best_train:.2f} %, best "
              f"test accuracy {run.best_test:.2f} % (epoch {run.best_epoch}), {TARGET} % reached "
              f"{'in epochs ' + spans(run.at_target) if run.at_target else 'in no epoch'}.")
    study = STEPS[step].validated_in
    lines = [provenance(step, records, f"Data/search/{study}/" if study else "Data/runs/"), "", result]
    if own_runs(base):
        lines.append(seeds_bullet(base, seeds_against(records, own_runs(base).values())))
    return "\n".join(lines)
