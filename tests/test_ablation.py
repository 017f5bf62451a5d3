"""The ablation of the bundled steps: each change undone alone, its runs recorded with their origin,
read back instead of retrained, and judged against the step's own seeds."""
import subprocess
import sys
from dataclasses import asdict, fields

import pytest
import torch

from era_mnist import ablation
from era_mnist.ablation import ABLATIONS, Change, Effect, effects, effects_table, run_ablation, undone
from era_mnist.model import CapacityAblation, CapacityNet
from era_mnist.search import own_runs
from era_mnist.steps import STEPS, load_record, network, step_config
from era_mnist.utils import RULE
from era_mnist.steps import experiment
from era_mnist.steps.records import save_record, weights_path


def test_capacity_ablation_at_its_defaults_is_step_7s_network():
    torch.manual_seed(0)
    ours = CapacityNet(dropout=0.1)
    torch.manual_seed(0)
    variant = CapacityAblation(dropout=0.1)
    assert repr(ours).replace("CapacityNet", "Net") == repr(variant).replace("CapacityAblation", "Net")
    x = torch.randn(3, 1, 28, 28)
    assert torch.equal(ours.eval()(x), variant.eval()(x))


@pytest.mark.parametrize("flag, gone", [("deep", {"conv4", "conv7"}), ("head", {"head"})])
def test_undoing_a_layer_removes_it(flag, gone):
    net = CapacityAblation(**{flag: False})
    names = {name for name, _ in net.named_children()}
    assert not gone & names and net(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_undoing_the_order_puts_batchnorm_before_relu_and_relus_back():
    first = CapacityAblation(relu_first=False).conv1
    assert [type(m).__name__ for m in first] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert any(isinstance(m, torch.nn.ReLU) for m in CapacityAblation(linear=False).conv4)
    assert not any(isinstance(m, torch.nn.ReLU) for m in CapacityAblation().conv4)


@pytest.mark.parametrize("step, change", [(s, c) for s, cs in ABLATIONS.items() for c in cs], ids=str)
def test_each_ablation_undoes_its_change_only_and_as_the_base_step_had_it(step, change):
    own, config, base = step_config(step), undone(step, change), STEPS[STEPS[step].base].config
    differs = {f.name for f in fields(own) if getattr(own, f.name) != getattr(config, f.name)}
    assert differs == {k for k, v in change.undo.items() if getattr(own, k) != v} and differs
    assert all(getattr(base, k) == v for k, v in change.undo.items() if k not in ("arch", "net"))
    if "arch" in change.undo:  # a network change: the network really is another one
        assert repr(network(config)) != repr(network(own))


@pytest.mark.parametrize("step", list(ABLATIONS))
def test_the_ablation_covers_every_training_change_of_its_step(step):
    own, base = step_config(step), STEPS[STEPS[step].base].config
    changed = {f.name for f in fields(own) if getattr(own, f.name) != getattr(base, f.name)} - {"step"}
    assert changed <= {k for c in ABLATIONS[step] for k in c.undo}


def effect(lows, own):
    seeds = dict(enumerate(lows, 1)), dict(enumerate(own, 1))
    return Effect(Change("x", "x", {}), *seeds, (), ())


def test_effect_judges_the_seed_by_seed_difference_against_its_95_percent_margin():
    assert effect([99.1, 99.2, 99.3], [99.4, 99.5, 99.6]).verdict == "carried"  # every seed 0.3 lower
    assert effect([99.4, 99.5, 99.6], [99.1, 99.2, 99.3]).verdict == "hurt"
    close = effect([99.45, 99.40, 99.60], [99.4, 99.5, 99.6])  # +0.05, -0.10, 0.00
    assert close.delta == pytest.approx(-0.05 / 3) and close.se == pytest.approx(0.0764 / 3 ** 0.5, abs=1e-3)
    assert close.verdict == "not shown"
    assert effect([99.35, 99.60, 99.50], [99.4, 99.5, 99.6]).verdict == "not shown"  # the mean alone is no verdict
    steady, spread = effect([99.3, 99.38, 99.52], [99.4, 99.5, 99.6]), effect([99.3, 99.48, 99.42], [99.4, 99.5, 99.6])
    assert steady.verdict == "carried" and steady.margin == pytest.approx(4.30 * steady.se)
    assert spread.delta < -2 * spread.se and spread.verdict == "not shown"  # beyond 2 SE, not beyond t with 2 df
    assert effect([99.1], [99.5]).verdict == "too few seeds"


def test_the_table_shows_every_change_and_what_is_not_run_yet():
    rows = [effect([99.1, 99.2, 99.3], [99.4, 99.5, 99.6]),
            Effect(Change("later", "x", {}), {}, {}, (1, 2, 3), ())]
    table = effects_table(rows)
    assert "99.20" in table and "-0.300" in table and "carried" in table
    assert table.splitlines()[1].split() == ["none", "(own)", "99.40", "99.50", "99.60", "99.50"]  # what vs own compares
    assert table.splitlines()[-1].startswith("later") and "not run yet" in table  # one row judged: no footer
    two = effects_table(rows[:1] * 2)
    assert "of 2 rows with no real effect, 0.1 would pass their margin by chance" in two.splitlines()[-1]


def test_effects_read_the_committed_records_and_the_readout_reads_the_trained_weights():
    rows = {row.change.name: row for row in effects(10)}
    own = own_runs(10)
    for seed, low in rows["batch"].lows.items():  # each seed's own record, beside the same seed of the step
        path = ablation.ablation_path(10, ABLATIONS[10][2], seed, evidence=True)
        assert low == RULE.measure(load_record(path).history, "ema_test_acc") and path.name == f"batch_seed{seed}.json"
        assert rows["batch"].own[seed] == RULE.measure(own[seed].history, "ema_test_acc")
    averaged = rows["averaged"]
    assert averaged.lows == {s: min(r["test_acc"] for r in own[s].history[-5:]) for s in (1, 2, 3)}
    assert averaged.own == {s: min(r["ema_test_acc"] for r in own[s].history[-5:]) for s in (1, 2, 3)}


@pytest.fixture
def ablations_home(monkeypatch, tmp_path):
    def path(step, change, seed, smoke=False, evidence=False):
        return tmp_path / f"step{step:02d}_{change.name}_seed{seed}.json"
    monkeypatch.setattr(ablation, "ablation_path", path)
    return path


def test_a_smoke_ablation_run_is_recorded_with_its_origin_and_weights(smoke_data, ablations_home):
    change = ABLATIONS[7][2]  # the head after the GAP
    record = run_ablation(7, change, 1, smoke_data, "cpu")
    path = ablations_home(7, change, 1)
    saved = load_record(path)
    assert saved.origin == {"step": 7, "ablation": "head"} and saved.config == record.config
    assert saved.config["net"] == {"dropout": 0.1, "head": False} and weights_path(path).exists()


def test_a_recorded_run_is_read_back_not_trained(smoke_data, tiny_data, ablations_home, monkeypatch):
    change = ABLATIONS[10][1]
    run_ablation(10, change, 2, smoke_data, "cpu")  # a record at the path...
    path = ablations_home(10, change, 2)
    record = load_record(path)
    record.config = asdict(undone(10, change))  # ...of the full recipe, as the full run writes it
    record.history = [dict(record.history[-1], epoch=e) for e in range(1, record.config["epochs"] + 1)]
    save_record(record, path, overwrite=True)
    monkeypatch.setattr(experiment, "run_step", lambda *a, **k: pytest.fail("trained again"))
    assert run_ablation(10, change, 2, tiny_data, "cpu").history == record.history


def test_a_record_of_another_recipe_is_refused(smoke_data, tiny_data, ablations_home):
    change = ABLATIONS[10][1]
    run_ablation(10, change, 2, smoke_data, "cpu")  # a smoke run: 2 epochs, not the recipe's 15
    with pytest.raises(ablation.RecordError, match="holds another recipe"):
        run_ablation(10, change, 2, tiny_data, "cpu")


@pytest.mark.parametrize("args, message", [
    (["--step", "8"], "invalid choice: 8"),
    (["--step", "7", "--changes", "wings"], "step 7 has no change wings: its changes are batch, depth"),
    (["--step", "7", "--seeds", "3-x"], "expected seeds as 1-3, 1,2,5 or 4"),
    (["--step", "7", "--smoke", "--evidence"], "which a smoke run never is"),
])
def test_ablate_refuses_bad_arguments_in_one_line(args, message):
    result = subprocess.run([sys.executable, "-m", "era_mnist", "ablate", *args], capture_output=True, text=True)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("step", list(ABLATIONS))
def test_each_bundled_step_with_ablation_runs_shows_them(step):
    import nbformat
    from era_mnist.reproduce import notebook_path
    if not any(row.lows for row in effects(step) if not row.change.readout):
        pytest.skip(f"no ablation run of step {step} recorded yet")
    code = "\n".join(c.source for c in nbformat.read(notebook_path(step), 4).cells if c.cell_type == "code")
    assert f"effects({step})" in code and f"plot_effects({step}, " in code


def test_the_chart_joins_each_seed_to_the_steps_own_run_and_bars_the_mean():
    from matplotlib.collections import LineCollection
    from era_mnist.utils import plot_ablation
    ax = plot_ablation([("a", {1: 99.3, 2: 99.6}), ("b", {})], {1: 99.4, 2: 99.5}).axes[0]
    joins = sorted(tuple(line.get_xdata()) for line in ax.lines if len(line.get_xdata()) == 2
                   and line.get_ydata()[0] == line.get_ydata()[1])
    assert joins == [(99.4, 99.3), (99.5, 99.6)]  # seed 1 with seed 1, seed 2 with seed 2
    bars = [seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()]
    assert len(bars) == 1 and bars[0][0][0] == pytest.approx(99.45)  # the mean of row a; none for b


def test_an_ablation_without_evidence_never_writes_the_committed_folder(monkeypatch):
    monkeypatch.setenv("ERA_MNIST_SMOKE", "")
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "1")  # left set by hand
    path = ablation.ablation_path(7, ABLATIONS[7][0], 1)
    assert "local" in path.parts and ablation.ablation_path(7, ABLATIONS[7][0], 1, evidence=True) != path
