"""Command line: ``python -m era_mnist train --step 10`` and ``python -m era_mnist summary --step 10``."""
import argparse
import sys

from .steps import STEPS, build, network
from .utils.paths import output_mode


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


def parser():
    steps = ", ".join(f"{n} {s.name}" for n, s in STEPS.items())
    p = argparse.ArgumentParser(prog="python -m era_mnist", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train one step, print its Result and write its run record "
                                         "(to Data/local/runs/: the committed evidence stays as it is)")
    summary = sub.add_parser("summary", help="print a step's layer table and receptive fields")
    for cmd in (train, summary):
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
    repro = sub.add_parser("reproduce", help="execute the notebooks in full mode and rewrite the README's results")
    repro.add_argument("--steps", type=positive_int, nargs="+", choices=list(STEPS), default=list(STEPS),
                       metavar="N", help="the steps to run (default: all)")
    repro.add_argument("--readme-only", action="store_true", help="only rewrite the README from the records")
    repro.add_argument("--retrain", action="store_true",
                       help="train every run again, even one whose kept weights the same training code made")
    return p


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
    from .utils import (DataError, DeviceError, format_result, kept_weights, load_mnist, pick_device, run_config,
                        run_step, save_run, step_config)
    config = run_config(step_config(args.step, **({"epochs": args.epochs} if args.epochs else {})), args.smoke)
    try:
        device = pick_device(args.device)
        print(config)
        print_tables(network(config).to(device))
        data = load_mnist(device, smoke=args.smoke)
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
    if args.command == "reproduce":
        from .reproduce import reproduce, update_readme
        from .utils import RecordError
        try:
            if args.readme_only:
                update_readme()
            else:
                reproduce(args.steps, retrain=args.retrain)
        except RecordError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    args.smoke = args.smoke or output_mode() == "smoke"  # the variable, as the notebooks and CI set it
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
