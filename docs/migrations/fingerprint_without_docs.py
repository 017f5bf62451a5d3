"""Run once (2026-12-07): the training-code fingerprint stops counting docstrings and comments.

``experiment.training_code`` hashed the training sources as written, so fixing a docstring retrained
every kept run. It now hashes ``experiment.code_only`` of them. A record whose ``code`` is the old
fingerprint of today's sources was made by today's code, docstrings aside: its ``code`` becomes the
new fingerprint of the same sources, and nothing else in the file changes (the script replaces that
one value in the text and checks that the file then differs in it alone). A record made by other
code keeps its old fingerprint and stays unmatched, as before.

    python docs/migrations/fingerprint_without_docs.py    # from the repository root, before any source
                                                           # edit; a second run finds nothing
"""
import hashlib
import json
from pathlib import Path

from era_mnist.steps import StepConfig
from era_mnist.steps.experiment import training_code, training_sources


def old_code(config):
    """The fingerprint as it was: the sources, docstrings and comments included."""
    return hashlib.sha256("\n".join(training_sources(config)).encode()).hexdigest()[:16]


def main():
    moved = 0
    for path in sorted(Path("Data").glob("**/*.json")):
        if "local" in path.parts:
            continue
        text = path.read_text()
        record = json.loads(text)
        if not isinstance(record, dict) or not record.get("code") or "config" not in record:
            continue
        config = StepConfig(**record["config"])
        old, new = old_code(config), training_code(config)
        if record["code"] != old or old == new:
            continue
        changed = text.replace(f'"code": "{old}"', f'"code": "{new}"')
        if changed.count(f'"code": "{new}"') != 1 or json.loads(changed) != {**record, "code": new}:
            raise SystemExit(f"{path}: its fingerprint is not one plain value; nothing written")
        path.write_text(changed)
        moved += 1
    print(f"{moved} records now carry the fingerprint without docstrings and comments")


if __name__ == "__main__":
    main()
