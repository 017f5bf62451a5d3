"""The README, docs/details.md, the records under Data/ and the committed notebooks' outputs must agree."""
import nbformat
import pytest

from era_mnist.reproduce import (DETAILS, DETAILS_END, DETAILS_START, END, HEADLINE_END, HEADLINE_START, README,
                                 START, STEPS_END, STEPS_START, details_markdown, headline_markdown, notebook_path,
                                 results_markdown, steps_markdown)
from era_mnist.search import SEARCHES, STUDIES, step_runs, study_records
from era_mnist.steps import (STEPS, build, final_step, format_result, full_records, parameters, seed_table,
                             StepConfig)
from era_mnist.utils import AVERAGED, TARGET, epochs_at_target, seed_summary
from era_mnist.utils.results import SeedRow, SeedSummary, spans

RECORDS = full_records()


def printed(step):
    """Everything the committed notebook of ``step`` printed (empty when it has no outputs)."""
    nb = nbformat.read(notebook_path(step), as_version=4)
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("output_type") == "stream")


def test_readme_results_are_written_from_the_records():
    text = README.read_text()
    block = text[text.index(START):text.index(END) + len(END)]
    assert block == results_markdown()


def test_the_details_page_is_written_from_the_records_and_the_readme_links_it():
    text = DETAILS.read_text()
    assert text[text.index(DETAILS_START):text.index(DETAILS_END) + len(DETAILS_END)] == details_markdown(RECORDS)
    assert "](docs/details.md)" in README.read_text()


def test_every_figure_the_pages_show_exists_and_has_a_caption():
    import re
    for page, folder in ((README, README.parent), (DETAILS, DETAILS.parent)):
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            if image := re.fullmatch(r"!\[[^]]*\]\(([^)]+)\)", line):
                assert (folder / image[1]).is_file(), f"{page.name}: {image[1]} does not exist"
                caption = lines[i + 1] if i + 1 < len(lines) else ""
                assert re.fullmatch(r"\*.+\*", caption), f"{page.name}: {image[1]} has no caption under it"


def test_the_readme_is_a_page_not_a_log():
    assert len(README.read_text().splitlines()) <= 150


def test_readme_headline_is_written_from_the_final_steps_records():
    text = README.read_text()
    assert text[text.index(HEADLINE_START):text.index(HEADLINE_END) + len(HEADLINE_END)] == headline_markdown()
    assert text.index(HEADLINE_START) < text.index(STEPS_START)  # on the first screen, before the list
    seeds = seed_summary(step_runs(final_step()), AVERAGED)
    assert f"worst seed {seeds.worst:.2f} % ({seeds.worst_seeds})" in headline_markdown()
    assert ("for every one of seeds" in headline_markdown()) == (seeds.held == len(seeds.rows))


def test_seeds_are_named_as_a_range_only_without_gaps():
    rows = lambda *seeds: [SeedRow(s, 99.5, 99.5, 99.5) for s in seeds]  # noqa: E731
    assert SeedSummary(rows(1, 2, 3, 4), 99.5, 99.5, 4).seeds == "1-4"
    assert SeedSummary(rows(1, 2, 5), 99.5, 99.5, 3).seeds == "1, 2, 5"
    assert spans([7, 12, 13, 14, 15]) == "7, 12-15" and spans([3, 4, 9]) == "3, 4, 9"  # epochs, listed as they are


def test_every_seed_tied_at_the_worst_is_named():
    rows = [SeedRow(1, 99.5, 99.5, 99.5), SeedRow(6, 99.4, 99.4, 99.4), SeedRow(19, 99.4, 99.4, 99.4)]
    assert SeedSummary(rows, 99.43, 99.4, 3).worst_seeds == "seeds 6, 19"
    assert SeedSummary(rows[:2], 99.45, 99.4, 2).worst_seeds == "seed 6"


def test_readme_steps_are_written_from_the_step_table():
    text = README.read_text()
    assert text[text.index(STEPS_START):text.index(STEPS_END) + len(STEPS_END)] == steps_markdown()
    assert "| `BatchNormNet(dropout=0.1)` | 10,970 | none |" in steps_markdown()  # step 5: its network only


@pytest.mark.parametrize("step", sorted(STEPS))
def test_notebook_outputs_come_from_its_full_record(step):
    out = printed(step)
    if not out:
        assert step not in RECORDS or 1 not in RECORDS[step], f"step {step} has a record but no outputs"
        return
    assert 1 in RECORDS.get(step, {}), f"step {step}'s notebook has outputs but no full record"
    record = RECORDS[step][1]
    assert format_result(record) in out
    assert "[smoke]" not in out and "smoke run" not in out
    if step >= 10:  # step 10's seeds are its own records; steps 11's and 12's, their study trial's
        assert format_result(record, "ema_test_acc") in out
        seeds = ([RECORDS[10][s] for s in sorted(RECORDS[10])] if step == 10
                 else step_runs(step))
        assert seed_table(seeds, "test_acc") in out and seed_table(seeds, "ema_test_acc") in out


@pytest.mark.parametrize("step, seed", [(st, se) for st in sorted(RECORDS) for se in sorted(RECORDS[st])])
def test_records_are_complete_full_runs(step, seed):
    record = RECORDS[step][seed]
    net = build(step, **(record.config.get("net") or {}))
    assert record.mode == "full" and record.params == sum(p.numel() for p in net.parameters())
    assert [row["epoch"] for row in record.history] == list(range(1, record.config["epochs"] + 1))
    assert record.epochs_at_target == epochs_at_target(record.history)
    assert record.config["epochs"] <= (15 if step >= 10 else 20)


def test_the_details_page_quotes_every_benchmark_table():
    """The performance section (docs/details.md) shows the tables benchmarks/epoch_speed.py wrote, as written."""
    tables = sorted((README.parent / "Data" / "benchmarks").glob("*.txt"))
    assert tables, "no table in Data/benchmarks/: run benchmarks/epoch_speed.py"
    for table in tables:
        assert table.read_text() in DETAILS.read_text(), f"docs/details.md does not quote {table.name}"


def test_every_study_record_is_a_full_run_of_its_configuration():
    """The studies' runs (Data/search/<study>/), which the study tables of docs/details.md read; none
    lies beside them."""
    assert not list((README.parent / "Data" / "search").glob("*.json"))
    for study in SEARCHES:
        budget = STUDIES[study][0] if study in STUDIES else parameters(STEPS[10].config)  # hand-listed: under step 10
        for trials, records in study_records(study, smoke=False).items():
            for record in records:
                config = StepConfig(**record.config)
                assert record.mode == "full" and record.params == parameters(config) < budget
                assert [row["epoch"] for row in record.history] == list(range(1, 16)), (study, trials)
            assert len({r.seed for r in records}) == len(records)  # one run per seed and configuration


def test_the_averaged_weights_result_quotes_no_train_accuracy_and_spans_its_epochs():
    """Only the trained weights are measured on the training set; epochs at the target read as runs."""
    record = RECORDS[12][1]
    assert "train accuracy" in format_result(record) and "train accuracy" not in format_result(record, AVERAGED)
    assert f"{TARGET}%     {spans(record.epochs_at_target)}" in format_result(record)


def test_the_rule_judges_the_last_window_at_the_target_inclusive():
    from era_mnist.utils import RULE
    history = [dict(epoch=e, test_acc=acc) for e, acc in enumerate([90.0, 99.5, 99.4, 99.6, 99.45, 99.7], 1)]
    assert RULE.window == 5 and RULE.measure(history) == 99.4 and RULE.holds(history)  # 99.4 itself holds
    assert not RULE.holds(history[:-1] + [dict(epoch=6, test_acc=99.39)])
    assert RULE.holds([dict(epoch=1, test_acc=10.0)] + history[1:])  # before the window: not judged
    assert str(RULE.target) in RULE.label and str(RULE.window) in RULE.label


def test_a_seed_is_found_by_its_number_not_its_place():
    rows = [SeedRow(2, 99.3, 99.4, 99.3), SeedRow(1, 99.5, 99.6, 99.5)]   # seed 1 second
    assert SeedSummary(rows, 99.4, 99.3, 1).low_of(1) == 99.5 and SeedSummary(rows, 99.4, 99.3, 1).low_of(3) is None


def test_the_lowest_test_loss_is_the_whole_row_of_its_epoch():
    from era_mnist.utils.results import lowest_test_loss
    history = [dict(epoch=e, test_loss=loss, test_acc=acc)
               for e, (loss, acc) in enumerate([(0.05, 98.0), (0.02, 99.0), (0.03, 99.2)], 1)]
    assert lowest_test_loss(history) == dict(epoch=2, test_loss=0.02, test_acc=99.0)   # not the best accuracy's
