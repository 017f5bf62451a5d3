from era_mnist.steps import build
from era_mnist.utils import receptive_field_table

# Worked by hand: rf_out = rf_in + (k - 1) * jump_in, jump_out = jump_in * stride.
STEP8 = [  # layer, output size, jump, receptive field
    ("conv1.0", 26, 1, 3), ("conv2.0", 24, 1, 5), ("conv3.0", 22, 1, 7), ("conv4.0", 20, 1, 9),
    ("trans.0", 20, 1, 9), ("pool", 10, 2, 10), ("conv5.0", 8, 2, 14), ("conv6.0", 6, 2, 18),
    ("conv7.0", 4, 2, 22), ("gap", 1, 8, 28), ("head.0", 1, 8, 28),
]
STEP1 = [
    ("conv1", 28, 1, 3), ("conv2", 28, 1, 5), ("pool1", 14, 2, 6), ("conv3", 14, 2, 10),
    ("conv4", 14, 2, 14), ("pool2", 7, 4, 16), ("conv5", 5, 4, 24), ("conv6", 3, 4, 32),
    ("conv7", 1, 4, 40),
]


def table(step):
    return [(r.layer, r.size, r.jump, r.rf) for r in receptive_field_table(build(step))]


def test_step8_receptive_field_worked_by_hand():
    assert table(8) == STEP8


def test_step1_padding_keeps_size_and_pools_double_the_jump():
    assert table(1) == STEP1


def test_step6_global_average_pool_covers_the_7x7_map():
    last = receptive_field_table(build(6))[-1]
    assert (last.layer, last.kernel, last.size, last.rf) == ("gap", 7, 1, 28)
