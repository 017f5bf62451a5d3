"""Seconds per epoch: the usual notebook pipeline against ours, side by side in one process.

The usual pipeline: torchvision ``MNIST`` with ``RandomRotation(7)``, ``ToTensor`` and
``Normalize`` applied per image in a ``DataLoader`` (batch 128, two workers, as a Colab user
sets them). Ours: the whole set as one tensor on the device, rotation batched there
(``era_mnist.utils``). Both train the same network with the same SGD step and end each epoch
with a test pass. Prints one table with the ratio usual / ours.

    python benchmarks/epoch_speed.py            # whole epochs, steps 10 and 1
    python benchmarks/epoch_speed.py --quick    # a fixed number of batches, scaled to an epoch
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from era_mnist.model import build
from era_mnist.utils import (DeviceLoader, device_name, evaluate, load_mnist, pick_device, prepare_raw,
                             rotation)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def usual_loaders(root, device, batch_size, workers):
    train_tf = transforms.Compose([transforms.RandomRotation(7), transforms.ToTensor(),
                                   transforms.Normalize((0.1307,), (0.3081,))])
    test_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    kwargs = dict(batch_size=batch_size, num_workers=workers, pin_memory=device.type == "cuda",
                  persistent_workers=workers > 0)
    return (DataLoader(datasets.MNIST(root, train=True, download=False, transform=train_tf), shuffle=True, **kwargs),
            DataLoader(datasets.MNIST(root, train=False, download=False, transform=test_tf), **kwargs))


def usual_epoch(model, optimizer, train, test, device, max_batches):
    """The usual notebook's train() and test(): per-batch copies to the device, .item() per batch."""
    model.train()
    for i, (x, y) in enumerate(train):
        if i == max_batches:
            break
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
    model.eval()
    with torch.no_grad():
        for i, (x, y) in enumerate(test):
            if i == max_batches:
                break
            x, y = x.to(device), y.to(device)
            model(x).argmax(1).eq(y).sum().item()


def our_epoch(model, optimizer, loader, data, max_batches, test_images):
    """Our train pass (as era_mnist.utils.train_epoch: no host sync inside) and test pass."""
    model.train()
    total = torch.zeros((), device=data.train_x.device)
    for i, (x, y) in enumerate(loader):
        if i == max_batches:
            break
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.detach()
    total.item()
    evaluate(model, data.test_x[:test_images], data.test_y[:test_images])


def timed(run, device, repeats):
    """The median of ``repeats`` timings of ``run()``, after one untimed warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        run()
        sync(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="time a fixed number of batches, scaled to an epoch")
    p.add_argument("--steps", type=int, nargs="+", default=[10, 1], help="the step networks to time")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()

    device = pick_device(args.device)
    root = prepare_raw()
    data = load_mnist(device, smoke=False)
    batch = 128
    n_train, n_test = len(data.train_x), len(data.test_x)
    rows = []
    for step in args.steps:
        heavy = step in (1, 2) and device.type == "cpu"
        max_batches = (3 if heavy else 40) if args.quick else None
        train_batches = max_batches or -(-n_train // batch)
        test_batches = max_batches or -(-n_test // batch)
        scale = (-(-n_train // batch) + -(-n_test // batch)) / (train_batches + test_batches)
        images = n_train + n_test

        model = build(step).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        train, test = usual_loaders(root, device, batch, args.workers)
        usual = timed(lambda: usual_epoch(model, opt, train, test, device, max_batches), device, args.repeats)

        model = build(step).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loader = DeviceLoader(data.train_x, data.train_y, batch, shuffle=True,
                              augment=rotation(7, fill=data.background))
        ours = timed(lambda: our_epoch(model, opt, loader, data, max_batches, test_batches * batch),
                     device, args.repeats)
        rows.append((step, max_batches or "all", usual * scale, ours * scale, images))

    mode = "quick: a fixed number of batches per pass, scaled to an epoch" if args.quick else "whole epochs"
    print(f"\ndevice {device_name(device)}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"batch {batch}, {args.workers} DataLoader workers, median of {args.repeats} ({mode})")
    print(f"{'net':<8}{'batches':>8}{'usual s/epoch':>14}{'ours s/epoch':>14}{'usual img/s':>13}"
          f"{'ours img/s':>12}{'usual/ours':>12}")
    for step, batches, usual, ours, images in rows:
        print(f"step {step:<3}{batches:>8}{usual:>14.2f}{ours:>14.2f}{images / usual:>13,.0f}"
              f"{images / ours:>12,.0f}{usual / ours:>11.1f}x")


if __name__ == "__main__":
    main()
