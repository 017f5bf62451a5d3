"""Step 11's search: train candidate networks, one record per run, and chart parameters against
the worst seed (``era_mnist.search`` holds the candidates).

A candidate and seed already recorded is skipped, so a search can be resumed or extended.
``--plot`` prints the table and draws step11_pareto.png from the records, with step 10's full
runs beside them. Records and chart are read and written in the git-ignored Data/local/, or with
``--evidence`` in Data/search/ and Data/figures/, the committed search that docs/details.md quotes.

    python benchmarks/smallest_search.py --list
    python benchmarks/smallest_search.py --candidates slim-8-12 slim-8-10 --seeds 1 2
    python benchmarks/smallest_search.py --plot --evidence
"""
import argparse
import os
import sys

from era_mnist.__main__ import seed_int
from era_mnist.search import CANDIDATES, candidate_config, pareto_table, plot_search, search_records, train_candidates
from era_mnist.steps import parameters
from era_mnist.utils import load_mnist, output_dir, pick_device
from era_mnist.utils.paths import repo_relative


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list", action="store_true", help="list the candidates and their parameter counts")
    p.add_argument("--candidates", nargs="+", default=[], choices=list(CANDIDATES), metavar="NAME",
                   help="candidates to train (see --list)")
    p.add_argument("--seeds", type=seed_int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--plot", action="store_true", help="print the table and draw the chart from the records")
    p.add_argument("--evidence", action="store_true",
                   help="read and write Data/search/ and Data/figures/, the committed search (default: Data/local/)")
    args = p.parse_args(argv)
    if args.evidence:
        os.environ["ERA_MNIST_EVIDENCE"] = "1"  # this process's search and figures folders
    if args.list:
        for name, changes in CANDIDATES.items():
            print(f"{name:<20}{parameters(candidate_config(name)):>7,}  {changes}")
    if args.candidates:
        device = pick_device(args.device)
        train_candidates(args.candidates, args.seeds, device, load_mnist(device))
    if args.plot:
        found = search_records()
        if not found:
            sys.exit(f"no search records in {repo_relative(output_dir('search'))}: train candidates first, "
                     "or read the committed search with --evidence")
        print(pareto_table(found))
        print(f"Chart written to {repo_relative(plot_search(found))}")


if __name__ == "__main__":
    main()
