"""The line that opens every written Analysis: which committed runs it describes."""
from ..utils.records import devices
from ..utils.results import spans


def provenance(step, records, folder="Data/runs/"):
    """"*Written from the committed full runs of step 3, seeds 1-3 (`Data/runs/`: cpu, torch 2.14.1); ...*"."""
    seeds = spans(sorted(r.seed for r in records))
    torches = ", ".join(sorted({r.torch_version for r in records}))
    return (f"*Written from the committed full {'run' if len(records) == 1 else 'runs'} of step {step}, "
            f"{'seed' if len(records) == 1 else 'seeds'} {seeds} (`{folder}`: {devices(records)}, torch "
            f"{torches}); a run of your own prints its own Result above.*")
