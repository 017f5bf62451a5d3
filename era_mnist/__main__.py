"""Command line: ``python -m era_mnist train --step 10`` and ``python -m era_mnist summary --step 10``."""
import argparse
import os
import sys

try:
    from .ablation import ABLATION_SEEDS, ABLATIONS
    from .steps import STEPS, build, network
    from .steps.records import RecordError
    from .utils.paths import output_mode
    from .utils.results import spans
except KeyboardInterrupt:  # Ctrl-C while torch loads: nothing has started
    print("interrupted before anything started", file=sys.stderr)
    sys.exit(130)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def seed_int(text):
    from .utils.train import MAX_SEED, check_seed
    try:
        seed = int(text)
        check_seed(seed)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_SEED}, got {text!r}") from None
    return seed


def seed_list(text):
    """Seeds as "1-3", "1,2,5" or "4": a list of whole numbers."""
    try:
        seeds = []
        for part in text.split(","):
            low, _, high = part.partition("-")
            seeds += list(range(int(low), int(high or low) + 1))
        for seed in seeds:
            seed_int(str(seed))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected seeds as 1-3, 1,2,5 or 4, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected at least one seed, got {text!r}")
    return seeds


def parser():
    steps = ", ".join(f"{n} {s.name}" for n, s in STEPS.items())
    p = argparse.ArgumentParser(prog="python -m era_mnist", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train one step, print its Result and write its run record "
                                         "(to Data/local/runs/: the committed evidence stays as it is)")
    summary = sub.add_parser("summary", help="print a step's layer table and receptive fields")
    notebook = sub.add_parser("notebook", help="write a new step's notebook from its entry in the step table "
                                               "(era_mnist/steps/table.py), its author's texts marked 'To write'")
    for cmd in (train, summary, notebook):
        cmd.add_argument("--step", type=positive_int, required=True, choices=list(STEPS),
                         metavar="N", help=f"the step: {steps}")
    train.add_argument("--seed", type=seed_int, default=1, help="random seed (default 1)")
    train.add_argument("--epochs", type=positive_int,
                       help="epochs (default: the step's own; any other makes a custom run)")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="where to train (default: CUDA when present, else the CPU)")
    train.add_argument("--smoke", action="store_true",
                       help="a short run on a small subset, written to a temporary folder (as ERA_MNIST_SMOKE=1 does)")
    train.add_argument("--eager", action="store_true",
                       help="on a GPU, run every step eagerly instead of replaying it as a CUDA graph")
    train.add_argument("--overwrite", action="store_true",
                       help="replace an existing run record (default: move it to previous/ beside it)")
    train.add_argument("--evidence", action="store_true",
                       help="write Data/runs/, the committed evidence (the step's own settings only)")
    repro = sub.add_parser("reproduce", help="execute the notebooks in full mode and rewrite the results of the README and docs/details.md")
    repro.add_argument("--steps", type=positive_int, nargs="+", choices=list(STEPS), default=list(STEPS),
                       metavar="N", help="the steps to run (default: all)")
    repro.add_argument("--readme-only", action="store_true", help="only rewrite the README, docs/details.md and the notebooks' Markdown Analyses from the records (no training)")
    repro.add_argument("--retrain", action="store_true",
                       help="train every run again, even one whose kept weights the same training code made")
    ablate = sub.add_parser("ablate", help="train a bundled step with each of its changes undone (leave one out), "
                                           "on --seeds; what is recorded already is read back")
    ablate.add_argument("--step", type=positive_int, required=True, choices=list(ABLATIONS), metavar="N",
                        help=f"the bundled step: {', '.join(map(str, ABLATIONS))}")
    ablate.add_argument("--seeds", type=seed_list, default=list(ABLATION_SEEDS),
                        help=f"e.g. 1-5 or 1,2,5 (default {spans(ABLATION_SEEDS)})")
    ablate.add_argument("--changes", nargs="+", metavar="NAME", help="only these changes (default: every one)")
    ablate.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ablate.add_argument("--smoke", action="store_true", help="a short run on a small subset, in a temporary folder")
    ablate.add_argument("--evidence", action="store_true",
                        help="write Data/ablations/, the committed evidence (default: Data/local/ablations/)")
    return p


def ablate(p, args):
    """Train (or read back) every change's runs of a bundled step, change by change."""
    from .ablation import changes, run_ablation
    from .utils import DataError, DeviceError, load_mnist, pick_device
    named = changes(args.step)
    unknown = set(args.changes or []) - named.keys()
    if unknown:
        p.error(f"step {args.step} has no change {', '.join(sorted(unknown))}: its changes are {', '.join(named)}")
    if args.evidence and args.smoke:
        p.error("--evidence writes Data/ablations/, the committed evidence, which a smoke run never is")
    try:
        device = pick_device(args.device)
        data = load_mnist(device, smoke=args.smoke)
        for name in args.changes or named:
            if named[name].readout:
                print(f"step {args.step} without {name}: nothing to train (read from the step's own runs)")
                continue
            for seed in args.seeds:
                run_ablation(args.step, named[name], seed, data, device, evidence=args.evidence)
    except (DataError, DeviceError, RecordError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the ablations' folder cannot be made (a read-only Data/)
        print(f"error: {error.filename or 'the ablations folder'} cannot be written ({error.strerror or error}): "
              "make it writable, or run without --evidence", file=sys.stderr)
        return 1
    return 0


def print_tables(model):
    from .utils import format_receptive_field_table, receptive_field_table, summary
    summary(model)
    print("Receptive field")
    print(format_receptive_field_table(receptive_field_table(model)))


def check_evidence(p, args):
    """Refuse --evidence for a run that is not one of the step's full runs, before anything loads."""
    own = STEPS[args.step].config.epochs
    if args.epochs not in (None, own):
        p.error(f"--evidence writes Data/runs/, the committed evidence: step {args.step} trains {own} epochs "
                f"there, not --epochs {args.epochs}; drop --evidence to keep this custom run in Data/local/runs/")
    if args.smoke:
        p.error("--evidence writes Data/runs/, the committed evidence, which a smoke run never is: "
                "drop --smoke (and unset ERA_MNIST_SMOKE), or drop --evidence")


def train(args):
    """Train, print the Result, then write the record: a record that cannot be written never costs
    the Result (and is kept elsewhere, see save_run)."""
    from .steps import format_result, kept_weights, run_config, run_step, save_run, step_config
    from .utils import DataError, DeviceError, load_mnist, pick_device
    config = run_config(step_config(args.step, **({"epochs": args.epochs} if args.epochs else {})), args.smoke)
    try:
        device = pick_device(args.device)
        data = load_mnist(device, smoke=args.smoke)  # a data error first, not after the tables
        print(config)
        print_tables(network(config).to(device))
        model, record, ema = run_step(config, seed=args.seed, device=device, data=data, save=False,
                                      cuda_graph=not args.eager)
    except (DataError, DeviceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(format_result(record))
    if ema is not None:
        print(format_result(record, "ema_test_acc"))
    weights = kept_weights(record, model, ema)  # so that re-rendering its notebook reuses the run
    return 0 if save_run(record, overwrite=args.overwrite, evidence=args.evidence, weights=weights) else 1


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.command == "summary":
        print_tables(build(args.step))
        return 0
    if args.command == "notebook":
        from .template import write_step_notebook
        try:
            print(f"wrote {write_step_notebook(args.step)}")
        except FileExistsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "reproduce":
        from .reproduce import reproduce, update_pages
        from .steps import RecordError
        try:
            if args.readme_only:
                update_pages()
            else:
                reproduce(args.steps, retrain=args.retrain)
        except RecordError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    args.smoke = args.smoke or output_mode() == "smoke"  # the variable, as the notebooks and CI set it
    if not args.evidence and output_mode() == "evidence":  # $ERA_MNIST_EVIDENCE, left set by hand
        os.environ["ERA_MNIST_EVIDENCE"] = ""
        print("note: ERA_MNIST_EVIDENCE is ignored here: only --evidence writes the committed evidence under Data/",
              file=sys.stderr)
    if args.command == "ablate":
        try:
            return ablate(p, args)
        except KeyboardInterrupt:
            print("interrupted: the runs recorded so far are kept; run the same command again to go on",
                  file=sys.stderr)
            return 130
    if args.evidence:
        check_evidence(p, args)
    try:
        return train(args)
    except KeyboardInterrupt:
        print("interrupted: training stopped and no record was written; run the same command again "
              "to train from the start", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
