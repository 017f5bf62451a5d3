"""Run once (2026-12-07): step 11's hand-listed search becomes a finished study.

Each record Data/search/<candidate>_seed<S>.json moves to Data/search/hand-listed/trial<N>_seed<S>.json,
N the candidate's place in the list the search trained (below), and its ``origin`` changes from
{"search": "step 11", "candidate": <candidate>} to {"study": "hand-listed", "trial": N}. Nothing
else in a record changes: the script refuses a file that does not read back to its own bytes, and
checks that the written file differs from the old one in the origin alone.

    python docs/migrations/hand_listed_to_study.py    # from the repository root; a second run finds nothing
"""
import json
import subprocess
from pathlib import Path

SEARCH = Path("Data/search")
STUDY = "hand-listed"
CANDIDATES = ["slim-8-10", "slim-8-12", "sep-12-20", "slim-8-12-shift", "slim-8-12-peak0.1", "slim-8-12-warm0.2",
              "slim-8-10-b64", "slim-8-12-b64", "slim-6-14-b64", "slim-8-13-b64", "slim-10-12-b64", "slim-8-14-b64",
              "slim-12-12-b64", "slim-10-14-b64"]  # the order of era_mnist.search.CANDIDATES before the move


def main():
    (SEARCH / STUDY).mkdir(exist_ok=True)
    for old in sorted(SEARCH.glob("*_seed*.json")):
        text = old.read_text()
        record = json.loads(text)
        if json.dumps(record, indent=1) + "\n" != text:
            raise SystemExit(f"{old} does not read back to its own bytes: not moved")
        name, seed = old.stem.rsplit("_seed", 1)
        if record["origin"] != {"search": "step 11", "candidate": name} or record["seed"] != int(seed):
            raise SystemExit(f"{old} is not the hand-listed run its name says: not moved")
        trial = CANDIDATES.index(name)
        record["origin"] = {"study": STUDY, "trial": trial}
        new = SEARCH / STUDY / f"trial{trial}_seed{seed}.json"
        subprocess.run(["git", "mv", str(old), str(new)], check=True)
        new.write_text(json.dumps(record, indent=1) + "\n")
        changed = {k for k in record if json.loads(text)[k] != record[k]}
        assert changed == {"origin"}, (old, changed)
        print(f"{old} -> {new}")


if __name__ == "__main__":
    main()
