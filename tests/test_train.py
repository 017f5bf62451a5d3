import json

import pytest
import torch

from era_mnist.steps import build, make_optimizer, make_scheduler, run_step, step_config
from era_mnist.utils.fast import EMA
from era_mnist.utils import DeviceLoader, evaluate, fit, seed_everything


def short_fit(data, step=8, seed=0, epochs=2, scheduler=None, ema_decay=None, lr=0.01):
    seed_everything(seed)
    model = build(step)
    loader = DeviceLoader(data.train_x, data.train_y, 128, shuffle=True, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = scheduler(optimizer, len(loader)) if scheduler else None
    ema = EMA(model, ema_decay) if ema_decay else None
    history, path = fit(model, loader, data.test_x, data.test_y, epochs, optimizer, sched, ema)
    assert path == ("cuda-graph" if data.train_x.is_cuda else "eager")
    return model, history, ema


def without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_smoke_training_lowers_the_loss(smoke_data):
    model, history, _ = short_fit(smoke_data)
    assert history[-1]["train_loss"] < history[0]["train_loss"] < 2.3
    loss, acc = evaluate(model, smoke_data.test_x, smoke_data.test_y)
    assert loss == pytest.approx(history[-1]["test_loss"]) and acc > 50


def test_same_seed_gives_the_same_history(smoke_data):
    a, b, c = (short_fit(smoke_data, seed=s, epochs=1)[1] for s in (5, 5, 6))
    assert without_time(a) == without_time(b)
    assert without_time(a) != without_time(c)


def test_onecycle_steps_per_batch(smoke_data):
    _, history, _ = short_fit(smoke_data, epochs=3, scheduler=lambda opt, n: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.1, epochs=3, steps_per_epoch=n))
    lrs = [row["lr"] for row in history]
    assert lrs[0] == pytest.approx(0.1 / 25) and max(lrs) > 0.05  # warm-up, then the peak region


def test_steplr_steps_per_epoch(smoke_data):
    _, history, _ = short_fit(smoke_data, epochs=3, scheduler=lambda opt, n: torch.optim.lr_scheduler.StepLR(
        opt, step_size=1, gamma=0.5))
    assert [row["lr"] for row in history] == pytest.approx([0.01, 0.005, 0.0025])


def test_plateau_steps_on_the_test_loss(smoke_data):
    # patience 0 and a threshold no loss can meet: every epoch counts as a plateau
    _, history, _ = short_fit(smoke_data, epochs=3, scheduler=lambda opt, n: torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, factor=0.1, patience=0, threshold=10.0))
    assert [row["lr"] for row in history] == pytest.approx([0.01, 0.001, 0.0001])


def test_averaged_weights_are_evaluated_each_epoch(smoke_data):
    model, history, ema = short_fit(smoke_data, epochs=2, ema_decay=0.9)
    assert "ema_test_acc" in history[-1]
    loss, acc = evaluate(ema, smoke_data.test_x, smoke_data.test_y)
    assert (loss, acc) == pytest.approx((history[-1]["ema_test_loss"], history[-1]["ema_test_acc"]))
    assert not torch.equal(ema.module.conv1[0].weight, model.conv1[0].weight)


def test_step_configs_follow_the_spec():
    assert step_config(1).batch_size == 128 and step_config(7).batch_size == 64
    assert step_config(8).rotation == 0 and step_config(9).rotation == 7
    assert step_config(10).scheduler == "onecycle" and step_config(10).epochs <= 15
    assert step_config(10).ema_decay and step_config("onecycle") == step_config(10)
    with pytest.raises(ValueError, match="epochs"):
        step_config(3, epochs=0)
    with pytest.raises(ValueError, match="valid steps"):
        step_config(99)


@pytest.mark.parametrize("field, value, message", [
    ("epochs", True, "epochs must be a whole number >= 1, not True"),
    ("epochs", 1.5, "epochs must be a whole number"),
    ("batch_size", 0, "batch_size must be a whole number >= 1"),
    ("lr", 0, "lr must be a positive number"),
    ("momentum", -5, "momentum must be a number from 0 up to"),
    ("momentum", 1.0, "momentum must be a number from 0 up to"),
    ("nesterov", "yes", "nesterov must be True"),
    ("rotation", -7, "rotation must be a number of degrees"),
    ("max_shift", 1.5, "max_shift must be a fraction"),
    ("max_lr", 0, "max_lr must be a positive number with OneCycleLR"),
    ("pct_start", 1.5, "pct_start must be a fraction strictly between 0 and 1"),
    ("pct_start", 0, "pct_start must be a fraction strictly between 0 and 1"),
    ("ema_decay", 1.5, "ema_decay must be None or a number strictly between 0 and 1"),
    ("ema_decay", float("nan"), "ema_decay must be None or a number"),
    ("scheduler", "cosine", "scheduler must be None or 'onecycle'"),
    ("net", [8, 12], "net must be None or a dict"),
])
def test_a_bad_setting_is_refused_when_the_config_is_made(field, value, message):
    with pytest.raises(ValueError, match=message):
        step_config(10, **{field: value})


@pytest.mark.parametrize("seed", [-1, 2**32, True, 1.0])
def test_a_bad_seed_is_refused_before_the_data_loads(seed, monkeypatch):
    from era_mnist.steps import experiment
    monkeypatch.setattr(experiment, "load_mnist", None)  # never reached
    with pytest.raises(ValueError, match="the seed must be a whole number from 0 to 4294967295"):
        run_step(step_config(3), seed=seed, device="cpu")


def test_step10_schedule_is_onecycle(smoke_data):
    config = step_config(10)
    model = build(10)
    opt = make_optimizer(config, model)
    sched = make_scheduler(config, opt, 10)
    assert isinstance(sched, torch.optim.lr_scheduler.OneCycleLR) and opt.param_groups[0]["nesterov"]


def test_run_step_in_smoke_mode_writes_a_smoke_record(smoke_mode, smoke_data):
    model, record, ema = run_step(step_config(9), seed=2, device="cpu", data=smoke_data)
    assert record.mode == "smoke" and len(record.history) == 2 and record.params == 7884
    assert record.config["rotation"] == 7.0 and ema is None


def test_lr_range_test_raises_the_rate_and_the_loss_falls(smoke_data):
    from era_mnist.steps import lr_range_test
    lrs, losses = lr_range_test(step_config(10), smoke_data, steps=60, start_lr=1e-3, end_lr=0.1)
    assert len(lrs) == len(losses) == 60  # no divergence in this range: it runs to the end
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(0.1)
    assert all(b > a for a, b in zip(lrs, lrs[1:]))
    assert min(losses) < losses[0] - 0.5


def test_the_test_pass_does_not_depend_on_its_batch_size(smoke_data):
    """The CPU's faster evaluation batch (256 instead of 2000) must not change a result."""
    model, _, _ = short_fit(smoke_data, epochs=1)
    small, large = (evaluate(model, smoke_data.test_x, smoke_data.test_y, b) for b in (256, 2000))
    assert small[1] == large[1] and small[0] == pytest.approx(large[0], rel=1e-5)


def test_label_smoothing_spreads_the_target():
    from era_mnist.utils.train import training_loss
    logp = torch.log_softmax(torch.randn(6, 10), 1)
    y = torch.arange(6)
    assert training_loss(0.0) is torch.nn.functional.nll_loss
    expected = 0.9 * torch.nn.functional.nll_loss(logp, y) + 0.1 * (-logp.mean(1)).mean()
    assert training_loss(0.1)(logp, y).item() == pytest.approx(expected.item(), rel=1e-5)


def test_the_range_test_is_kept_beside_the_runs_and_read_back(smoke_data, tmp_path, monkeypatch):
    from era_mnist.steps import experiment
    monkeypatch.setattr(experiment, "output_dir", lambda kind, where=None: tmp_path)
    lrs, losses = experiment.lr_range_test(step_config(10), smoke_data, steps=20, start_lr=1e-3, end_lr=0.1)
    assert experiment.load_range_test(10) == (lrs, losses)
    kept = json.loads((tmp_path / "step10_range_test.json").read_text())
    assert kept["origin"] == {"step": 10, "range_test": True} and kept["seed"] == 1 and kept["steps"] == 20
