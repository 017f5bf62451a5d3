"""The fast path learns what the eager loop learns: the sync-free EMA on any device, the CUDA graph on a GPU."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from era_mnist.steps import build, step_config
from era_mnist.utils import DeviceLoader, augmentation, load_mnist, seed_everything, train
from era_mnist.utils.fast import EMA


def test_ema_matches_torchs_averaged_model(smoke_data):
    seed_everything(0)
    model = build(10)
    ours, torchs = EMA(model, 0.9), AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for start in range(0, 640, 128):
        optimizer.zero_grad()
        F.nll_loss(model(smoke_data.train_x[start:start + 128]), smoke_data.train_y[start:start + 128]).backward()
        optimizer.step()
        ours.update_parameters(model)
        torchs.update_parameters(model)
    assert ours.updates == 5 and torch.equal(ours.n_averaged, torchs.n_averaged)
    for a, b in zip(ours.state_dict().values(), torchs.state_dict().values()):
        assert torch.equal(a, b)
    assert not torch.equal(ours.module.conv1[0].weight, model.conv1[0].weight)


class EagerStandIn:
    """Does on the CPU what a CapturedStep does on a GPU (fresh gradients from one forward and
    backward pass), for full batches only."""

    def __init__(self, model, batch_size):
        self.model, self.batch_size, self.calls = model, batch_size, 0

    def fits(self, x):
        return len(x) == self.batch_size

    def step(self, x, y):
        self.calls += 1
        self.model.zero_grad(set_to_none=True)
        out = self.model(x)
        loss = F.nll_loss(out, y)
        loss.backward()
        return out, loss


def test_train_epoch_replays_full_batches_and_runs_the_last_one_eagerly(smoke_data):
    results = {}
    for stand_in in (False, True):
        seed_everything(4)
        model = build(10)
        loader = DeviceLoader(smoke_data.train_x[:1000], smoke_data.train_y[:1000], 128, shuffle=True, seed=4)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        captured = EagerStandIn(model, 128) if stand_in else None
        results[stand_in] = train.train_epoch(model, loader, optimizer, captured=captured), model.state_dict()
    assert captured.calls == 1000 // 128  # 7 full batches; the 8th (104 images) ran eagerly
    assert results[True][0] == results[False][0]
    for a, b in zip(results[True][1].values(), results[False][1].values()):
        assert torch.equal(a, b)


class OnTheGPU:
    """Stands in for a batch tensor on a GPU: capture() only slices it before it captures."""
    device = torch.device("cuda")

    def __getitem__(self, index):
        return self


def test_a_failed_capture_says_so_once_and_trains_eagerly(monkeypatch, capsys):
    def fail(*args):
        raise RuntimeError("operation not permitted when stream is capturing")
    monkeypatch.setattr(train, "CapturedStep", fail)
    model = build(10)
    first = next(model.parameters())
    first.grad = torch.ones_like(first)  # as a half-done capture may leave it
    loader = SimpleNamespace(x=OnTheGPU(), y=OnTheGPU(), batch_size=128)
    assert train.capture(model, loader) is None
    assert capsys.readouterr().out.count("training eagerly instead") == 1
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_captured_step_learns_what_the_eager_loop_learns():
    data = load_mnist("cuda", smoke=True)
    results = {}
    for graphed in (False, True):
        seed_everything(3)
        model = build(10).cuda()
        loader = DeviceLoader(data.train_x, data.train_y, 128, shuffle=True, seed=3,
                              augment=augmentation(step_config(9), fill=data.background))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        captured = train.capture(model, loader) if graphed else None
        assert (captured is not None) == graphed
        # two passes, each ending with a smaller batch that runs eagerly
        losses = [train.train_epoch(model, loader, optimizer, captured=captured)[0] for _ in range(2)]
        results[graphed] = losses, torch.cat([p.detach().flatten() for p in model.parameters()])
    assert results[True][0] == pytest.approx(results[False][0], rel=1e-4)
    torch.testing.assert_close(results[True][1], results[False][1], rtol=1e-3, atol=1e-4)


def test_ema_warmup_lets_the_decay_grow_from_a_tenth():
    model = torch.nn.Linear(1, 1, bias=False)
    ema = EMA(model, 0.999, warmup=True)
    for value in (1.0, 2.0, 3.0):
        model.weight.data.fill_(value)
        ema.update_parameters(model)
    # the first update copies (1), then decays 2/11 and 3/12: the start is forgotten fast
    expected = (1.0 * 2 / 11 + 2.0 * 9 / 11) * 3 / 12 + 3.0 * 9 / 12
    assert ema.module.weight.item() == pytest.approx(expected)
