"""The search for the final models on Optuna (``era_mnist.study``): run a study, print it, or
validate a trial's recipe on new seeds. Needs the search extra: ``pip install -e .[search]``.

    python benchmarks/study.py under-8000 --trials 20 --workers 2   # resumes where it stopped
    python benchmarks/study.py under-8000 --table --evidence         # the committed study
    python benchmarks/study.py under-8000 --plot --evidence          # every study's front: study_front.png
    python benchmarks/study.py under-8000 --validate 7 --seeds $(seq 1 20)

The studies are stored in studies.db beside their records (``--storage URL`` for another
database, e.g. PostgreSQL, shared by workers on several machines); each finished run is also a
JSON record in <study>/. Both are read and written in the git-ignored Data/local/search/, or with
``--evidence`` in Data/search/, the committed search that docs/details.md quotes.
"""
import argparse
import os
import sys

try:
    from era_mnist.__main__ import positive_int, seed_int
    from era_mnist.search import plot_studies
    from era_mnist.steps import final_step
    from era_mnist.study import STUDIES, search, study_table, validate
    from era_mnist.steps import RecordError
    from era_mnist.utils import DataError, DeviceError
    from era_mnist.utils.paths import repo_relative
except KeyboardInterrupt:  # Ctrl-C while torch and Optuna load: nothing has started
    print("interrupted before anything started", file=sys.stderr)
    sys.exit(130)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("study", choices=list(STUDIES), help="the parameter budget's study")
    p.add_argument("--trials", type=positive_int, help="run until the study holds this many finished trials")
    p.add_argument("--workers", type=positive_int, default=1, help="processes side by side (default 1)")
    p.add_argument("--storage", help="a database URL (default: sqlite:///.../search/studies.db)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--table", action="store_true", help="print the study's trials, best first")
    p.add_argument("--plot", action="store_true", help="chart every study's finished configurations "
                                                       "(parameters against the worst seed)")
    p.add_argument("--validate", type=int, metavar="TRIAL", help="train this trial's recipe on --seeds")
    p.add_argument("--seeds", type=seed_int, nargs="+", default=list(range(1, 21)))
    p.add_argument("--evidence", action="store_true",
                   help="read and write Data/search/, the committed search (default: Data/local/search/)")
    args = p.parse_args(argv)
    if args.evidence:
        os.environ["ERA_MNIST_EVIDENCE"] = "1"  # the search folder of this process and of its workers
    try:
        if args.trials:
            search(args.study, args.trials, args.workers, args.storage, args.device)
        if args.validate is not None:
            validate(args.study, args.validate, args.seeds, args.storage, args.device)
        if args.table or args.trials:
            print(study_table(args.study, args.storage))
        if args.plot:
            path = plot_studies(step=final_step())  # the final model's recipe starred
            print(f"Chart written to {repo_relative(path)}" if path else "no study records yet: nothing to chart")
    except (ValueError, DataError, DeviceError, RecordError) as error:  # the message says what to do
        sys.exit(f"error: {error}")  # (a study, trial or storage not there, the data, a record)
    except KeyboardInterrupt:
        print("interrupted: every finished trial and run is kept in the storage and its records; "
              "run the same command again to go on", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
