import inspect
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from era_mnist.steps import (full_records, load_record, RecordError, records, run_step, RunRecord, save_run,
                             step_config)
from era_mnist.utils import figure_path, output_dir
from era_mnist.utils.paths import REPO_ROOT
from era_mnist.steps import experiment
from era_mnist.steps import STEPS
from era_mnist.steps.records import archive_existing, record_path, weights_path

DATA = REPO_ROOT / "Data"


def record(**changes):
    """A full run of step 10, seed 3, with one row for each epoch of its config."""
    config = changes.get("config", asdict(step_config(10)))
    fields = dict(step=10, name="onecycle", seed=3, params=7884, config=config, device="cpu",
                  torch_version="x", wall_seconds=1.0, mode="full",
                  history=[dict(epoch=e, train_acc=90.0, test_acc=99.5, lr=0.1)
                           for e in range(1, config.get("epochs", 1) + 1)])
    return RunRecord(**{**fields, **changes})


def test_records_refuse_to_be_overwritten(tmp_path):
    path = record().save(tmp_path)
    assert path.name == "step10_seed3.json"
    with pytest.raises(FileExistsError, match="never replaced silently.*overwrite"):
        record(wall_seconds=2.0).save(tmp_path)
    assert load_record(path).wall_seconds == 1.0
    record(wall_seconds=2.0).save(tmp_path, overwrite=True)
    assert load_record(path).wall_seconds == 2.0
    assert [p.name for p in tmp_path.iterdir()] == ["step10_seed3.json"]  # no temporary files left


def test_record_round_trips_through_json(tmp_path):
    path = record().save(tmp_path)
    assert load_record(path) == record()
    assert json.loads(path.read_text())["history"][0]["test_acc"] == 99.5


def snapshot(folder):
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_smoke_runs_leave_data_untouched(smoke_mode, smoke_data):
    before = snapshot(DATA)
    run_step(step_config(3, epochs=1), seed=7, device="cpu", data=smoke_data)
    run_step(step_config(3, epochs=1), seed=7, device="cpu", data=smoke_data)  # a rerun replaces it
    subprocess.run([sys.executable, "-m", "era_mnist", "train", "--step", "6", "--smoke", "--seed", "7"],
                   check=True, capture_output=True, env={**os.environ, "ERA_MNIST_SMOKE": ""})
    assert snapshot(DATA) == before
    smoke_runs = output_dir("runs", "smoke")
    assert Path(smoke_runs).resolve() != (DATA / "runs").resolve()
    assert load_record(smoke_runs / "step03_seed7.json").mode == "smoke"
    assert load_record(smoke_runs / "step06_seed7.json").mode == "smoke"


def test_output_goes_where_the_mode_says(user_repo, monkeypatch):
    local, evidence = user_repo / "Data" / "local", user_repo / "Data"
    assert output_dir("runs") == local / "runs" and output_dir("figures", "full") == local / "figures"
    assert output_dir("runs", False) == evidence / "runs"  # reading the committed records
    smoke = Path(tempfile.gettempdir()) / "era_mnist_smoke"
    assert output_dir("runs", "smoke") == output_dir("runs", True) == smoke / "runs"
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "1")
    assert output_dir("runs") == output_dir("runs", "full") == evidence / "runs"
    assert output_dir("runs", "custom") == local / "runs"  # a custom run is never evidence
    monkeypatch.setenv("ERA_MNIST_SMOKE", "1")
    assert output_dir("figures") == smoke / "figures"


def test_a_users_run_is_kept_under_data_local_only(user_repo, tiny_data):
    before = snapshot(DATA)
    _, run, _ = run_step(step_config(3), seed=2, device="cpu", data=tiny_data)
    assert run.mode == "full" and len(run.history) == 15
    local = user_repo / "Data" / "local"
    assert load_record(local / "runs" / "step03_seed2.json") == run
    assert figure_path(run, "curves") == local / "figures" / "step03_seed2_curves.png"
    assert sorted(p.name for p in (user_repo / "Data").iterdir()) == ["local"]  # not Data/runs/, Data/figures/
    assert snapshot(DATA) == before
    git = subprocess.run(["git", "-C", str(REPO_ROOT), "check-ignore", "-q", "Data/local/runs/step10_seed1.json"])
    assert git.returncode in (0, 128)  # ignored by git (128: not a git checkout)


def test_evidence_mode_writes_data_runs(user_repo, tiny_data, monkeypatch):
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "1")
    _, run, _ = run_step(step_config(3), seed=2, device="cpu", data=tiny_data)
    assert load_record(user_repo / "Data" / "runs" / "step03_seed2.json") == run
    assert figure_path(run, "curves") == user_repo / "Data" / "figures" / "step03_seed2_curves.png"


def test_a_custom_run_is_labelled_and_never_counted(user_repo, tiny_data, monkeypatch):
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "1")
    _, run, _ = run_step(step_config(10, epochs=1), seed=6, device="cpu", data=tiny_data)
    assert run.mode == "custom" and "seed 6, custom run (epochs=1) on cpu" in run.label()
    assert (user_repo / "Data" / "local" / "runs" / "step10_seed6.json").exists()  # not the evidence
    assert not (user_repo / "Data" / "runs" / "step10_seed6.json").exists()
    # a record from before custom runs existed: mode "full", 1 epoch, in Data/runs/
    record(seed=6, config=asdict(step_config(10, epochs=1))).save(user_repo / "Data" / "runs")
    record(seed=1).save(user_repo / "Data" / "runs")
    assert list(full_records()) == [10] and list(full_records()[10]) == [1]


def test_two_archives_in_one_second_are_both_kept(tmp_path):
    path = record().save(tmp_path)
    first = archive_existing(path)
    path = record(wall_seconds=2.0).save(tmp_path)
    os.utime(path, ns=(first.stat().st_mtime_ns,) * 2)  # the same second, the same stamp
    second = archive_existing(path)
    assert first != second and first.parent == second.parent == tmp_path / "previous"
    assert load_record(first).wall_seconds == 1.0 and load_record(second).wall_seconds == 2.0


def test_an_earlier_record_is_moved_aside_not_lost(tmp_path):
    path = record().save(tmp_path)
    kept = archive_existing(path)
    assert not path.exists() and kept.parent == tmp_path / "previous"
    assert load_record(kept) == record()
    assert archive_existing(path) is None


@pytest.fixture
def unwritable_runs(user_repo, tmp_path, monkeypatch):
    """Data/local/runs/ behaves as a read-only folder (tests may run as root, who can write anywhere)."""
    spare = tmp_path / "tmp"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    write = records.write_atomically

    def refuse(path, text, exclusive=False):
        if "Data" in Path(path).parts:
            raise OSError(30, "Read-only file system", str(path))
        write(path, text, exclusive)
    monkeypatch.setattr(records, "write_atomically", refuse)
    return spare / "era_mnist_unsaved"


def test_a_record_that_cannot_be_written_is_kept_elsewhere(unwritable_runs, capsys):
    assert not save_run(record()) and not save_run(record(wall_seconds=2.0))
    err = capsys.readouterr().err
    assert err.count("error: the record could not be written to Data/local/runs (Read-only file system); "
                     f"it was written to {unwritable_runs}/") == 2
    assert "then move this one there as step10_seed3.json" in err
    kept = sorted(unwritable_runs.iterdir())  # a second one never replaces the first
    assert [p.name for p in kept] == ["step10_seed3-2.json", "step10_seed3.json"]
    assert load_record(kept[1]) == record() and load_record(kept[0]) == record(wall_seconds=2.0)


def test_a_record_that_cannot_be_written_anywhere_is_printed(unwritable_runs, monkeypatch, capsys):
    def full_disk(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(records, "reserve", full_disk)
    assert not save_run(record())
    out, err = capsys.readouterr()
    assert "nor to" in err and "No space left" in err and "here it is, to save by hand" in err
    assert RunRecord(**json.loads(out)) == record()


def test_a_corrupt_record_names_its_file(user_repo):
    (user_repo / "Data" / "runs").mkdir(parents=True)
    (user_repo / "Data" / "runs" / "step10_seed1.json").write_text('{"step": 10, "hist')
    with pytest.raises(RecordError, match=r"run record Data/runs/step10_seed1\.json cannot be read .*"
                                          r"git checkout -- Data/runs/step10_seed1\.json"):
        full_records()
    (user_repo / "Data" / "runs" / "step10_seed1.json").write_text(json.dumps(asdict(record(config={"step": 99}))))
    with pytest.raises(RecordError, match="unknown step 99"):
        full_records()


def test_a_kept_run_is_reused_only_by_reproduce_and_only_with_the_same_code(user_repo, tiny_data, monkeypatch,
                                                                            capsys):
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "1")
    config = step_config(10)
    model, run, ema = run_step(config, seed=2, device="cpu", data=tiny_data)
    path = user_repo / "Data" / "runs" / "step10_seed2.json"
    state = torch.load(records.weights_path(path), weights_only=True)
    assert torch.equal(state["model"]["conv1.0.weight"], model.state_dict()["conv1.0.weight"])

    def no_training(*args, **kwargs):
        raise AssertionError("trained although a kept run could be reused")
    monkeypatch.setattr(experiment, "fit", no_training)
    monkeypatch.setenv("ERA_MNIST_REUSE", "1")
    again, reused, again_ema = run_step(config, seed=2, device="cpu", data=tiny_data)
    assert reused == run and "Not retrained: Data/runs/step10_seed2.json" in capsys.readouterr().out
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), model.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(again_ema.state_dict().values(), ema.state_dict().values()))

    changed = json.loads(path.read_text()) | {"code": "another"}  # trained by other code: train again
    path.write_text(json.dumps(changed))
    with pytest.raises(AssertionError, match="trained although"):
        run_step(config, seed=2, device="cpu", data=tiny_data)
    monkeypatch.setenv("ERA_MNIST_EVIDENCE", "")  # a user's own run always trains
    with pytest.raises(AssertionError, match="trained although"):
        run_step(config, seed=2, device="cpu", data=tiny_data)


def test_weights_go_with_their_record_and_never_outlive_it(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "output_dir", lambda kind, where=None: tmp_path)
    save_run(record(), weights={"w": torch.ones(2)})
    kept = archive_existing(tmp_path / "step10_seed3.json")
    assert torch.equal(torch.load(records.weights_path(kept), weights_only=True)["w"], torch.ones(2))
    save_run(record(), weights={"w": torch.zeros(2)})
    save_run(record(wall_seconds=2.0), overwrite=True)  # a run without weights replaces one with
    assert not records.weights_path(tmp_path / "step10_seed3.json").exists()


def test_the_fingerprint_reads_what_computes_not_docstrings_or_comments():
    source = 'def f(x):\n    """Twice x."""\n    return 2 * x  # doubled\n'
    assert experiment.code_only(source) == "def f(x):\n    return 2 * x"
    assert experiment.code_only(source.replace("Twice", "Double").replace("doubled", "twice")) == \
        experiment.code_only(source)
    assert experiment.code_only(source.replace("2 * x", "3 * x")) != experiment.code_only(source)
    assert experiment.code_only("Net(\n  (conv): Conv2d(1, 8)\n)") == "Net(\n  (conv): Conv2d(1, 8)\n)"  # a repr


def test_the_training_code_fingerprint_names_the_network_and_is_stable():
    assert experiment.training_code(step_config(10)) == experiment.training_code(step_config(10))
    assert experiment.training_code(step_config(10)) != experiment.training_code(step_config(4))
    wider = step_config(11, arch="SlimNet", net=dict(c1=8, c2=16))  # step 11's class and training, other widths
    assert experiment.training_code(wider) != experiment.training_code(step_config(11))


def test_every_committed_record_names_what_produced_it():
    import re
    data = REPO_ROOT / "Data"
    paths = [p for p in data.glob("**/*.json") if "local" not in p.parts and "previous" not in p.parts
             and p.parent.name != "MNIST"]
    assert len(paths) > 200
    for path in paths:
        stored = json.loads(path.read_text()).get("origin")  # in the file itself, not a reader's default
        where = path.relative_to(data).parts
        if where[0] == "runs" and path.name.endswith("_range_test.json"):  # lr_range_test's, beside the runs
            assert stored == {"step": json.loads(path.read_text())["step"], "range_test": True}, path
        elif where[0] == "runs":
            assert stored == {"step": json.loads(path.read_text())["step"]}, path
        elif where[0] == "search":
            assert len(where) == 3 and stored == {"study": where[1], "trial": int(re.match(r"trial(\d+)_",
                                                                                           path.name)[1])}, path
        else:
            assert where[0] == "ablations" and stored == {"step": int(where[1][4:]),
                                                          "ablation": path.stem.rsplit("_seed", 1)[0]}, path


@pytest.mark.parametrize("number", [11, 12])
def test_a_chosen_steps_evidence_is_its_trial_and_that_trial_is_its_recipe(number):
    from era_mnist.search import is_step_recipe, step_runs
    from era_mnist.steps import STEPS, final_step
    step = STEPS[number]
    runs = step_runs(number)
    assert len(runs) >= (20 if number == final_step() else 5) and {r.seed for r in runs} >= set(step.chosen_on)
    assert all(r.origin == {"study": step.validated_in, "trial": step.trial} for r in runs)
    assert all(is_step_recipe(number, r.config) for r in runs)
    assert not any(is_step_recipe(other, runs[0].config) for other in STEPS if other != number)


def test_an_origin_names_one_known_kind_of_run():
    from era_mnist.steps.records import origin
    assert origin(study="under-8000", trial=47) == {"study": "under-8000", "trial": 47}
    with pytest.raises(ValueError, match="a run's origin names one of"):
        origin(step=3, trial=4)


def save_runs(worker, go):
    """Save 15 runs of step 10, seed 3, each with weights that name it, as soon as ``go`` is set."""
    go.wait()
    for i in range(15):
        run = worker * 100 + i
        assert save_run(record(wall_seconds=float(run)), weights={"run": torch.tensor(run)})


def test_concurrent_saves_of_one_step_and_seed_keep_every_record_beside_its_own_weights(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setattr(records, "output_dir", lambda kind, where=None: runs)
    fork = multiprocessing.get_context("fork")  # the processes share this one's imports: they start at once
    go = fork.Event()
    procs = [fork.Process(target=save_runs, args=(w, go)) for w in range(6)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 6
    saved = [runs / "step10_seed3.json", *(runs / "previous").glob("*.json")]
    runs = sorted(int(load_record(path).wall_seconds) for path in saved)
    assert runs == sorted(w * 100 + i for w in range(6) for i in range(15))  # none lost, none twice
    for path in saved:
        state = torch.load(records.weights_path(path), weights_only=True)
        assert state["run"].item() == load_record(path).wall_seconds, f"{path.name} beside another run's weights"


def test_a_save_never_replaces_a_record_written_a_moment_before(tmp_path, monkeypatch, capsys):
    """Between the check for a record and the write, another process saves the same one: it is kept."""
    path = tmp_path / "step10_seed3.json"
    other = json.dumps(asdict(record(wall_seconds=2.0)))
    monkeypatch.setattr(records, "refuse_overwrite", lambda p: path.write_text(other))  # after the check
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert not records.write_record(record(), path, weights={"w": torch.ones(1)})
    assert load_record(path).wall_seconds == 2.0  # the other process's record
    [kept] = (tmp_path / "tmp" / records.UNSAVED).glob("*.json")  # and this one's, with its weights
    assert load_record(kept) == record() and torch.load(records.weights_path(kept), weights_only=True)["w"].sum() == 1
    err = capsys.readouterr().err
    assert "File exists" in err and f"move any step10_seed3.json (and its .pt) there into {tmp_path}/previous/" in err


def test_a_full_disk_while_saving_weights_keeps_the_record_and_says_the_weights_are_dropped(tmp_path, monkeypatch,
                                                                                             capsys):
    monkeypatch.setattr(records, "output_dir", lambda kind, where=None: tmp_path)

    def full_disk(state, f):
        f.write(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")  # torch's own words
    monkeypatch.setattr(torch, "save", full_disk)
    assert save_run(record(), weights={"w": torch.ones(1)})
    assert load_record(tmp_path / "step10_seed3.json") == record()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step10_seed3.json"]  # no half-written weights
    err = capsys.readouterr().err
    assert "torch.save failed" in err and "dropped" in err and "Traceback" not in err


def with_row(changes, epoch=1):
    """record()'s history with ``changes`` made to the row of ``epoch`` (None: the key removed)."""
    rows = [dict(row) for row in record().history]
    rows[epoch - 1].update(changes)
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


@pytest.mark.parametrize("changes, says", [
    (dict(history=record().history[:2]), r"epochs \[1, 2\], not the 15 of its config"),
    (dict(history=with_row(dict(test_acc=150.0), 7)), "epoch 7's test_acc is 150.0, not a percentage"),
    (dict(history=with_row(dict(train_acc=-3))), "epoch 1's train_acc is -3"),
    (dict(history=with_row(dict(test_acc="99.5"))), "epoch 1's test_acc is '99.5'"),
    (dict(history=[dict(row, ema_test_acc=99.0) for row in record().history[:14]] + record().history[14:]),
     "epoch 15's ema_test_acc is None"),
    (dict(history=with_row(dict(epoch=None))), "epochs"),
    (dict(history=with_row(dict(train_acc=float("nan")))), "train_acc is nan"),
    (dict(params=-1), "params is -1"), (dict(seed="2"), "seed is '2'"), (dict(seed=-1), "seed is -1"),
    (dict(step=5), "step is 5, its config's step 10"), (dict(mode="best"), "mode is 'best'"),
    (dict(wall_seconds="fast"), "wall_seconds"), (dict(device=None), "device is None"),
])
def test_a_record_with_implausible_values_names_its_file(tmp_path, changes, says):
    path = tmp_path / "step10_seed3.json"
    path.write_text(json.dumps(asdict(record()) | changes))
    with pytest.raises(RecordError, match=f"run record {path} cannot be read .*{says}"):
        load_record(path)


def test_the_readme_reads_only_the_records_the_naming_scheme_owns(user_repo):
    runs = user_repo / "Data" / "runs"
    for seed in (1, 2):
        record(seed=seed).save(runs)
    backup = record(seed=2, history=with_row(dict(test_acc=10.0)))  # "worst seed 10.00" if it were read
    (runs / "step10_seed2_old.json").write_text(json.dumps(asdict(backup)))
    (runs / "step10_seed1.json.bak").write_text("{}")
    assert full_records()[10] == {1: record(seed=1), 2: record(seed=2)}  # the backup copies are no seed
    (runs / "step10_seed2.json").write_text(json.dumps(asdict(record(seed=4))))  # copied over by hand
    with pytest.raises(RecordError, match=r"Data/runs/step10_seed2\.json holds step 10, seed 4, not the step and "
                                          r"seed its name says: restore it"):
        full_records()


def test_every_committed_record_reads_as_a_finished_run():
    paths = [*DATA.glob("runs/*_seed*.json"), *DATA.glob("search/**/*.json"), *DATA.glob("ablations/**/*.json")]
    assert len(paths) > 100  # (a range test beside the runs is no run)
    for path in paths:
        load_record(path)  # a RecordError names the file


def test_the_fingerprint_covers_what_computes_numbers_and_leaves_out_file_handling():
    from era_mnist.utils import data, train
    step4 = "\n".join(experiment.training_sources(step_config(4)))
    step12 = "\n".join(experiment.training_sources(step_config(12)))
    for computes in (train.train_epoch, train.evaluate, data.load_mnist, data.DeviceLoader):
        assert inspect.getsource(computes) in step4
    for handles in (data.prepare_raw, data._decompress, train.pick_device, train.format_epoch):
        assert inspect.getsource(handles) not in step4
    assert "def conv_bn_relu(" in step4 and "def conv_bn_relu(" not in step12  # the layer functions a class names
    assert "def separable_relu_bn(" in step12 and "def separable_relu_bn(" not in step4


def test_the_kept_runs_of_the_steps_match_the_training_code():
    """A kept run whose fingerprint differs is trained again by reproduce and by a notebook in full mode
    (hours on a CPU), and its numbers may move: retrain and commit it with the code that changed."""
    stale = []
    for n in STEPS:
        path = record_path(n, 1, "evidence")
        if path.exists() and weights_path(path).exists():
            if load_record(path).code != experiment.training_code(step_config(n)):
                stale.append(path.name)
    assert not stale, f"kept runs made by other training code: {stale}"


def test_a_repeat_is_judged_on_the_numbers_and_names_the_cpus():
    from era_mnist.steps import repeat_line
    kept = record(cpu_model=None, cpu_threads=1)
    again = record(cpu_model="AMD EPYC", cpu_threads=1,
                   history=[dict(row, seconds=row.get("seconds", 0) + 5) for row in kept.history])
    assert repeat_line(again, kept, "the study").startswith("seed 3 in this notebook: the same history as the study's")
    assert repeat_line(again, kept, "x").endswith("CPU threads: 1 here, 1 there; CPU: AMD EPYC here, not recorded there)")
    moved = record(history=[dict(row, test_acc=row["test_acc"] - 0.01) for row in kept.history])
    assert "a different history from x's seed 3 (last-5 minimum: 99.49 % here, 99.50 % there" in repeat_line(moved, kept, "x")


def test_a_new_record_names_its_cpu_and_an_old_one_reads_back_without(tmp_path):
    from era_mnist.steps.records import cpu_model
    assert record().cpu_model == cpu_model()
    old = {k: v for k, v in asdict(record()).items() if k != "cpu_model"}  # written before records named it
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert load_record(tmp_path / "old.json").cpu_model is None  # not this machine's: unknown


def test_the_step_before_is_printed_beside_the_same_seed_with_its_seeds():
    from era_mnist.steps import STEPS, format_against

    def run(seed, step, accs, losses=(0.1,) * 6, averaged=None):
        rows = [dict(epoch=e, train_acc=a - 1, test_acc=a, train_loss=loss / 2, test_loss=loss, lr=0.1)
                for e, (a, loss) in enumerate(zip(accs, losses), 1)]
        for row, avg in zip(rows, averaged or []):
            row["ema_test_acc"] = avg
        return record(step=step, seed=seed, history=rows)
    ours = run(1, 11, [97.0, 99.0, 99.5, 99.3, 99.4, 99.6], [0.3, 0.1, 0.05, 0.08, 0.07, 0.09])
    before = {1: run(1, 10, [95.0, 98.0, 99.2, 99.1, 99.0, 99.3], [0.4, 0.2, 0.1, 0.06, 0.12, 0.11]),
              2: run(2, 10, [96.0] * 6)}
    text = format_against(ours, before, 10)
    flat = " ".join(text.split())
    assert text.splitlines()[0].split() == ["seed", "1", "step", "11", "step", "10"]
    for row in ["epoch 1 train accuracy % 96.00 94.00", "epoch 1 test accuracy % 97.00 95.00",
                "best train accuracy % 98.60 98.30", "best test accuracy % 99.60 99.30",
                "last-5 min test accuracy % 99.00 98.00", "last-5 mean test accuracy % 99.36 98.92",
                "last epoch train accuracy % 98.60 98.30", "last epoch test accuracy % 99.60 99.30",
                "last epoch test loss 0.0900 0.1100", "lowest test loss (epoch) 0.0500 (3) 0.0600 (4)"]:
        assert row in flat, row
    assert "step 10's seeds:" in text.splitlines() and text.endswith("holds for 0 of 2 seeds")
    assert "averaged" not in text and "reference" not in text  # no averaged weights; step 11 has no reference
    both = format_against(run(1, 11, [99.5] * 6, averaged=[99.6] * 6),
                          {1: run(1, 10, [99.0] * 6, averaged=[99.45] * 6)}, 10)
    assert "last-5 min, averaged weights % 99.60 99.45" in " ".join(both.split())
    trained, averaged = both.split("step 10's seeds (trained weights):")[1].split("step 10's seeds (averaged weights):")
    assert trained.rstrip().endswith("holds for 0 of 1 seeds") and averaged.endswith("holds for 1 of 1 seeds")
    quoted = format_against(run(1, 4, [99.0] * 6), {1: run(1, 3, [98.0] * 6)}, 3)
    ref = [f"{STEPS[n].reference['best_test']:.2f}" for n in (4, 3)]
    assert f"the reference's best test accuracy % {ref[0]} {ref[1]}" in " ".join(quoted.split())


def test_a_range_test_is_read_where_its_loss_turns():
    from era_mnist.steps import format_range_readings, range_readings
    losses = [3.0, 2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 0.6, 0.35, 0.3, 0.25,   # falls
              0.3, 9.0, 0.4, 0.2] + [0.01] * 10   # turns up at batch 15 (0.3 > 1.1 * 0.25), peaks, falls further
    lrs = [10 ** (-4 + i / 5) for i in range(len(losses))]
    r = range_readings(losses)
    assert (r.turn, r.low, r.top, r.end) == (15, 14, 16, 19)
    assert r.drop == 0 and r.fast == 4   # before the turn: 3.0 - 1.1 falls most over 10 batches, 1.7 / 0.25 steepest
    assert range_readings([3.0, 2.0, 1.0]).turn == 2   # no turn: the last batch
    text = format_range_readings(lrs, losses, chosen=0.05)
    assert f"the turn (a tenth above)        0.30 at lr {lrs[15]:.3f}" in text and text.endswith("lr 0.05")
    assert f"peak after the turn             9.00 at lr {lrs[16]:.2f}" in text


def test_the_eval_mode_fit_table_gives_each_seed_its_gap_and_each_step_its_means():
    from era_mnist.steps import format_eval_mode_fit
    lines = format_eval_mode_fit({4: [(1, 99.8, 99.1), (2, 99.6, 99.3)], 5: [(1, 99.5, 99.2)]}).splitlines()
    assert lines[1].split() == ["4", "1", "99.80", "99.10", "0.70"] and lines[2].split()[-1] == "0.30"
    assert lines[3].split() == ["4", "mean", "99.70", "99.20", "0.50"] and lines[5].split()[1] == "mean"
