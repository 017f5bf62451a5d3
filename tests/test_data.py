import hashlib
import re
import shutil
import subprocess

import pytest
import torch

from era_mnist.utils import DataError, data_root, load_mnist, prepare_raw
from era_mnist.utils import data as data_module
from era_mnist.utils.data import RAW_FILES
from era_mnist.utils.paths import REPO_ROOT

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
    # each image beside its own label: the pixel sums (0-255) of known images, first and last of each subset
    for x, y, known in ((smoke_data.train_x, smoke_data.train_y, {0: (27525, 5), 1: (31095, 0), 1999: (60962, 0)}),
                        (smoke_data.test_x, smoke_data.test_y, {0: (18454, 7), 1: (28850, 2), 999: (18905, 9)})):
        pixels = (x * smoke_data.std + smoke_data.mean).mul(255).round()
        assert {i: (int(pixels[i].sum()), int(y[i])) for i in known} == known


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
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is missing: root=.* points here: restore it"):
        prepare_raw(copy_root)


def test_missing_folder_gives_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="SHA256SUMS is missing"):
        prepare_raw(tmp_path)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", ["truncated", "empty", "one byte flipped"])
def test_a_damaged_cache_is_decompressed_again(copy_root, damage, capsys):
    prepare_raw(copy_root)
    cache = copy_root / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    good = sha256(cache)
    blob = bytearray(cache.read_bytes())
    blob[5000] ^= 0xFF
    cache.write_bytes({"truncated": blob[:1000], "empty": b"", "one byte flipped": blob}[damage])
    capsys.readouterr()
    prepare_raw(copy_root)
    assert sha256(cache) == good and cache.stat().st_size == 60_008
    assert capsys.readouterr().err == (f"MNIST file {cache} does not match SHA256SUMS (truncated or changed): "
                                       "decompressing it again from train-labels-idx1-ubyte.gz\n")
    assert load_mnist("cpu", root=copy_root, smoke=True).train_y[:10].tolist() == FIRST_TRAIN


def test_the_sums_cover_the_decompressed_files_too():
    lines = (data_root() / "MNIST" / "raw" / "SHA256SUMS").read_text().split()
    assert sorted(lines[1::2]) == sorted([*RAW_FILES, *(f"{n}.gz" for n in RAW_FILES)])


def test_an_unwritable_folder_gives_one_clear_error(copy_root, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr(data_module.paths.tempfile, "mkstemp", read_only)
    monkeypatch.setenv("ERA_MNIST_DATA", str(copy_root))
    with pytest.raises(DataError, match=r"MNIST folder .*/MNIST/raw cannot be written \(Read-only file system\), "
                                        r"so train-images-idx3-ubyte cannot be decompressed there \(ERA_MNIST_DATA="
                                        r".* points here\): make it writable, or copy MNIST/raw/ to a writable folder"):
        prepare_raw()


@pytest.mark.parametrize("what", ["does not exist", "is a file, not a folder"])
def test_a_bad_environment_variable_is_named(tmp_path, monkeypatch, what):
    path = tmp_path / "mnist"
    if what.startswith("is a file"):
        path.write_text("")
    monkeypatch.setenv("ERA_MNIST_DATA", str(path))
    with pytest.raises(DataError, match=f"ERA_MNIST_DATA={re.escape(str(path))} {what}: point it at a folder "
                                        "holding MNIST/raw/ .*or unset ERA_MNIST_DATA"):
        prepare_raw()


def test_the_repository_hint_runs_from_its_root(tmp_path, monkeypatch):
    monkeypatch.delenv("ERA_MNIST_DATA", raising=False)
    monkeypatch.setattr(data_module.paths, "REPO_ROOT", tmp_path)
    hint = r"restore it with `git checkout -- Data/MNIST/raw` \(from the repository root\)"
    with pytest.raises(DataError, match=hint):
        prepare_raw()
    tracked = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "Data/MNIST/raw"], capture_output=True,
                             text=True)
    assert tracked.returncode == 128 or "Data/MNIST/raw/SHA256SUMS" in tracked.stdout  # 128: not a git checkout


def test_a_malformed_checksum_line_is_named(copy_root):
    sums = copy_root / "MNIST" / "raw" / "SHA256SUMS"
    lines = sums.read_text().splitlines()
    sums.write_text("\n".join([lines[0], "not a checksum", *lines[1:]]) + "\n")
    with pytest.raises(DataError, match=f"{re.escape(str(sums))} line 2 is malformed \\('not a checksum'; expected"):
        prepare_raw(copy_root)


def test_a_folder_in_place_of_a_decompressed_file_says_so(copy_root):
    prepare_raw(copy_root)
    target = copy_root / "MNIST" / "raw" / RAW_FILES[0]
    target.unlink()
    target.mkdir()
    with pytest.raises(DataError, match=f"{target} is a folder, not the file decompressed from {target.name}.gz: "
                                        "move it away"):
        prepare_raw(copy_root)


def test_a_killed_decompressions_file_goes_at_once_a_running_ones_stays(copy_root):
    import fcntl
    raw = copy_root / "MNIST" / "raw"
    killed, running = raw / f".{RAW_FILES[0]}.dead", raw / f".{RAW_FILES[1]}.live"
    killed.write_bytes(b"\0" * 1000)  # fresh: a killed run's, a moment ago
    running.write_bytes(b"\0" * 1000)
    with open(running, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as _decompress holds its own
        prepare_raw(copy_root)
        assert not killed.exists() and running.exists()
