"""A whole training run: the usual notebook pipeline against ours, side by side in one process.

The usual pipeline: torchvision ``MNIST`` with ``RandomRotation(7)``, ``ToTensor`` and
``Normalize`` applied per image in a ``DataLoader`` (batch 128, two workers, as a Colab user
sets them), a ``.item()`` per batch and a test pass each epoch. Ours: the package's training as
``run_step`` does it (``era_mnist.utils.fit``: the data held on the device, rotation batched
there, the averaged weights evaluated too, the step as a CUDA graph on a GPU). Both train the
same network with step 10's SGD, OneCycleLR and batch size. Prints one table: whole-run and
per-epoch seconds, images per second, and the ratio usual / ours.

    python benchmarks/epoch_speed.py                       # whole 15-epoch runs, step 10's net
    python benchmarks/epoch_speed.py --quick --steps 10 1  # a fixed number of batches per pass
                                                           # (40; 3 for the heavy nets on a CPU),
                                                           # scaled to a whole run: under a minute
    python benchmarks/epoch_speed.py --quick --profile     # and where our step's time goes
"""
import argparse
import contextlib
import io
import os
import time
from dataclasses import replace

os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars would only slow both loops down

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

from era_mnist.steps import make_optimizer, make_scheduler, step_config
from era_mnist.utils import device_name, fit, load_mnist, pick_device, prepare_raw, seed_everything
from era_mnist.steps import parameters  # noqa: E402
from era_mnist.steps.experiment import model_and_loader  # noqa: E402
from era_mnist.utils.fast import EMA  # noqa: E402
from era_mnist.utils.paths import output_dir, repo_relative, write_atomically  # noqa: E402
from era_mnist.steps.records import archive_existing  # noqa: E402

BATCH = 128


def usual_loaders(root, device, workers):
    train_tf = transforms.Compose([transforms.RandomRotation(7), transforms.ToTensor(),
                                   transforms.Normalize((0.1307,), (0.3081,))])
    test_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    kwargs = dict(batch_size=BATCH, num_workers=workers, pin_memory=device.type == "cuda",
                  persistent_workers=workers > 0)
    return (DataLoader(datasets.MNIST(root, train=True, download=False, transform=train_tf), shuffle=True, **kwargs),
            DataLoader(datasets.MNIST(root, train=False, download=False, transform=test_tf), **kwargs))


def usual_run(config, data, loaders, epochs, batches):
    """The usual notebook's train() and test() each epoch: per-batch copies, .item() per batch."""
    train, test = loaders
    device = data.train_x.device
    model = model_and_loader(config, data, 1)[0]
    optimizer = make_optimizer(config, model)
    scheduler = make_scheduler(replace(config, epochs=epochs), optimizer, min(len(train), batches or len(train)))
    for _ in range(epochs):
        model.train()
        for i, (x, y) in enumerate(train):
            if i == batches:
                break
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = F.nll_loss(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss.item()
        model.eval()
        with torch.no_grad():
            for i, (x, y) in enumerate(test):
                if i == batches:
                    break
                x, y = x.to(device), y.to(device)
                model(x).argmax(1).eq(y).sum().item()


def our_run(config, data, epochs, batches, cuda_graph=True):
    """``fit`` as run_step calls it, on the first ``batches`` batches of each set (all: None)."""
    n = batches * BATCH if batches else None
    part = replace(data, train_x=data.train_x[:n], train_y=data.train_y[:n],
                   test_x=data.test_x[:n], test_y=data.test_y[:n])
    config = replace(config, epochs=epochs)
    model, loader = model_and_loader(config, part, 1)
    optimizer = make_optimizer(config, model)
    with contextlib.redirect_stdout(io.StringIO()):  # fit prints a line per epoch
        fit(model, loader, part.test_x, part.test_y, epochs, optimizer, make_scheduler(config, optimizer, len(loader)),
            EMA(model, config.ema_decay) if config.ema_decay else None, cuda_graph=cuda_graph)


def profile_step(config, data, steps=20):
    """Lines saying where our training step's time goes: the share of the busiest operators
    (host time; on a GPU also the device's busy time against the wall time)."""
    from torch.profiler import ProfilerActivity, profile
    device = data.train_x.device
    model, loader = model_and_loader(config, data, 1)
    optimizer = make_optimizer(config, model)

    def forever():
        while True:
            yield from loader
    batches = forever()

    def step():
        x, y = next(batches)
        optimizer.zero_grad(set_to_none=True)
        F.nll_loss(model(x), y).backward()
        optimizer.step()
    for _ in range(5):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    start = time.perf_counter()
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
    wall = time.perf_counter() - start
    events = [e for e in prof.key_averages() if not e.key.startswith(("ProfilerStep", "Optimizer."))]
    total = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:6]
    line = ", ".join(f"{e.key} {100 * e.self_cpu_time_total / total:.0f} %" for e in top)
    lines = [f"profile of {steps} eager training steps of step {config.step}'s net: "
             f"{wall / steps * 1000:.1f} ms a step; host time by operator: {line}"]
    if device.type == "cuda":
        busy = sum(e.self_device_time_total for e in events) / 1e6
        lines.append(f"  the GPU was busy {100 * busy / wall:.0f} % of the wall time")
    return lines


def timed(run, device, repeats):
    """The median of ``repeats`` timings of ``run()``."""
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="time a fixed number of batches, scaled to a whole run")
    p.add_argument("--batches", type=int,
                   help="batches per pass in --quick mode (default 40, 3 for heavy nets on a CPU)")
    p.add_argument("--steps", type=int, nargs="+", default=[10], help="the step networks to time")
    p.add_argument("--epochs", type=int, default=15, help="epochs of a whole run")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--repeats", type=int,
                   help="timings per pipeline, the median is shown (default: 3 quick, 1 whole)")
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers of the usual pipeline")
    p.add_argument("--profile", action="store_true", help="also profile our training step (step 10's net)")
    args = p.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 1)

    device = pick_device(args.device)
    data = load_mnist(device)
    loaders = usual_loaders(prepare_raw(), device, args.workers)
    n_train, n_test = len(data.train_x), len(data.test_x)
    full_batches = -(-n_train // BATCH) + -(-n_test // BATCH)
    graph_variants = [True, False] if device.type == "cuda" else [True]
    rows = []
    for step in args.steps:
        config = replace(step_config(10), step=step)  # step 10's training, this step's network
        heavy = step in (1, 2) and device.type == "cpu"
        batches = (args.batches or (3 if heavy else 40)) if args.quick else None
        epochs = 1 if args.quick else args.epochs
        scale = full_batches / (2 * batches) * args.epochs / epochs if batches else 1.0
        seed_everything(1)
        usual_run(config, data, loaders, 1, 2)  # warm-up: workers started, kernels chosen
        our_run(config, data, 1, 2)
        usual = timed(lambda: usual_run(config, data, loaders, epochs, batches), device, repeats) * scale
        ours = [timed(lambda: our_run(config, data, epochs, batches, g), device, repeats) * scale
                for g in graph_variants]
        rows.append((step, parameters(config), batches or "all", usual, ours))

    mode = ("quick: a fixed number of batches per pass, scaled to a whole run" if args.quick
            else "whole runs")
    images = (n_train + n_test) * args.epochs
    eager_columns = f"{'eager s':>9}{'usual/eager':>12}" if len(graph_variants) > 1 else ""
    lines = [f"device {device_name(device)}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
             f"batch {BATCH}, {args.workers} DataLoader workers, {args.epochs} epochs with a test pass each, "
             f"median of {repeats} ({mode}){'; smoke data' if data.smoke else ''}",
             f"{'net':<8}{'params':>10}{'batches':>8}{'usual s':>9}{'ours s':>8}{'usual s/ep':>11}{'ours s/ep':>10}"
             f"{'ours img/s':>11}{'usual/ours':>11}{eager_columns}"]
    for step, params, batches, usual, ours in rows:
        line = (f"step {step:<3}{params:>10,}{batches:>8}{usual:>9.1f}{ours[0]:>8.1f}"
                f"{usual / args.epochs:>11.2f}{ours[0] / args.epochs:>10.2f}{images / ours[0]:>11,.0f}"
                f"{usual / ours[0]:>10.1f}x")
        if len(ours) > 1:
            line += f"{ours[1]:>9.1f}{usual / ours[1]:>11.1f}x"
        lines.append(line)
    if args.profile:
        lines += profile_step(replace(step_config(10), step=args.steps[0]), data)
    text = "\n".join(lines) + "\n"
    print("\n" + text, end="")
    if not data.smoke:  # kept beside the records; docs/details.md quotes it
        path = output_dir("benchmarks") / f"epoch_speed_{device.type}{'_quick' if args.quick else ''}.txt"
        if (kept := archive_existing(path)):
            print(f"The previous table was moved to {repo_relative(kept)}")
        write_atomically(path, text)
        print(f"Table written to {repo_relative(path)}")


if __name__ == "__main__":
    main()
