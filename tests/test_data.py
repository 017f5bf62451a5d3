import shutil

import pytest
import torch

from era_mnist.utils import DataError, data_root, load_mnist, prepare_raw
from era_mnist.utils.data import RAW_FILES

# The facts that identify the genuine set (Data/MNIST/README.md).
FIRST_TRAIN = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FIRST_TEST = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def full_data():
    return load_mnist("cpu", smoke=False)


def test_labels_match_the_published_facts(full_data):
    assert full_data.train_y[:10].tolist() == FIRST_TRAIN
    assert full_data.test_y[:10].tolist() == FIRST_TEST
    assert torch.bincount(full_data.train_y).tolist() == TRAIN_COUNTS
    assert torch.bincount(full_data.test_y).tolist() == TEST_COUNTS


def test_normalised_with_the_training_mean_and_std(full_data):
    assert round(full_data.mean, 4) == 0.1307 and round(full_data.std, 4) == 0.3081
    assert abs(full_data.train_x.mean().item()) < 1e-3
    assert abs(full_data.train_x.std().item() - 1) < 1e-3
    assert full_data.train_x.shape == (60000, 1, 28, 28) and full_data.test_x.shape == (10000, 1, 28, 28)
    assert full_data.train_x.min().item() == pytest.approx(full_data.background)


def test_smoke_subset_is_small_and_labelled(smoke_data):
    assert smoke_data.smoke and len(smoke_data.train_x) == 2000 and len(smoke_data.test_x) == 1000
    assert smoke_data.train_y[:10].tolist() == FIRST_TRAIN


@pytest.fixture
def copy_root(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    src = data_root() / "MNIST" / "raw"
    for name in [f"{n}.gz" for n in RAW_FILES] + ["SHA256SUMS"]:
        shutil.copy(src / name, raw / name)
    return tmp_path


def test_environment_variable_points_elsewhere_and_decompresses_once(copy_root, monkeypatch):
    monkeypatch.setenv("ERA_MNIST_DATA", str(copy_root))
    assert data_root() == copy_root
    prepare_raw()
    raw = copy_root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(
        [*RAW_FILES, *(f"{n}.gz" for n in RAW_FILES), "SHA256SUMS"])  # nothing half-written left
    assert (raw / "train-labels-idx1-ubyte").stat().st_size == 60_008
    data = load_mnist("cpu", smoke=True)
    assert data.test_y[:10].tolist() == FIRST_TEST


def test_corrupt_file_gives_one_clear_error(copy_root):
    gz = copy_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    blob = bytearray(gz.read_bytes())
    blob[100] ^= 0xFF
    gz.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is corrupt.*restore it"):
        load_mnist("cpu", root=copy_root)
    assert not (copy_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").exists()


def test_missing_file_gives_one_clear_error(copy_root):
    (copy_root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is missing.*ERA_MNIST_DATA"):
        prepare_raw(copy_root)


def test_missing_folder_gives_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="SHA256SUMS is missing"):
        prepare_raw(tmp_path)
