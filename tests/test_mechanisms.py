"""The "How it works" demonstrations (era_mnist.utils.mechanisms, and era_mnist.steps.demos for those
that need a step's network): each one computes what its notebook says it computes, on small
batches, in seconds."""
import pytest
import torch
import torch.nn as nn

from era_mnist.steps import build, demos
from era_mnist.utils import receptive_field_table
from era_mnist.utils import mechanisms as m


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g)


@pytest.mark.parametrize("step", [2, 3, 4, 6, 7])
def test_parameter_rows_sum_to_the_model_total(step):
    model = build(step)
    rows = m.parameter_rows(model)
    assert sum(r.count for r in rows) == sum(p.numel() for p in model.parameters())
    for r in rows:  # the formula is the count
        assert eval(r.formula) == r.count, r


def test_parameter_formula_is_k_k_cin_cout():
    assert m.parameter_formula(nn.Conv2d(10, 20, 3, bias=False)) == "3*3*10*20"
    assert m.parameter_formula(nn.Conv2d(10, 20, 3)) == "3*3*10*20 + 20"
    assert m.parameter_formula(nn.BatchNorm2d(7)) == "2*7"
    rows = m.parameter_rows(build(3))
    assert rows[-1].name == "head" and rows[-1].count == 7 * 7 * 10 * 10
    text = m.format_parameter_rows(rows, m.parameter_rows(build(2)), "step 2")
    assert "194,884" in text and "10,790" in text and "73,728" in text


def test_plots_draw(tmp_path, batch):
    x, _ = batch
    fig = m.plot_parameters(m.parameter_rows(build(3)), save=tmp_path / "p.png")
    assert (tmp_path / "p.png").exists() and fig.axes
    stats = m.layer_stats(build(4), x)[2]
    m.plot_batchnorm(stats, {"a": (["conv1", "conv2"], [1.0, 0.5])}, save=tmp_path / "b.png")
    m.plot_mixing({"gap": m.channel_mixing(nn.AvgPool2d(7))}, save=tmp_path / "m.png")
    assert (tmp_path / "b.png").exists() and (tmp_path / "m.png").exists()
    m.plot_receptive_fields(x[0], m.receptive_squares(receptive_field_table(build(2))), save=tmp_path / "r.png")
    assert (tmp_path / "r.png").exists()


def test_batchnorm_in_train_mode_gives_mean_0_std_1_per_channel(batch):
    x, _ = batch
    model = demos.fresh_network(4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    stats = m.layer_stats(model, x)
    assert len(stats) == 7
    for s in stats:  # a fresh BatchNorm: gamma 1, beta 0
        assert s.out_mean.abs().max() < 1e-4
        assert torch.allclose(s.out_std, torch.ones_like(s.out_std), atol=0.02)
        assert s.in_std.min() > 0
    for k, v in model.state_dict().items():  # a copy ran: the running statistics did not move
        assert torch.equal(v, before[k]), k
    assert max(m.batchnorm_check(model, x).values()) < 1e-4
    assert "conv3.1" in m.format_layer_stats(stats)


def test_batchnorm_by_hand_is_the_formula():
    bn = nn.BatchNorm2d(3).train()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        bn.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    x = torch.randn(8, 3, 5, 5) * 4 + 3
    y = m.batchnorm_by_hand(bn, x)
    assert torch.allclose(y, bn(x), atol=1e-5)
    assert torch.allclose(y.mean((0, 2, 3)), bn.bias, atol=1e-5)  # the output's mean is beta
    assert torch.allclose(y.std((0, 2, 3), unbiased=False), bn.weight, atol=1e-3)  # its std gamma


def test_without_batchnorm_the_signal_shrinks_and_with_it_holds(batch):
    x, _ = batch
    names = ["conv1", "conv3", "conv6", "head"]
    light = m.block_output_std(demos.fresh_network(3), x, names)
    normed = m.block_output_std(demos.fresh_network(4), x, names)
    assert light[-1] < light[0] / 20  # step 3's default initialisation shrinks it layer by layer
    assert min(normed[:-1]) > 0.3


def test_dropout_passes_differ_in_train_mode_and_agree_in_eval_mode(batch):
    x, _ = batch
    model = demos.fresh_network(5)
    state = torch.get_rng_state()
    passes = m.dropout_passes(model, x[:4])
    assert torch.equal(state, torch.get_rng_state())  # the global random state is untouched
    assert not torch.equal(passes["on"][0], passes["on"][1])
    assert torch.equal(passes["off"][0], passes["off"][1])
    assert torch.allclose(passes["off"][0].sum(1), torch.ones(4))
    assert "dropout on,  pass 2" in m.format_passes(passes)
    plain = m.dropout_passes(demos.fresh_network(4), x[:4])  # step 4 has no dropout: nothing differs
    assert torch.equal(plain["on"][0], plain["off"][0]) and torch.equal(plain["on"][0], plain["on"][1])


def test_dropout_zeroes_about_p_and_scales_the_rest_by_1_over_1_minus_p(batch):
    x, _ = batch
    stats = m.dropout_mask_stats(demos.fresh_network(5), x)
    assert set(stats) == {"conv3.3", "conv5.3"}
    for p, zeroed, scale in stats.values():
        assert p == 0.1 and abs(zeroed - p) < 0.03 and scale == pytest.approx(1 / (1 - p), rel=1e-4)


def test_measured_accuracy_by_mode(batch):
    x, y = batch
    with_dropout = demos.fresh_network(7)
    without = demos.fresh_network(8)
    without.load_state_dict(with_dropout.state_dict())  # step 8 is step 7 without dropout: same weights
    a, b = m.mode_accuracies(with_dropout, x, y, batch_size=16), m.mode_accuracies(without, x, y, batch_size=16)
    assert a["eval"] == b["eval"] == b["dropout"]  # dropout alone is all that differs
    assert m.measured_accuracy(with_dropout, x, y, "eval") == a["eval"]
    assert "train mode" in m.format_mode_accuracies({"step 7": a, "step 8": b})


def test_trained_network_loads_the_committed_weights():
    net = demos.trained_network(7, network=build(8))  # dropout has no weights: step 8's net takes step 7's
    assert not net.training and len(m.dropout_layers(net)) == 0
    assert not torch.equal(net.conv1[0].weight, build(8).conv1[0].weight)


def test_gap_keeps_each_channel_to_itself_and_the_7x7_head_mixes_them(batch):
    x, _ = batch
    gap = m.channel_mixing(build(6).gap)
    assert torch.allclose(gap, torch.eye(10), atol=1e-5)  # +1 on a channel's map: +1 on its own output only
    head = m.channel_mixing(build(5).head)
    assert (head > 0).all()  # every class score listens to every channel
    rows = m.shapes_through(build(6), x[:2], names=("conv6", "gap"))
    assert rows == [("conv6", (10, 7, 7), 220), ("gap", (10, 1, 1), 0)]
    assert "10x1x1" in m.format_shapes(rows)
    five = m.shapes_through(build(5), x[:2], names=("head",))
    assert five == [("head", (10, 1, 1), 4900)]


def test_rotation_turns_by_the_angle_and_zero_leaves_the_image():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 4:24, 13:15] = 1  # a vertical bar
    assert torch.allclose(m.rotated(x, 0), x, atol=1e-5)
    flat = m.rotated(x, 90)
    assert flat[0, 0, 13:15, 4:24].mean() > 0.9 and flat[0, 0, 4:24, 13:15].mean() < 0.2  # now horizontal
    seven = m.rotated(x, 7)
    assert 0 < (seven - x).abs().sum() < (flat - x).abs().sum()


def test_rotation_accuracy_averages_both_directions(batch):
    x, y = batch
    model = demos.fresh_network(8).eval()
    acc = m.rotation_accuracy(model, x, y, [0, 45])
    assert acc[0] == m.measured_accuracy(model, x, y)
    assert set(acc) == {0, 45}


def test_the_onecycle_schedule_is_the_trainings_own():
    from era_mnist.steps import step_config, training_changes
    config = step_config(10)
    lrs, momenta = demos.onecycle_schedule(config, steps_per_epoch=10)
    assert len(lrs) == len(momenta) == config.epochs * 10
    peak = lrs.index(max(lrs))
    assert max(lrs) == pytest.approx(config.max_lr) and peak == pytest.approx(config.pct_start * len(lrs), abs=1)
    assert lrs[0] == pytest.approx(config.max_lr / 25)  # torch's div_factor
    assert lrs[-1] < lrs[0] / config.final_div_factor * 1.01
    assert momenta[0] == momenta[-1] == pytest.approx(0.95) and momenta[peak] == min(momenta) == pytest.approx(0.85)
    assert max(momenta) == pytest.approx(0.95)  # config.momentum (0.9) is only passed on the way
    assert "momentum cycled 0.95 -> 0.85 -> 0.95, not momentum=0.9" in training_changes(10)
    assert "momentum cycled" not in training_changes(12)  # step 12 keeps step 10's scheduler
    constant = demos.onecycle_schedule(step_config(9), steps_per_epoch=10)
    assert set(constant[0]) == {step_config(9).lr} and set(constant[1]) == {step_config(9).momentum}


def test_label_smoothing_spreads_the_target_and_moves_the_lowest_loss_below_certainty():
    target = m.smoothed_target(3, 10, 0.05)
    assert target.sum() == pytest.approx(1) and target[3] == pytest.approx(0.955) and target[0] == pytest.approx(0.005)
    p = torch.linspace(0.5, 0.9999, 2000)
    plain, smoothed = m.loss_by_confidence(p, 0.0), m.loss_by_confidence(p, 0.05)
    assert plain[-1] == pytest.approx(-torch.log(p[-1]).item()) and plain.argmin() == len(p) - 1
    assert float(p[smoothed.argmin()]) == pytest.approx(0.955, abs=1e-3)


def test_the_head_folds_into_the_last_conv_only_without_a_relu_between(batch):
    rows = {row.relu_last: row for row in demos.folding(12, batch[0])}
    assert rows[False].difference < 1e-5 < 1e-3 < rows[True].difference
    net = build(12)
    c2 = net.conv6[0].out_channels
    assert rows[False].replaced == 9 * c2 * c2 + 2 * c2 + c2 * 10 + 2 * 10 and rows[False].folded == 9 * c2 * 10 + 10


def test_relu_before_batchnorm_hands_on_centred_values_and_after_it_half_zeros(batch):
    from era_mnist.model import CapacityAblation
    names = ["conv1", "conv2", "conv5"]
    first = m.block_outputs(m.seeded(CapacityAblation), batch[0], names)
    after = m.block_outputs(m.seeded(CapacityAblation, relu_first=False), batch[0], names)
    for a, b in zip(first, after):  # BatchNorm last: every channel at mean 0, std 1 (some a little under)
        assert abs(a.mean) < 1e-3 and a.std == pytest.approx(1, abs=0.05) and a.zeros == 0
        assert b.mean > 0.2 and 0.3 < b.zeros < 0.7
    assert "conv1" in m.format_block_outputs({"a": first, "b": after}).splitlines()[2]


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2)])
def test_a_receptive_square_is_where_one_output_reads_the_input(stride, padding):
    """An all-ones linear net: the pixels whose gradient reaches the square's output are the square."""
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, stride=stride, padding=padding),
                        nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, padding=padding))
    for layer in net:
        if isinstance(layer, nn.Conv2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
    rows = receptive_field_table(net)
    last = m.receptive_squares(rows)[-1]
    x = torch.rand(1, 1, 28, 28, requires_grad=True)
    out = net(x)[0, 0]
    i = (last.start + (sum(r.padding * (r.jump // r.stride) for r in rows))) // rows[-1].jump
    out[i, i].backward()
    rows_seen, cols_seen = x.grad[0, 0].nonzero().unbind(1)
    expected = (max(last.start, 0), min(last.start + last.rf, 28) - 1)
    assert last.rf == rows[-1].rf == 5 + 5 * stride  # 3, +2, the pool +stride, the last conv +2 * (2 * stride)
    assert (rows_seen.min().item(), rows_seen.max().item()) == expected
    assert (cols_seen.min().item(), cols_seen.max().item()) == expected
