import pytest
import torch

from era_mnist.utils import DeviceLoader, affine, random_affine


def digits(smoke_data, n=16):
    return smoke_data.train_x[:n]


def test_shape_kept_and_zero_degrees_is_the_identity(smoke_data):
    x = digits(smoke_data)
    out = random_affine(x, 0.0, fill=smoke_data.background)
    assert out.shape == x.shape
    assert torch.allclose(out, x, atol=1e-5)


def test_ninety_degrees_matches_rot90_up_to_interpolation():
    x = torch.rand(4, 1, 28, 28)
    out = affine(x, torch.full((4,), 90.0))
    errors = [(out - torch.rot90(x, k, dims=(2, 3))).abs().max().item() for k in (1, -1)]
    assert errors[0] < 1e-4 and errors[1] > 0.1, errors  # counter-clockwise on screen, as step 9 says


def test_rotation_angles_stay_within_the_bound():
    # a single bright pixel at distance 10 from the centre moves along a circle
    x = torch.zeros(500, 1, 28, 28)
    x[:, 0, 14, 24] = 1.0
    out = random_affine(x, 7.0, generator=torch.Generator().manual_seed(0))
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    w = out[:, 0].clamp(min=0)
    cy = (w * ys).sum((1, 2)) / w.sum((1, 2)) - 13.5
    cx = (w * xs).sum((1, 2)) / w.sum((1, 2)) - 13.5
    angles = torch.rad2deg(torch.atan2(cy, cx) - torch.atan2(torch.tensor(0.5), torch.tensor(10.5)))
    assert angles.abs().max() < 7.5
    assert angles.abs().max() > 6.0 and angles.std() > 3.0


def test_rotation_keeps_the_blank_border(smoke_data):
    x = digits(smoke_data)
    out = random_affine(x, 15.0, fill=smoke_data.background, generator=torch.Generator().manual_seed(1))
    corners = out[:, :, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert torch.allclose(corners, torch.full_like(corners, smoke_data.background), atol=1e-5)
    assert not torch.allclose(out, x)


def test_same_seed_same_batches_and_labels_untouched(smoke_data):
    def batches(seed):
        loader = DeviceLoader(smoke_data.train_x, smoke_data.train_y, 500, shuffle=True, seed=seed,
                              augment=lambda xb, g: random_affine(xb, 7.0, generator=g))
        return list(loader)
    a, b, c = batches(3), batches(3), batches(4)
    assert all(torch.equal(xa, xb) and torch.equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b))
    assert not torch.equal(a[0][0], c[0][0])
    # every image appears once per pass, with its own label
    labels = torch.cat([y for _, y in a])
    assert torch.equal(labels.sort().values, smoke_data.train_y.sort().values)


def test_loader_length_counts_the_last_partial_batch(smoke_data):
    loader = DeviceLoader(smoke_data.train_x, smoke_data.train_y, 128)
    assert len(loader) == len(list(loader)) == -(-len(smoke_data.train_x) // 128)


def test_zoom_scales_about_the_centre():
    # a centred 8x8 square zoomed by 1.5 covers about 12x12 pixels
    x = torch.zeros(1, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1.0
    out = affine(x, torch.zeros(1), scale=torch.tensor([1.5]))
    assert out.sum().item() == pytest.approx(144, rel=0.05)
    assert torch.allclose(out, out.flip(2).flip(3), atol=1e-5)  # still centred


def test_without_zoom_the_random_draws_are_those_of_earlier_runs(smoke_data):
    x = digits(smoke_data)
    a = random_affine(x, 7.0, 0.05, generator=torch.Generator().manual_seed(2))
    u = torch.rand(len(x), 3, generator=torch.Generator().manual_seed(2)) * 2 - 1
    assert torch.equal(a, affine(x, u[:, 0] * 7.0, u[:, 1:] * 0.05))
    zoomed = random_affine(x, 7.0, 0.05, generator=torch.Generator().manual_seed(2), max_scale=0.1)
    assert not torch.equal(a, zoomed)


def test_a_shift_moves_the_content_by_minus_shift_as_the_docstring_says():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 4, 4] = 1.0
    out = affine(x, torch.zeros(1), torch.tensor([[0.25, 0.0]]))   # a quarter of 8 pixels, in x
    assert (out[0, 0] > 0.5).nonzero().tolist() == [[4, 2]]   # two pixels left, not right
