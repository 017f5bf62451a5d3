"""The Optuna search runs end to end in smoke mode: trials, records, the budget, the table, validation;
the pruner."""
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest

from era_mnist.search import plot_studies, recipe, seed_front, seed_front_text, seed_one, study_text
from era_mnist.steps import load_record, RecordError, step_config
from era_mnist.study import STARTS, MarginPruner, StorageError, load_study, search, study_table, suggest, validate
from era_mnist.utils import AVERAGED, RULE, output_dir


def test_a_study_trains_its_trials_records_each_run_and_prunes_what_is_over_budget(smoke_mode, tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = load_study("under-5000", url)
    assert [t.system_attrs["fixed_params"] for t in study.trials] == STARTS["under-5000"]  # the first trials are queued
    study.enqueue_trial(dict(STARTS["under-5000"][0], p_c1=8, p_c2=14, p_c3=18))  # 11,000 parameters
    search("under-5000", trials=3, url=url, device="cpu")
    trials = load_study("under-5000", url).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert trials[2].user_attrs["params"] > 5000 and not trials[2].intermediate_values  # never trained
    for t in trials[:2]:
        records = [load_record(output_dir("search") / "under-5000" / f"trial{t.number}_seed{s}.json") for s in (1, 2)]
        assert t.value == min(RULE.measure(r.history, AVERAGED) for r in records)
        assert all(r.mode == "smoke" and r.params == t.user_attrs["params"] < 5000 for r in records)
        assert json.dumps(records[0].config, sort_keys=True) == json.dumps(t.user_attrs["config"], sort_keys=True)
        assert len(t.intermediate_values) == 4  # two epochs of each seed, reported for the pruner
    table = study_table("under-5000", url)
    assert "3 trials" in table and "1 over the budget" in table and "arch=PoolNet" in table
    assert plot_studies(smoke=True).stat().st_size > 10_000  # the front, read from the records

    records = validate("under-5000", trials[1].number, [7], url, device="cpu")
    assert records[0].seed == 7 and records[0].config == trials[1].user_attrs["config"]
    assert (output_dir("search") / "under-5000" / f"trial{trials[1].number}_seed7.json").exists()
    front = seed_front((1, 2), smoke=True)  # both configurations ran seeds 1-2, fewest parameters first
    assert [row[2] for row in front] == sorted(t.user_attrs["params"] for t in trials[:2])
    [(study_name, numbers, n, _, _, seeds, runs)] = seed_front((1, 2, 7), smoke=True)  # only one ran seed 7
    assert (study_name, numbers, n) == ("under-5000", str(trials[1].number), trials[1].user_attrs["params"])
    assert [row[0] for row in seeds.rows] == [r.seed for r in runs] == [1, 2, 7] and f"{n:,}" in seed_front_text(front)
    text = study_text("under-5000", smoke=True).splitlines()
    assert text[-1].startswith("5 finished runs: ")  # 2 trials x 2, seed 7
    first = [RULE.measure(r.history, AVERAGED) for r in runs if r.seed == 1]   # trial 1's seed 1
    assert text[0].split()[6:8] == ["seed", "1"] and f"{first[0]:.2f}" == next(
        line for line in text if line.startswith(numbers + " ")).split()[6]   # the column every trial ran
    assert seed_one(None) == "-"   # a trial whose seed 1 never finished


def test_a_finished_seed_of_the_same_configuration_is_read_back_not_retrained(tmp_path, monkeypatch, capsys):
    import era_mnist.study as study
    from era_mnist.steps import RunRecord, step_config
    config = step_config(10, epochs=2)
    history = [dict(epoch=e, train_acc=99.0, test_acc=99.0, ema_test_acc=99.0 + e / 100) for e in (1, 2)]
    RunRecord(step=10, name="onecycle", seed=2, params=1, config=dict(vars(config)), history=history,
              device="cpu", torch_version="x", wall_seconds=1.0, mode="full").save(tmp_path)
    (tmp_path / "step10_seed2.json").rename(tmp_path / "trial4_seed2.json")  # trial 4 ran it, then its worker died
    monkeypatch.setattr(study, "run_step", lambda *a, **k: (_ for _ in ()).throw(AssertionError("retrained")))
    seen, full_data = [], SimpleNamespace(smoke=False)
    record = study.train_recorded(config, 2, tmp_path / "trial9_seed2.json", full_data, "cpu", seen.append)
    assert record.history == history and seen == history and "read back" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="retrained"):  # another seed is trained
        study.train_recorded(config, 3, tmp_path / "trial9_seed3.json", full_data, "cpu")


def test_the_pruner_stops_only_a_trial_plainly_below_the_finished_ones():
    study = optuna.create_study(direction="maximize", pruner=MarginPruner(margin=0.1, warmup=8, startup=3))
    for value in (99.45, 99.5, 99.55):
        study.add_trial(optuna.trial.create_trial(value=value, intermediate_values={9: value, 17: value, 24: value}))

    def stops(value, step=9):
        trial = study.ask()
        trial.set_user_attr("config", {"epochs": 15})  # as objective sets it: 15 epochs a seed
        trial.report(value, step)
        return trial.should_prune()
    assert not stops(99.45) and not stops(99.41)  # level with the front, or within the spread of seeds
    assert stops(99.39) and stops(99.2, step=24)  # over 0.1 points under the median, 99.5, in seed 1 or 2
    assert not stops(90.0, step=8) and not stops(90.0, step=17)  # the first 8 epochs of each seed are free


def test_an_option_added_later_is_named_only_when_on():
    """Trial 31's recipe, sampled again, is the configuration its records hold (no padded=False)."""
    slim = STARTS["under-8000"][1]
    assert suggest(optuna.trial.FixedTrial(slim), ["SlimNet"]).net == dict(c1=8, c2=16, relu_last=True)
    assert suggest(optuna.trial.FixedTrial(dict(slim, s_deep=True)), ["SlimNet"]).net["deep"] is True


def test_an_option_recorded_as_off_is_not_shown_as_part_of_the_network():
    """Trials 35-40 recorded padded=False and deep=False: the same network as without them."""
    config = step_config(11, arch="SlimNet", net=dict(c1=8, c2=14, relu_last=True, padded=False, deep=True))
    assert recipe(config)[0] == "SlimNet(c1=8, c2=14, relu_last=True, deep=True)"


@pytest.fixture
def garbled_storages(tmp_path):
    """{case: (URL, what the message must say)}: storages that cannot be opened as they are."""
    good = tmp_path / "good.db"
    load_study("under-5000", f"sqlite:///{good}")
    (tmp_path / "garbled.db").write_bytes(b"not a database at all " * 300)
    (tmp_path / "truncated.db").write_bytes(good.read_bytes()[:20_000])
    return {"unparsable": ("sqlite//studies.db", "is no database URL"),
            "missing folder": (f"sqlite:///{tmp_path}/missing/studies.db", "its folder .*missing does not exist"),
            "garbled": (f"sqlite:///{tmp_path}/garbled.db", "garbled.db is no readable Optuna database"),
            "truncated": (f"sqlite:///{tmp_path}/truncated.db", "truncated.db is no readable Optuna database"),
            "read-only": (f"sqlite:///file:{good}?mode=ro&uri=true", "readonly database"),
            "no driver": ("postgresql+pg8000://user@localhost/db", "needs a database driver")}


@pytest.mark.parametrize("case", ["unparsable", "missing folder", "garbled", "truncated", "read-only", "no driver"])
def test_a_storage_that_cannot_be_opened_gives_one_line_naming_it(garbled_storages, case, capsys):
    import benchmarks.study as cli
    url, says = garbled_storages[case]
    with pytest.raises(SystemExit) as exit:
        cli.main(["under-5000", "--trials", "1", "--storage", url])
    assert re.search(f"^error: .*{says}", str(exit.value)) and "\n" not in str(exit.value)


def test_a_table_only_reads_its_storage(tmp_path):
    good = tmp_path / "good.db"
    load_study("under-5000", f"sqlite:///{good}")
    before = good.read_bytes()
    assert "2 trials" in study_table("under-5000", f"sqlite:///file:{good}?mode=ro&uri=true")  # read-only is enough
    assert good.read_bytes() == before
    with pytest.raises(StorageError, match="no study database .*nothing.db: run a search first"):
        study_table("under-5000", f"sqlite:///{tmp_path / 'nothing.db'}")
    assert not (tmp_path / "nothing.db").exists()  # not created, empty


@pytest.mark.parametrize("error", [RecordError("run record x.json cannot be read: delete it"), KeyboardInterrupt()])
def test_the_study_script_ends_in_one_line_not_a_traceback(error, monkeypatch, capsys):
    import benchmarks.study as cli
    monkeypatch.setattr(cli, "study_table", lambda *a: (_ for _ in ()).throw(error))
    with pytest.raises(SystemExit) as exit:
        cli.main(["under-5000", "--table"])
    said = str(exit.value) + capsys.readouterr().err
    assert ("x.json cannot be read" in said) if isinstance(error, RecordError) else (exit.value.code == 130
                                                                                     and "run the same command" in said)


def postgres_bin():
    """The folder of PostgreSQL's initdb and pg_ctl, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    on_path = shutil.which("initdb")
    return found[-1].parent if found else Path(on_path).parent if on_path else None


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL cluster in a temporary folder, on a free local port, for one test; as
    root (initdb refuses root) it runs as the postgres user, else nobody."""
    pytest.importorskip("psycopg", reason="no PostgreSQL driver: pip install -e .[postgres]")
    bin = postgres_bin()
    if bin is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    as_user = []
    if os.geteuid() == 0:
        user = next((u for u in ("postgres", "nobody") if has_user(u)), None)
        if user is None or not shutil.which("runuser"):
            pytest.skip("running as root, and initdb refuses root: no postgres or nobody user, or no runuser")
        as_user = ["runuser", "-u", user, "--"]
    folder = Path(tempfile.mkdtemp(prefix="era_mnist_pg_"))  # not under pytest's tmp_path: root's alone
    if as_user:
        entry = pwd.getpwnam(as_user[2])
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    try:
        for command in ([bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"],
                        [bin / "pg_ctl", "-D", data, "-l", folder / "log", "-w", "-t", "60", "-o",
                         f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]):
            done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{command[0].name} failed: {done.stderr or done.stdout}"
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, bin / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def has_user(name):
    try:
        return bool(pwd.getpwnam(name))
    except KeyError:
        return False


def test_two_workers_share_one_study_on_postgresql(postgres_url, smoke_mode, tmp_path, monkeypatch):
    """The README's several-machine search: workers given one PostgreSQL URL run one study, each
    trial once, and every finished trial keeps its records."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # this test's smoke records, the workers' too
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    search("under-5000", trials=4, workers=2, url=postgres_url, device="cpu")
    trials = load_study("under-5000", postgres_url, create=False).trials
    assert len(trials) >= 4 and {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    assert [t.number for t in trials] == list(range(len(trials)))
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers ran trials of the one study
    folder = output_dir("search") / "under-5000"
    assert folder.is_relative_to(tmp_path)
    for t in trials:
        if t.state.name == "COMPLETE":
            runs = [load_record(folder / f"trial{t.number}_seed{seed}.json") for seed in (1, 2)]
            assert t.value == min(RULE.measure(r.history, AVERAGED) for r in runs)


def test_a_study_run_is_found_by_its_exact_name_only(tmp_path):
    from era_mnist.search import trial_path, trial_records
    for trial, seed in ((3, 1), (3, 2), (12, 1)):
        trial_path(tmp_path, trial, seed).write_text("{}")
    (tmp_path / "trial3_seed1_old.json").write_text("{}")  # a copy beside the runs
    (tmp_path / "trial03_seed1.json.bak").write_text("{}")
    assert sorted(trial_records(tmp_path).values()) == [(3, 1), (3, 2), (12, 1)]
    assert sorted(trial_records(tmp_path, 3).values()) == [(3, 1), (3, 2)]
    assert trial_path(tmp_path, 12, 1).name == "trial12_seed1.json"
