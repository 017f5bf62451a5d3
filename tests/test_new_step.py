"""Adding a step is one entry in the step table and one notebook made from the template (README,
"Adding a step"): done here in a temporary copy of the repository, whose README lists the new
step and whose own notebook and Analysis tests then pass for it."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = '    Step(13, "throwaway", "Throwaway", "a throwaway step", model.CapacityNet, dict(rotation=5.0)),\n'


def run(copy, *args):
    env = dict(os.environ, PYTHONPATH=str(copy))
    done = subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_throwaway_step_is_one_table_entry_and_a_notebook_from_the_template(tmp_path):
    copy = tmp_path / "repo"
    for folder in ("era_mnist", "notebooks", "tests", "docs"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "pyproject.toml"):
        shutil.copy2(ROOT / name, copy / name)
    table = copy / "era_mnist" / "steps" / "table.py"
    text = table.read_text()
    end = text.index("\n])\n", text.index("STEPS = _series(["))  # the table's last line
    table.write_text(text[:end + 1] + ENTRY + text[end + 1:])

    assert run(copy, "-c", "import era_mnist; print(era_mnist.__file__)").startswith(str(copy))
    assert "Step13_Throwaway.ipynb" in run(copy, "-m", "era_mnist", "notebook", "--step", "13")
    steps = run(copy, "-c", "from era_mnist.reproduce import steps_markdown; print(steps_markdown())")
    assert "[Step13_Throwaway](notebooks/Step13_Throwaway.ipynb)" in steps and "rotation=5" in steps
    tests = run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                "tests/test_notebooks.py", "tests/test_analyses.py", "-k", "Step13 or 13")
    passed = re.search(r"(\d+) passed", tests)
    assert passed and int(passed.group(1)) >= 6 and "failed" not in tests and "error" not in tests, tests
