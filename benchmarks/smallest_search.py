"""Step 11's search: the smallest network that holds 99.4 % in each of the last 5 epochs, every seed.

Each candidate is step 11's configuration (step 10's training) with its network's widths, and
for some its training, changed. Every run writes one record, Data/search/<candidate>_seed<S>.json;
a candidate and seed already recorded is skipped, so a search can be resumed or extended.
``--plot`` draws every recorded candidate's parameters against its worst seed's lowest test
accuracy over the last 5 epochs (averaged weights), Data/figures/step11_pareto.png.

    python benchmarks/smallest_search.py --list
    python benchmarks/smallest_search.py --candidates slim-8-12 slim-8-10 --seeds 1 2
    python benchmarks/smallest_search.py --plot
"""
import argparse
import json
import re
import sys
from dataclasses import asdict, replace

import matplotlib.pyplot as plt
import torch

from era_mnist.model import build
from era_mnist.utils import TARGET, is_smoke, load_mnist, load_record, output_dir, pick_device, run_step, step_config
from era_mnist.utils.experiment import SMOKE_EPOCHS, StepConfig
from era_mnist.utils.records import refuse_overwrite, shown, write_atomically

CANDIDATES = {  # name -> changes to step_config(11)
    "slim-8-12": dict(net=dict(c1=8, c2=12)),
    "slim-8-10": dict(net=dict(c1=8, c2=10)),
    "slim-10-10": dict(net=dict(c1=10, c2=10)),                  # a wider first block
    "sep-12-20": dict(net=dict(c1=12, c2=20, separable=True)),   # depthwise-separable after the pool
    "sep-10-16": dict(net=dict(c1=10, c2=16, separable=True)),
    "slim-8-12-shift": dict(net=dict(c1=8, c2=12), max_shift=0.1),  # stronger augmentation
    "slim-8-10-shift": dict(net=dict(c1=8, c2=10), max_shift=0.1),
    "slim-8-12-peak0.1": dict(net=dict(c1=8, c2=12), max_lr=0.1),  # a higher OneCycle peak
    "slim-8-12-warm0.2": dict(net=dict(c1=8, c2=12), pct_start=0.2),  # a shorter warm-up
}
LAST = 5  # the claim: at or above the target in each of the last 5 epochs


def candidate_config(name):
    """step_config(11) changed as the candidate says (shortened as run_step does in smoke mode);
    a clear error for an unknown name."""
    if name not in CANDIDATES:
        sys.exit(f"unknown candidate {name!r}: choose from {', '.join(CANDIDATES)} (see --list)")
    config = step_config(11, **CANDIDATES[name])
    return replace(config, epochs=min(config.epochs, SMOKE_EPOCHS)) if is_smoke() else config


def params(config):
    return sum(p.numel() for p in build(11, **config.net).parameters())


def search(names, seeds, device):
    """Train every candidate and seed not yet recorded; one record per run."""
    folder = output_dir("search")
    data = load_mnist(device)
    for name in names:
        config = candidate_config(name)
        for seed in seeds:
            path = folder / f"{name}_seed{seed}.json"
            if path.exists() and not is_smoke():
                print(f"{name} seed {seed}: already recorded in {shown(path)}")
                continue
            print(f"{name} ({params(config):,} parameters) seed {seed}", flush=True)
            record = run_step(config, seed, device, data, save=False)[1]
            if not is_smoke():
                refuse_overwrite(path)
            write_atomically(path, json.dumps(asdict(record), indent=1) + "\n")
            print(f"Record written to {shown(path)}")


def results():
    """{candidate: (parameters, {seed: lowest averaged-weights test accuracy over the last 5 epochs})}
    from the records of the current mode, only where the record still matches the candidate."""
    found = {}
    for path in sorted(output_dir("search").glob("*_seed*.json")):
        name, seed = re.fullmatch(r"(.+)_seed(\d+)", path.stem).groups()
        record = load_record(path)
        if name in CANDIDATES and StepConfig(**record.config) == candidate_config(name):
            found.setdefault(name, (record.params, {}))[1][int(seed)] = record.last_min(LAST, "ema_test_acc")
    return found


def pareto_table(found):
    """One line per candidate, fewest parameters first."""
    lines = [f"{'candidate':<20}{'params':>7}{'seeds':>6}{'worst':>7}{'mean':>7}  holds 99.4 on every seed"]
    for name, (n, by_seed) in sorted(found.items(), key=lambda kv: kv[1][0]):
        worst, mean = min(by_seed.values()), sum(by_seed.values()) / len(by_seed)
        lines.append(f"{name:<20}{n:>7,}{len(by_seed):>6}{worst:>7.2f}{mean:>7.2f}  "
                     f"{'yes' if worst >= TARGET else 'no'}")
    return "\n".join(lines)


def plot(found, label):
    """Parameters against the worst seed's last-5 minimum; the candidates no other beats on
    both (fewer parameters and a better worst seed) are joined."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    points = sorted((n, min(s.values()), len(s), name) for name, (n, s) in found.items())
    for n, worst, seeds, name in points:
        ax.scatter(n, worst, color="tab:green" if worst >= TARGET else "tab:red", zorder=3)
        ax.annotate(f"{name} ({seeds} seeds)", (n, worst), fontsize=7, xytext=(4, 3), textcoords="offset points")
    front, best = [], float("-inf")
    for n, worst, *_ in points:  # fewest parameters first
        if worst > best:
            front.append((n, worst))
            best = worst
    ax.plot(*zip(*front), color="tab:gray", lw=1, zorder=2)
    ax.axhline(TARGET, color="black", ls="--", lw=1, label="99.4 %")
    ax.axvline(5000, color="tab:blue", ls=":", lw=1, label="5,000 parameters")
    ax.set(xlabel="parameters", ylabel=f"worst seed: lowest test acc. of the last {LAST} epochs (%)",
           title=f"Step 11 search: {label}")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = output_dir("figures") / "step11_pareto.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list", action="store_true", help="list the candidates and their parameter counts")
    p.add_argument("--candidates", nargs="+", default=[], metavar="NAME", help="candidates to train")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--plot", action="store_true", help="print the table and draw the chart from the records")
    args = p.parse_args(argv)
    if args.list:
        for name in CANDIDATES:
            print(f"{name:<20}{params(candidate_config(name)):>7,}  {CANDIDATES[name]}")
    if args.candidates:
        search(args.candidates, args.seeds, pick_device(args.device))
    if args.plot:
        found = results()
        if not found:
            sys.exit(f"no search records in {shown(output_dir('search'))}: train candidates first")
        print(pareto_table(found))
        records = [load_record(p) for p in output_dir("search").glob("*.json")]
        devices = sorted({r.device for r in records})
        label = (f"{'smoke' if is_smoke() else 'full'} runs on {', '.join(devices)}, torch "
                 f"{torch.__version__}, {candidate_config(next(iter(found))).epochs} epochs each")
        print(f"Chart written to {shown(plot(found, label))}")


if __name__ == "__main__":
    main()
