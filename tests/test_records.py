import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from era_mnist.utils import RecordError, RunRecord, full_records, load_record, output_dir, run_step, step_config
from era_mnist.utils.records import REPO_ROOT

DATA = REPO_ROOT / "Data"


def record(**changes):
    fields = dict(step=10, name="onecycle", seed=3, params=7884, config=asdict(step_config(10)), device="cpu",
                  torch_version="x", wall_seconds=1.0, mode="full",
                  history=[dict(epoch=1, train_acc=90.0, test_acc=99.5, lr=0.1)])
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
    smoke_runs = output_dir("runs", smoke=True)
    assert Path(smoke_runs).resolve() != (DATA / "runs").resolve()
    assert load_record(smoke_runs / "step03_seed7.json").mode == "smoke"
    assert load_record(smoke_runs / "step06_seed7.json").mode == "smoke"


def test_two_archives_in_one_second_are_both_kept(tmp_path):
    from era_mnist.utils.records import archive_existing
    path = record().save(tmp_path)
    first = archive_existing(path)
    path = record(wall_seconds=2.0).save(tmp_path)
    os.utime(path, ns=(first.stat().st_mtime_ns,) * 2)  # the same second, the same stamp
    second = archive_existing(path)
    assert first != second and first.parent == second.parent == tmp_path / "previous"
    assert load_record(first).wall_seconds == 1.0 and load_record(second).wall_seconds == 2.0


def test_an_earlier_record_is_moved_aside_not_lost(tmp_path):
    from era_mnist.utils.records import archive_existing
    path = record().save(tmp_path)
    kept = archive_existing(path)
    assert not path.exists() and kept.parent == tmp_path / "previous"
    assert load_record(kept) == record()
    assert archive_existing(path) is None


def test_a_corrupt_record_names_its_file(user_repo):
    (user_repo / "Data" / "runs").mkdir(parents=True)
    (user_repo / "Data" / "runs" / "step10_seed1.json").write_text('{"step": 10, "hist')
    with pytest.raises(RecordError, match=r"run record Data/runs/step10_seed1\.json cannot be read .*"
                                          r"git checkout -- Data/runs/step10_seed1\.json"):
        full_records()
    (user_repo / "Data" / "runs" / "step10_seed1.json").write_text(json.dumps(asdict(record(config={"step": 99}))))
    with pytest.raises(RecordError, match="unknown step 99"):
        full_records()
