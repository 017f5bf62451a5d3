"""The notebooks' Markdown Analyses (era_mnist.analyses): each is what its records say today, and no
result in it is typed by hand."""
import ast
import inspect
import re

import nbformat
import pytest

from era_mnist import analyses, reproduce
from era_mnist.analyses import APPENDIX_TAG, MODULES, TAG, TEXTS, analysis_cell
from era_mnist.reproduce import write_analyses
from era_mnist.utils.results import RULE


# what only a run can say: a decimal (99.45), a percentage (3 %), a count grouped in thousands (7,308),
# a tally (17 of 20)
RESULT = re.compile(r"\d+\.\d+|\d+ ?%|\d{1,3}(?:,\d{3})+|\d+ of \d+")


def typed(source):
    """The results typed into the literal text of the f-strings in ``source``, their expressions'
    strings included (a format spec such as "{x:.0%}" types none)."""
    def texts(node):
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else []
        if isinstance(node, ast.FormattedValue):
            return texts(node.value)  # not its format spec
        return [text for child in ast.iter_child_nodes(node) for text in texts(child)]
    tree = ast.parse(source)
    inner = {id(n) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
             for n in ast.walk(node) if n is not node}
    return [found for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) and id(node) not in inner
            for text in texts(node) for found in RESULT.findall(text)]


def test_typed_results_are_found_and_computed_ones_are_not():
    assert typed('f"best {best:.2f} %, 7,308 parameters, 99.45 %, 3 % of them, 17 of 20 seeds"') == [
        "7,308", "99.45", "3 %", "17 of 20"]
    assert typed('f"{\'held\' if n else \'17 of 20 seeds\'}"') == ["17 of 20"]  # in an expression too
    assert typed('f"step {step}: {n:,} parameters, worst {worst:.2f}, {share:.0%}"') == []


@pytest.mark.parametrize("step", sorted(TEXTS))
def test_the_committed_analysis_and_appendix_are_what_the_records_say(step):
    nb = nbformat.read(reproduce.notebook_path(step), as_version=4)
    for tag, text in TEXTS[step]().items():
        cell = analysis_cell(nb, tag)
        assert cell is not None, f"step {step}'s notebook has no Markdown cell tagged {tag!r}"
        assert cell.source == text, (f"the {tag} is stale: `python -m era_mnist reproduce --readme-only` writes it "
                                     "from the records")
    if analysis_cell(nb, APPENDIX_TAG):
        assert nb.cells.index(analysis_cell(nb, APPENDIX_TAG)) > nb.cells.index(analysis_cell(nb)), "after the lesson"


def test_steps_11_and_12_have_an_appendix():
    assert all(set(TEXTS[step]()) == {TAG, APPENDIX_TAG} for step in (11, 12))


@pytest.mark.parametrize("step", sorted(TEXTS))
def test_an_analysis_types_no_result(step):
    module = MODULES[step] or analyses.shared
    assert typed(inspect.getsource(module)) == [], f"step {step}: compute these"


def test_the_pieces_the_analyses_share_type_no_result():
    from era_mnist.analyses import shared
    assert typed(inspect.getsource(shared)) == []


def test_a_stale_analysis_is_rewritten_and_a_current_one_left(tmp_path, monkeypatch):
    path = reproduce.notebook_path(1)
    nb = nbformat.read(path, as_version=4)
    analysis_cell(nb).source = "99.99 % on every seed"
    (tmp_path / path.name).write_text(nbformat.writes(nb))
    monkeypatch.setattr(reproduce, "NOTEBOOKS", tmp_path)
    assert write_analyses([1]) == [1]
    assert analysis_cell(nbformat.read(tmp_path / path.name, as_version=4)).source == TEXTS[1]()[TAG]
    assert write_analyses([1]) == []


def test_a_stale_appendix_is_rewritten(tmp_path, monkeypatch):
    step = 11
    path = reproduce.notebook_path(step)
    nb = nbformat.read(path, as_version=4)
    analysis_cell(nb, APPENDIX_TAG).source = "99.99 % on every seed"
    (tmp_path / path.name).write_text(nbformat.writes(nb))
    monkeypatch.setattr(reproduce, "NOTEBOOKS", tmp_path)
    assert write_analyses([step]) == [step]
    assert analysis_cell(nbformat.read(tmp_path / path.name, as_version=4), APPENDIX_TAG).source == \
        TEXTS[step]()[APPENDIX_TAG]


def test_a_notebook_without_the_tagged_cell_is_named(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Analysis")])
    (tmp_path / reproduce.notebook_path(2).name).write_text(nbformat.writes(nb))
    monkeypatch.setattr(reproduce, "NOTEBOOKS", tmp_path)
    with pytest.raises(reproduce.RecordError, match="has no Markdown cell tagged 'analysis'"):
        write_analyses([2])


def test_the_one_seed_yardstick_is_the_largest_move_between_epochs_of_the_window():
    history = [dict(test_acc=a) for a in (90.0, 99.0, 99.2, 99.1, 99.4, 99.3, 99.35)]
    assert RULE.movement(history) == pytest.approx(0.3)  # 99.1 -> 99.4; the jumps from 90 and 99.0 lie outside
    history[1]["test_acc"] = 98.0  # the epoch before the window: a jump into the window is not inside it
    assert RULE.movement(history) == pytest.approx(0.3)
    assert analyses.step01.analysis().count(f"{RULE.movement(reproduce.full_records()[1][1].history):.2f} points") == 1


def test_the_seeds_bullet_reads_seed_by_seed_and_says_when_a_step_ran_one_seed():
    from era_mnist.analyses.shared import seeds_against, seeds_bullet
    from types import SimpleNamespace

    def runs(lows):   # records whose last-5 minimum is each low, seeds 1, 2, ...
        return [SimpleNamespace(seed=s, history=[dict(epoch=e, test_acc=low) for e in range(1, 6)])
                for s, low in enumerate(lows, 1)]
    lower = seeds_bullet(8, seeds_against(runs([99.10, 99.22, 99.20]), runs([99.15, 99.26, 99.25])))
    assert "-0.05, -0.04, -0.05" in lower and "lower on every one, a lead for more seeds" in lower
    assert "within twice the spread" in lower and "one time in 4" in lower
    mixed = seeds_bullet(8, seeds_against(runs([99.3, 99.1, 99.2]), runs([99.2, 99.2, 99.2])))
    assert "+0.10, -0.10, +0.00." in mixed and "lead" not in mixed
    one = seeds_bullet(2, seeds_against(runs([98.2, 98.3, 98.25]), runs([98.8])))
    assert "step 2 ran one seed: this step's spread stands in for both" in one and "Seed by seed (1)" not in one
