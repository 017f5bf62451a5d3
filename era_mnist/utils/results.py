"""The rule every Result, table and claim uses (``RULE``: the target, the last-epochs window, what
holds), and what a run and a set of seeds come to under it."""
from dataclasses import dataclass
from statistics import mean
from typing import NamedTuple


@dataclass(frozen=True)
class Rule:
    """The assignment's claim about a run: at or above ``target`` % test accuracy in each of its
    last ``window`` epochs. Its measure is the lowest accuracy of that window; it holds when the
    measure reaches the target."""
    target: float
    window: int

    def measure(self, history, key="test_acc"):
        """The lowest ``key`` accuracy over the last ``window`` epochs."""
        return min(row[key] for row in history[-self.window:])

    def movement(self, history, key="test_acc"):
        """The largest change of ``key`` from one epoch to the next among the last ``window`` epochs:
        the yardstick of a step that trains one seed, whose run moves this much by itself."""
        window = [row[key] for row in history[-self.window:]]
        return max((abs(b - a) for a, b in zip(window, window[1:])), default=0.0)

    def clears(self, accuracy):
        """Whether an accuracy (an epoch's, or a measure already taken) is at or above the target."""
        return accuracy >= self.target

    def holds(self, history, key="test_acc"):
        """Whether the run of ``history`` meets the rule."""
        return self.clears(self.measure(history, key))

    @property
    def label(self):
        return f"at least {self.target} % test accuracy in each of the last {self.window} epochs"


RULE = Rule(target=99.4, window=5)
TARGET, LAST = RULE.target, RULE.window  # the names the notebooks' text uses
PARAM_LIMIT = 8000  # the assignment's parameter budget: a network must have fewer
AVERAGED = "ema_test_acc"  # the final models are judged on their averaged weights' test accuracy


def epochs_at_target(history, key="test_acc"):
    """The epochs (1-based) whose ``key`` accuracy is at or above the target."""
    return [row["epoch"] for row in history if row.get(key) is not None and RULE.clears(row[key])]


def best(history, key="test_acc"):
    """(best value, its epoch) of a history column."""
    row = max(history, key=lambda r: r[key])
    return row[key], row["epoch"]


def lowest_test_loss(history):
    """The epoch's row (all its columns) with the lowest test loss: where a test curve stops improving."""
    return min(history, key=lambda row: row["test_loss"])


@dataclass(frozen=True)
class RunSummary:
    """What one run comes to: its best train accuracy, best ``key`` accuracy and epoch, the epochs at target."""
    best_train: float
    best_test: float
    best_epoch: int
    at_target: list


def run_summary(record, key="test_acc"):
    return RunSummary(best(record.history, "train_acc")[0], *best(record.history, key),
                      epochs_at_target(record.history, key))


class SeedRow(NamedTuple):
    """One seed under the rule: its last-window minimum (the rule's measure), best and final accuracy."""
    seed: int
    low: float
    best: float
    final: float


@dataclass(frozen=True)
class SeedSummary:
    """A set of seeds under the rule: per seed (seed, last-5 minimum, best, final), in seed order;
    the mean of the minima, the worst seed's, and how many seeds hold the target."""
    rows: list
    mean: float
    worst: float
    held: int

    def low_of(self, seed):
        """The last-window minimum of ``seed``, None where it did not run."""
        return next((row.low for row in self.rows if row.seed == seed), None)

    @property
    def worst_seeds(self):
        """Every seed at the lowest last-5 minimum, as text: "seed 17", "seeds 6, 19" (a tie)."""
        tied = [row.seed for row in self.rows if row.low == self.worst]
        return f"seed{'s' if len(tied) > 1 else ''} {spans(tied)}"

    @property
    def seeds(self):
        """The seeds as text: "1-20", "1, 2, 5" (``spans``)."""
        return spans([row.seed for row in self.rows])


def spans(numbers):
    """Whole numbers as text, three or more in a row as a range: [7, 12, 13, 14, 15] -> "7, 12-15"."""
    runs = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def seed_summary(records, key="test_acc"):
    rows = [SeedRow(r.seed, RULE.measure(r.history, key), best(r.history, key)[0], r.history[-1][key])
            for r in sorted(records, key=lambda r: r.seed)]
    lows = [row.low for row in rows]
    return SeedSummary(rows, mean(lows), min(lows), sum(RULE.clears(low) for low in lows))
