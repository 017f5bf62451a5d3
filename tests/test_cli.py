import os
import subprocess
import sys
import tempfile

import pytest
import torch

from era_mnist import reproduce
from era_mnist.__main__ import main
from era_mnist import utils
from era_mnist.steps import experiment, load_record, record_path, records


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "era_mnist", *args], capture_output=True, text=True,
                          env=env)


@pytest.mark.parametrize("args, message", [
    (["train", "--step", "99"], "invalid choice: 99"),
    (["train", "--step", "ten"], "expected a whole number"),
    (["train", "--step", "3", "--epochs", "0"], "expected a whole number >= 1"),
    (["train", "--step", "3", "--device", "tpu"], "invalid choice: 'tpu'"),
    (["train"], "the following arguments are required: --step"),
    (["fly"], "invalid choice: 'fly'"),
    (["train", "--step", "3", "--seed", "-1"], "expected a whole number from 0 to 4294967295, got '-1'"),
    (["train", "--step", "3", "--seed", "4294967296"], "expected a whole number from 0 to 4294967295"),
    (["train", "--step", "10", "--epochs", "1", "--evidence"],
     "step 10 trains 15 epochs there, not --epochs 1; drop --evidence to keep this custom run in Data/local/runs/"),
    (["train", "--step", "10", "--smoke", "--evidence"], "which a smoke run never is"),
])
def test_bad_arguments_get_argparse_messages(args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_cuda_without_gpu_says_what_to_do():
    result = cli("train", "--step", "3", "--device", "cuda", "--smoke")
    assert result.returncode == 1
    assert "no GPU is available" in result.stderr and "--device cpu" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_data_says_what_to_do(tmp_path):
    result = cli("train", "--step", "3", "--smoke", env={**os.environ, "ERA_MNIST_DATA": str(tmp_path)})
    assert result.returncode == 1 and "SHA256SUMS is missing" in result.stderr
    assert f"ERA_MNIST_DATA={tmp_path} points here" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("Using device") and "StepConfig" not in result.stdout  # before the tables


INTERRUPT_IMPORT = """
import runpy, sys
class Interrupt:  # Ctrl-C while torch loads
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ["era_mnist", "summary", "--step", "3"]
runpy.run_module("era_mnist", run_name="__main__")
"""


def test_ctrl_c_while_torch_loads_gives_one_line():
    result = subprocess.run([sys.executable, "-c", INTERRUPT_IMPORT], capture_output=True, text=True)
    assert result.returncode == 130 and result.stderr == "interrupted before anything started\n"


def test_the_evidence_variable_alone_never_writes_data_runs(user_repo, tiny_data, monkeypatch, capsys):
    monkeypatch.setattr(utils, "load_mnist", lambda device, smoke=None: tiny_data)
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "1")  # left set by hand, or by another tool
    assert main(["train", "--step", "3"]) == 0
    assert "ERA_MNIST_EVIDENCE is ignored here" in capsys.readouterr().err
    assert files(user_repo) == ["Data/local/runs/step03_seed1.json", "Data/local/runs/step03_seed1.pt"]


def test_an_unknown_device_gives_a_device_error():
    with pytest.raises(utils.DeviceError, match="unknown device 'tpu': use 'auto', 'cpu' or 'cuda'"):
        utils.pick_device("tpu")


def test_summary_prints_both_tables():
    result = cli("summary", "--step", "10")
    assert result.returncode == 0
    assert "Total params: 7,884" in result.stdout
    assert "Receptive field" in result.stdout and "AdaptiveAvgPool2d" in result.stdout


def test_smoke_train_prints_result_and_record():
    result = cli("train", "--step", "8", "--smoke", "--seed", "11", "--eager")
    assert result.returncode == 0, result.stderr
    assert "[smoke] epoch  2/2" in result.stdout and "Result: step 8 (maxpool), seed 11, smoke run" in result.stdout
    assert "Total params: 7,884" in result.stdout and "step08_seed11.json" in result.stdout
    assert "StepConfig(step=8, epochs=2," in result.stdout  # the epochs it runs, not the step's 15
    record = load_record(record_path(8, 11, "smoke"))
    assert record.train_path == "eager" and record.cpu_threads >= 1


def test_reproduce_refuses_in_smoke_mode():
    result = cli("reproduce", "--steps", "3", env={**os.environ, "ERA_MNIST_SMOKE": "1"})
    assert result.returncode == 1 and "unset ERA_MNIST_SMOKE" in result.stderr
    assert "Traceback" not in result.stderr


def files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_train_keeps_a_users_runs_out_of_the_evidence(user_repo, tiny_data, monkeypatch, capsys):
    """What a fresh clone's `python -m era_mnist train --step 10` does: Data/local/ only (git-ignored)."""
    monkeypatch.setattr(utils, "load_mnist", lambda device, smoke=None: tiny_data)
    assert main(["train", "--step", "3"]) == 0
    out = capsys.readouterr().out
    assert "Result: step 3 (lighter), seed 1, full run on cpu" in out
    assert "Record written to Data/local/runs/step03_seed1.json" in out
    assert files(user_repo) == ["Data/local/runs/step03_seed1.json", "Data/local/runs/step03_seed1.pt"]  # its weights
    assert main(["train", "--step", "3", "--epochs", "1"]) == 0
    assert "seed 1, custom run (epochs=1) on cpu" in capsys.readouterr().out
    assert main(["train", "--step", "3", "--evidence"]) == 0  # only when asked: the committed evidence
    assert "Record written to Data/runs/step03_seed1.json" in capsys.readouterr().out
    assert [f for f in files(user_repo) if "previous" not in f] == [
        "Data/local/runs/step03_seed1.json", "Data/local/runs/step03_seed1.pt",
        "Data/runs/step03_seed1.json", "Data/runs/step03_seed1.pt"]  # kept, so that reproduce reuses the run
    assert load_record(user_repo / "Data" / "local" / "runs" / "step03_seed1.json").mode == "custom"


def test_ctrl_c_gives_one_line_and_exit_130(smoke_data, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(utils, "load_mnist", lambda device, smoke=None: smoke_data)
    monkeypatch.setattr(experiment, "fit", interrupted)
    path = record_path(3, 12345, "smoke")
    path.unlink(missing_ok=True)
    assert main(["train", "--step", "3", "--smoke", "--seed", "12345"]) == 130
    assert capsys.readouterr().err == ("interrupted: training stopped and no record was written; run the same command "
                                       "again to train from the start\n")
    assert not path.exists()


def test_the_result_is_printed_before_a_record_that_cannot_be_written(user_repo, tiny_data, tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.setattr(utils, "load_mnist", lambda device, smoke=None: tiny_data)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    write = records.write_atomically

    def read_only_data(path, text, exclusive=False):
        if "Data" in path.parts:
            raise OSError(30, "Read-only file system", str(path))
        write(path, text, exclusive)
    monkeypatch.setattr(records, "write_atomically", read_only_data)
    assert main(["train", "--step", "3", "--epochs", "1"]) == 1
    out, err = capsys.readouterr()
    assert "Result: step 3 (lighter), seed 1, custom run (epochs=1) on cpu" in out
    kept = tmp_path / "tmp" / "era_mnist_unsaved" / "step03_seed1.json"
    assert err.splitlines()[-1] == (f"error: the record could not be written to Data/local/runs (Read-only file "
                                    f"system); it was written to {kept} instead, its weights beside it "
                                    "(step03_seed1.pt): once Data/local/runs can be written, first move any "
                                    "step03_seed1.json (and its .pt) there into Data/local/runs/previous/ (a record "
                                    "is never overwritten), then move this one there as step03_seed1.json (and its "
                                    ".pt)")  # after the bars
    assert load_record(kept).mode == "custom"


@pytest.fixture
def readme(tmp_path, monkeypatch):
    path = tmp_path / "README.md"
    monkeypatch.setattr(reproduce, "README", path)
    details = tmp_path / "details.md"
    details.write_text(f"{reproduce.DETAILS_START}\n{reproduce.DETAILS_END}\n")
    monkeypatch.setattr(reproduce, "DETAILS", details)
    return path


def test_readme_only_says_when_the_markers_are_missing(readme, capsys):
    readme.write_text("# era_mnist\n\nno results block\n")
    assert main(["reproduce", "--readme-only"]) == 1
    assert "has no results block to rewrite" in capsys.readouterr().err
    assert readme.read_text() == "# era_mnist\n\nno results block\n"


def test_readme_only_names_a_corrupt_record(user_repo, readme, capsys):
    readme.write_text(f"{reproduce.START}\n{reproduce.END}\n{reproduce.STEPS_START}\n{reproduce.STEPS_END}\n"
                      f"{reproduce.HEADLINE_START}\n{reproduce.HEADLINE_END}\n")
    (user_repo / "Data" / "runs").mkdir(parents=True)
    (user_repo / "Data" / "runs" / "step03_seed1.json").write_text("")
    assert main(["reproduce", "--readme-only"]) == 1
    assert capsys.readouterr().err.startswith("error: run record Data/runs/step03_seed1.json cannot be read (")
    (user_repo / "Data" / "runs" / "step03_seed1.json").unlink()
    assert main(["reproduce", "--readme-only"]) == 0
    assert "README results rewritten from 0 records" in capsys.readouterr().out
    assert "| 3 | lighter | 10,790 | no full run yet |" in readme.read_text()
