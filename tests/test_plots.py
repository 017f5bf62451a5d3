import matplotlib
import pytest
import torch
from matplotlib.colors import to_rgb

from era_mnist.utils import (confident_mistakes, plot_confusion_matrix, plot_history, plot_pareto,
                             show_mistakes)

matplotlib.use("Agg")


def history(acc):
    return [dict(epoch=e, train_loss=1 / e, train_acc=acc, test_loss=2 / e, test_acc=acc) for e in (1, 2, 3)]


def test_history_draws_loss_and_error_on_log_scales_with_the_previous_steps_train_and_test():
    fig = plot_history(history(99.0), previous=("step 3", history(98.0)))
    loss, err = fig.axes
    assert loss.get_yscale() == "log" and err.get_yscale() == "log"
    assert list(err.lines[1].get_ydata()) == pytest.approx([1.0] * 3)  # test: 100 - 99 %
    dashed = [line for line in err.lines if line.get_linestyle() == "--"]
    assert [line.get_label() for line in dashed] == ["train, step 3", "test, step 3"]
    assert list(dashed[1].get_ydata()) == pytest.approx([2.0] * 3)
    target = [line for line in err.lines if line.get_linestyle() == ":"]
    assert list(target[0].get_ydata()) == pytest.approx([0.6] * 2)
    early = plot_history([dict(history(80.87)[0])]).axes[1]
    assert early.get_ylim()[1] > 19.13  # the first epoch's error is on the chart


def test_the_surest_mistakes_come_first():
    class Fixed(torch.nn.Module):
        def forward(self, x):
            return torch.log(torch.tensor([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.7, 0.3]]))
    wrong, preds, sure = confident_mistakes(Fixed(), torch.zeros(4, 1), torch.tensor([1, 1, 0, 1]))
    assert wrong.tolist() == [0, 2, 3] and preds.tolist() == [0, 1, 0]  # image 1 is right
    assert sure.tolist() == pytest.approx([0.9, 0.8, 0.7])


def test_the_mistakes_shown_are_the_surest_counted_over_the_whole_test_set(smoke_data, user_repo, capsys):
    class Zeros(torch.nn.Module):  # answers 0 for every image, sure of it
        def forward(self, x):
            return torch.log(torch.tensor([0.91] + [0.01] * 9)).expand(len(x), 10)
    class Record:
        mode, filename = "custom", "step03_seed1.json"
        def label(self): return "step 3, seed 1"
    fig = show_mistakes(Zeros(), smoke_data, Record(), count=5, averaged=True)
    wrong = int((smoke_data.test_y != 0).sum())
    assert capsys.readouterr().out == (f"{wrong} of {len(smoke_data.test_y):,} test images misclassified; "
                                       "the 5 it was surest of:\n")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 5 and all(t.endswith("-> 0\n91%") for t in titles)
    assert fig._suptitle.get_text().startswith("step 3, seed 1, averaged weights\n")
    assert (user_repo / "Data" / "local" / "figures" / "step03_seed1_misclassified.png").exists()


def test_dark_cells_of_the_confusion_matrix_get_white_numbers():
    matrix = torch.eye(10, dtype=torch.long) * 100
    matrix[3, 5], matrix[2, 7] = 20, 1
    colours = {t.get_text(): t.get_color() for t in plot_confusion_matrix(matrix).axes[0].texts}
    assert colours == {"20": "white", "1": "black"}


def test_one_seed_points_are_hollow_and_more_seeds_larger():
    fig = plot_pareto([("a", 4000, 99.3, 1), ("b", 6000, 99.45, 20), ("c", 5000, 99.2, 2), ("d", 7000, 99.4, 3)],
                      chosen=("b",))
    d = fig.axes[0].collections[3]
    assert tuple(d.get_edgecolors()[0][:3]) == to_rgb("tab:green")  # exactly on the target: it holds
    a, _, b = fig.axes[0].collections[:3]  # drawn by parameters: a, c, b
    assert len(a.get_facecolors()) == 0 and b.get_facecolors()[0][3] > 0  # "none": no face at all
    assert b.get_sizes()[0] > a.get_sizes()[0]
    assert {t.get_text() for t in fig.axes[0].texts} == {"c (2)", "b (20)"}  # the one-seed point is not on the front


def test_every_seed_is_drawn_and_a_failing_one_is_red_and_named_in_the_legend():
    from era_mnist.steps import RunRecord
    from era_mnist.utils import plot_seeds
    def run(seed, acc):
        rows = [dict(epoch=e, train_acc=99.0, test_acc=acc, ema_test_acc=acc) for e in range(1, 16)]
        return RunRecord(step=12, name="x", seed=seed, params=1, config={}, history=rows, device="cpu",
                         torch_version="x", wall_seconds=1.0, mode="full")
    ax = plot_seeds([run(1, 99.5), run(2, 99.3), run(3, 99.4)]).axes[0]  # seed 3 exactly on the target: it holds
    drawn = [line for line in ax.lines if len(line.get_xdata()) == 15]
    assert [line.get_color() for line in drawn] == ["tab:green", "tab:red", "tab:green"]
    assert "seeds that do not: 2" in [line.get_label() for line in ax.lines]


def test_digits_are_drawn_row_by_row_with_their_captions(smoke_data):
    from era_mnist.steps import step_config
    from era_mnist.utils import augmentation, plot_digits
    x, y = smoke_data.train_x[:6], smoke_data.train_y[:6]
    turned = augmentation(step_config(9), fill=smoke_data.background)(x, torch.Generator().manual_seed(1))
    fig = plot_digits([("as stored", x, [str(int(v)) for v in y]), ("rotated", turned, None)])
    assert len(fig.axes) == 12 and fig.axes[0].get_title() == str(int(y[0])) and fig.axes[6].get_title() == ""
    assert fig.axes[0].get_ylabel() == "as stored" and fig.axes[6].get_ylabel() == "rotated"
    assert not torch.equal(turned, x)  # the second row shows other pixels


def test_every_seed_of_a_configuration_is_a_dot_and_same_sized_ones_stand_side_by_side():
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_rgb
    from era_mnist.utils import plot_seed_spread
    from matplotlib.collections import LineCollection
    points = [("b", 7000, [99.45, 99.5]), ("a", 5000, [99.3, 99.5]), ("c", 7000, [99.41, 99.38]),
              ("d", 8000, [99.4, 99.46, 99.4])]  # d: two seeds exactly on the target (step 12's worst): they hold
    ax = plot_seed_spread(points).axes[0]
    dots = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    assert [[float(x) for x, _ in d.get_offsets()] for d in dots] == [[5000] * 2, [7000] * 2, [7090] * 2, [8000] * 3]
    red, green = to_rgb("tab:red"), to_rgb("tab:green")
    assert [tuple(d.get_facecolors()[0][:3]) for d in dots] == [red, green, red, green]  # c: one seed under the line
    assert [t.get_text() for t in ax.texts] == ["a: 1/2 hold", "b: 2/2 hold", "c: 1/2 hold", "d: 3/3 hold"]
    bars = [segment for c in ax.collections if isinstance(c, LineCollection) for segment in c.get_segments()]
    assert [pytest.approx(tuple(y for _, y in bar)) for bar in bars] == [(99.4, 99.4), (99.475, 99.475),
                                                                         (99.395, 99.395), (99.42, 99.42)]  # means


def test_the_series_chart_draws_each_seed_and_bars_the_mean_green_only_where_every_seed_holds():
    from matplotlib.collections import LineCollection
    from era_mnist.utils import plot_series
    ax = plot_series([(1, "1 setup", [99.2]), (10, "10 onecycle", [99.4, 99.5])]).axes[0]
    dots = [c for c in ax.collections if c.get_offsets().shape[0] and not isinstance(c, LineCollection)]
    assert sorted(tuple(map(tuple, d.get_offsets())) for d in dots) == [((1, 99.2),), ((10, 99.4), (10, 99.5))]
    bars = {round(float(c.get_segments()[0][0][1]), 3): c.get_color()[0][:3]
            for c in ax.collections if isinstance(c, LineCollection)}
    assert set(bars) == {99.2, 99.45}
    assert bars[99.45][1] > bars[99.45][0] and bars[99.2][0] > bars[99.2][1]  # green holds, red does not
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 setup", "10 onecycle"]


def test_the_most_confused_pairs_are_the_largest_counts_off_the_diagonal():
    from era_mnist.utils import confusion_matrix, most_confused
    labels = torch.tensor([4, 4, 4, 9, 9, 7, 1, 1])
    preds = torch.tensor([9, 9, 4, 4, 9, 1, 1, 1])  # 4 -> 9 twice, 9 -> 4 and 7 -> 1 once; the rest right
    matrix = confusion_matrix(preds, labels)
    assert most_confused(matrix, 3)[0] == (4, 9, 2)
    assert sorted(most_confused(matrix, 3)[1:]) == [(7, 1, 1), (9, 4, 1)]


def test_a_pair_tied_with_the_last_of_the_most_confused_is_not_dropped():
    from era_mnist.utils import confusion_matrix, most_confused
    matrix = confusion_matrix(torch.tensor([9, 9, 4, 1]), torch.tensor([4, 4, 9, 7]))  # 4 -> 9 twice; two once
    assert most_confused(matrix, 1) == [(4, 9, 2)]
    assert most_confused(matrix, 2)[0] == (4, 9, 2) and sorted(most_confused(matrix, 2)[1:]) == [(7, 1, 1), (9, 4, 1)]
    assert most_confused(confusion_matrix(torch.tensor([1, 2]), torch.tensor([1, 2])), 3) == []  # no mistakes
