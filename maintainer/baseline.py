"""The committed baseline of the notebooks' metrics: a silent drop fails `make test`, an improvement never does.

    python -m maintainer.baseline refresh     # after `make test`: write tests/results/baseline.json, say what changed
    python -m maintainer.baseline check       # compare build/test with the baseline (make test does this)

The baseline holds, per notebook x backend, the metrics the embedded profile recorded (and the
seconds each run took, which the runners use to estimate the time left). Each metric may fall by
its tolerance before the fall counts as a drop; floors (tests/results/results_check.py) stay the
absolute minimum.

The tolerances are measured, not typed: another CPU sums in another order, and a long training
then drifts as another seed would make it. `make spread` (maintainer.spread) runs every notebook
under what another machine changes (thread counts, instruction sets, seeds) and commits the
range of every metric in tests/results/spread.json. A metric may then fall to the lowest value
measured there, and SPREAD_MARGIN of the range's width below it (measured_tolerance); a metric
that no variation of the machine moved (parameter counts, and the notebooks whose numbers did not
follow the CPU) must come out exactly, to EXACT. TOLERANCES,
typed, applies only to a metric the spread has not measured yet (a test checks that every
metric of the baseline has been).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintainer import layout
from maintainer.directions import EITHER, HIGHER, LOWER, direction

Row = Mapping[str, Any]
Metrics = dict[str, dict[str, dict[str, float]]]  # notebook -> backend -> metric -> value
BASELINE = layout.REPO_ROOT / "tests" / "results" / "baseline.json"

@dataclass(frozen=True)
class Tolerance:
    """How far a metric may fall below its baseline before it counts as a drop.

    The allowed fall is max(absolute, relative * |baseline|). `direction` is the metric's, from
    maintainer/directions.py: LOWER for errors and losses (a rise is then the drop), EITHER for
    sizes and counts (a change either way is one).
    """

    absolute: float = 0.02
    relative: float = 0.0
    direction: str = HIGHER

    @property
    def higher_is_better(self) -> bool:
        return self.direction == HIGHER

    def allowed(self, baseline: float) -> float:
        """The largest fall from `baseline` that is still not a drop."""
        return max(self.absolute, self.relative * abs(baseline))


SPREAD = layout.REPO_ROOT / "tests" / "results" / "spread.json"  # written by maintainer.spread tables
SPREAD_MARGIN = 0.5  # beyond the lowest value measured, this share of the measured range again
MIN_SPREAD_RUNS = 3  # fewer measured runs than this: no measured tolerance
EXACT = 1e-4  # a metric no variation of the machine moved: equal to 4 digits (relative to max(1, |value|))
DEFAULT_TOLERANCE = Tolerance()
# Under other package versions than the pinned ones the baseline records (make test-colab, make test-latest),
# a metric may fall this much further than its tolerance: the same notebook moved chapter08's accuracies by
# up to 5 points between two version sets. Added to the allowed fall: max(0.08, 10% of the baseline).
OTHER_VERSIONS = Tolerance(absolute=0.08, relative=0.10)


@dataclass(frozen=True)
class Drop:
    """A metric that fell beyond its tolerance, or that a passing notebook no longer records."""

    notebook: str
    backend: str
    metric: str
    baseline: float
    current: float | None  # None: the metric is missing from the run
    allowed: float

    @property
    def change(self) -> float | None:
        """current - baseline (None if missing)."""
        return None if self.current is None else self.current - self.baseline

    def __str__(self) -> str:
        if self.current is None:
            return f"{self.notebook} [{self.backend}] {self.metric}: baseline {self.baseline:.4g}, not recorded"
        return (f"{self.notebook} [{self.backend}] {self.metric}: {self.baseline:.4g} -> {self.current:.4g} "
                f"({self.change:+.4g}; allowed ±{self.allowed:.4g})")


# How far each metric may fall below its baseline (absolute, in the metric's unit). The first
# matching pattern wins. Accuracies on a few hundred test samples: 0.03 (3 points) catches a
# regression like 0.96 -> 0.86 and leaves room for floating-point drift across CPUs. Which way is
# better is never stated here: maintainer/directions.py says it, for every metric.
TOLERANCES: dict[str, Tolerance | float] = {
    "*_accuracy": 0.03,
    "*exact_match*": 0.05,  # 20 to 600 held-out answers
    "*_vs_baseline": 0.05,  # 1 - MAE / the median predictor's MAE
    "*_mae": Tolerance(absolute=0.0, relative=0.10),  # at most 10% worse
    "*_abs_error": 0.02,
    "*_loss_drop": Tolerance(absolute=0.0, relative=0.25),
    "*": 0.05,
}


def tolerance_for(metric: str, tolerances: Mapping[str, Tolerance | float] | None = None,
                  notebook: str = "") -> Tolerance:
    """The tolerance of `metric`: the first key of `tolerances` matching "notebook:metric" or
    "metric" (exact, then fnmatch patterns such as "*_accuracy"), else the default.

    A bare float means Tolerance(absolute=that). The direction is always the metric's own
    (maintainer/directions.py), whatever a typed Tolerance says.
    """
    tolerances = TOLERANCES if tolerances is None else tolerances
    way = direction(metric)
    found: Tolerance | float | None = None
    for key in (tolerances or {}):
        if key in (f"{notebook}:{metric}", metric):
            found = tolerances[key]  # type: ignore[index]
            break
    if found is None:
        for key, value in (tolerances or {}).items():
            if fnmatch.fnmatchcase(f"{notebook}:{metric}", key) or fnmatch.fnmatchcase(metric, key):
                found = value
                break
    if found is None:
        return Tolerance(DEFAULT_TOLERANCE.absolute, DEFAULT_TOLERANCE.relative, way)
    if isinstance(found, Tolerance):
        return Tolerance(found.absolute, found.relative, way)
    if isinstance(found, Mapping):  # from JSON: {"absolute": .., "relative": ..}
        return Tolerance(float(found.get("absolute", 0.0)), float(found.get("relative", 0.0)), way)
    return Tolerance(absolute=float(found), direction=way)


def load_spread(path: Path = SPREAD) -> dict[str, Any]:
    """{notebook: {backend: {metric: {min, median, max, runs, values}}}} from maintainer.spread; {} if none."""
    return json.loads(Path(path).read_text(encoding="utf-8")).get("spread", {}) if Path(path).is_file() else {}


def measured_tolerance(notebook: str, backend: str, metric: str, baseline: float,
                       spread: Mapping[str, Any]) -> Tolerance | None:
    """The tolerance the measured spread gives `metric` around `baseline`, or None where it was not measured.

    Higher is better: the value may fall to the spread's minimum, and SPREAD_MARGIN of its width
    below (lower is better: rise to its maximum, and as much above; either: both). The seeds count in the width:
    where a variation of the machine moves a long training at all, another CPU moves it as far as
    another seed would. Where none did (threads, instruction sets), the metric must come out exactly.
    """
    entry = spread.get(notebook, {}).get(backend, {}).get(metric)
    if not entry or int(entry.get("runs", 0)) < MIN_SPREAD_RUNS:
        return None
    way = direction(metric)
    width = float(entry["max"]) - float(entry["min"])
    exact = EXACT * max(1.0, abs(baseline))
    if width <= exact or not entry.get("machine_moved", True):
        return Tolerance(absolute=exact, direction=way)
    below, above = baseline - float(entry["min"]), float(entry["max"]) - baseline
    reach = {HIGHER: below, LOWER: above, EITHER: max(below, above)}[way]
    return Tolerance(absolute=max(reach, 0.0) + SPREAD_MARGIN * width, direction=way)


def tolerance_of(notebook: str, backend: str, metric: str, baseline: float | None,
                 tolerances: Mapping[str, Tolerance | float] | None = None,
                 spread: Mapping[str, Any] | None = None, widen: Tolerance | None = None) -> Tolerance:
    """The tolerance one metric is judged by: `tolerances` when given (typed), else the measured
    spread's (`spread`, default tests/results/spread.json), else the typed TOLERANCES; `widen`
    (OTHER_VERSIONS under other package versions) adds its own allowed fall to it."""
    found = None
    if tolerances is None and baseline is not None:
        found = measured_tolerance(notebook, backend, metric, baseline, load_spread() if spread is None else spread)
    found = found or tolerance_for(metric, tolerances, notebook)
    if widen is None or baseline is None:
        return found
    return Tolerance(absolute=found.allowed(baseline) + widen.allowed(baseline), direction=found.direction)


@dataclass(frozen=True)
class Change:
    """One metric against its baseline, for display: `kind` is drop, improved, same or new."""

    value: float
    baseline: float | None
    kind: str
    allowed: float = 0.0

    @property
    def delta(self) -> float | None:
        return None if self.baseline is None else self.value - self.baseline


def classify(metric: str, value: float, baseline: float | None, tolerance: Tolerance) -> Change:
    """Compare one value with its baseline: a fall beyond the tolerance is a drop; any gain in the
    good direction is 'improved' (never a failure); the rest is 'same'. For a metric that is better
    neither way (EITHER), a change beyond the tolerance either way is a drop."""
    if baseline is None:
        return Change(value, None, "new")
    allowed = tolerance.allowed(baseline)
    better = {HIGHER: value - baseline, LOWER: baseline - value,
              EITHER: -abs(value - baseline)}[tolerance.direction]
    if not math.isfinite(value) or better < -allowed:
        return Change(value, baseline, "drop", allowed)
    if better > 0 and not math.isclose(value, baseline, rel_tol=1e-12, abs_tol=1e-12):
        return Change(value, baseline, "improved", allowed)
    return Change(value, baseline, "same", allowed)


def compare_to_baseline(rows: Iterable[Row], baseline: Mapping[str, Mapping[str, Mapping[str, float]]] | None,
                        tolerances: Mapping[str, Tolerance | float] | None = None,
                        spread: Mapping[str, Any] | None = None, widen: Tolerance | None = None) -> list[Drop]:
    """The metrics of `rows` that dropped beyond tolerance from `baseline`; [] if none.

    Tolerances: see tolerance_of (typed `tolerances` when given, else the measured `spread`; `widen`:
    OTHER_VERSIONS, for a run under other package versions than the baseline's).

    Only passed rows are compared (a failed or timed-out notebook already fails on its own and has
    no metrics). A metric in the baseline that a passed row did not record is a Drop with
    current=None. Notebooks or backends absent from the rows are not compared (a run of one backend
    is fine); metrics absent from the baseline are new, never drops.
    """
    drops: list[Drop] = []
    spread = load_spread() if spread is None and tolerances is None else spread
    for row in rows:
        if row.get("status") != "passed":
            continue
        notebook, backend = str(row["notebook"]), str(row["backend"])
        expected = (baseline or {}).get(notebook, {}).get(backend, {})
        metrics = row.get("metrics") or {}
        for metric, base in expected.items():
            if metric not in metrics:  # no longer recorded (its direction may be gone with it)
                drops.append(Drop(notebook, backend, metric, float(base), None, 0.0))
                continue
            tolerance = tolerance_of(notebook, backend, metric, float(base), tolerances, spread, widen)
            change = classify(metric, float(metrics[metric]), float(base), tolerance)
            if change.kind == "drop":
                drops.append(Drop(notebook, backend, metric, float(base), float(metrics[metric]), change.allowed))
    return drops


def load(path: Path = BASELINE) -> dict[str, Any]:
    """The baseline file: {"metrics": {notebook: {backend: {metric: value}}}, "seconds": {notebook: {backend: s}},
    "steps": {make test step: s}}; empty tables if there is none."""
    data = json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}
    return {key: data.get(key, {}) for key in ("metrics", "seconds", "steps")}


def step_seconds(label: str, path: Path = BASELINE) -> float | None:
    """How long a step of `make test` took when the baseline was taken."""
    return load(path)["steps"].get(label)


def expected_seconds(notebook: str, backend: str, path: Path = BASELINE) -> float | None:
    """How long `notebook` took on `backend` when the baseline was taken (for a time-left estimate)."""
    return load(path)["seconds"].get(notebook, {}).get(backend)


def baseline_from_rows(rows: Iterable[Row], only_passed: bool = True) -> Metrics:
    """{notebook: {backend: {metric: value}}} of the rows (passed ones only by default)."""
    result: Metrics = {}
    for row in rows:
        if only_passed and row.get("status") != "passed":
            continue
        if row.get("metrics"):
            result.setdefault(str(row["notebook"]), {})[str(row["backend"])] = {
                k: float(v) for k, v in sorted(row["metrics"].items())}
    return result


def update_baseline(rows: Iterable[Row], path: Path = BASELINE, *, printer: Any = print,
                    steps: Mapping[str, float] | None = None) -> list[str]:
    """Write or refresh the baseline at `path` from the passed rows; print and return the metric changes.

    Entries of notebook x backend present in the rows replace the old ones; others are kept (a run
    of one backend refreshes that backend only). Failed rows never change the baseline.
    """
    path = Path(path)
    rows = list(rows)
    stored = load(path)
    old = stored["metrics"]
    fresh = baseline_from_rows(rows)
    merged: Metrics = json.loads(json.dumps(old))
    seconds = json.loads(json.dumps(stored["seconds"]))
    for row in rows:
        if row.get("status") == "passed":
            seconds.setdefault(str(row["notebook"]), {})[str(row["backend"])] = round(float(row["seconds"]), 1)
    changes: list[str] = []
    for notebook, backends in fresh.items():
        for backend, metrics in backends.items():
            before = old.get(notebook, {}).get(backend, {})
            for metric, value in metrics.items():
                if metric not in before:
                    changes.append(f"+ {notebook} [{backend}] {metric} = {value:.4g}")
                elif not math.isclose(before[metric], value, rel_tol=1e-12, abs_tol=1e-12):
                    changes.append(f"~ {notebook} [{backend}] {metric}: {before[metric]:.4g} -> {value:.4g} "
                                   f"({value - before[metric]:+.4g})")
            changes += [f"- {notebook} [{backend}] {m} (was {v:.4g})" for m, v in before.items() if m not in metrics]
            merged.setdefault(notebook, {})[backend] = metrics
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered: dict[str, Any] = {key: {nb: {b: table[nb][b] for b in sorted(table[nb])} for nb in sorted(table)}
                               for key, table in (("metrics", merged), ("seconds", seconds))}
    ordered["steps"] = dict(steps if steps is not None else stored["steps"])
    path.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
    printer(f"Baseline {path}: " + (f"{len(changes)} change(s)" if changes else "unchanged"))
    for line in changes:
        printer("  " + line)
    return changes

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maintainer.baseline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["refresh", "check"])
    parser.add_argument("--results", type=Path, default=layout.TEST_OUT, help="the run to read (default: make test's)")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    args = parser.parse_args(argv)
    report = layout.report_json(args.results)
    if not report.is_file():
        print(f"error: {report} does not exist: run `make test` (or `make run`) first.", file=sys.stderr)
        return 2
    rows = json.loads(report.read_text(encoding="utf-8"))
    if args.command == "refresh":
        steps = layout.steps_json(args.results)
        update_baseline(rows, args.baseline, steps=json.loads(steps.read_text()) if steps.is_file() else None)
        return 0
    drops = compare_to_baseline(rows, load(args.baseline)["metrics"])
    for drop in drops:
        print(f"DROP {drop}")
    print(f"baseline: {len(rows)} runs compared with {args.baseline}, {len(drops)} drop(s)")
    return 1 if drops else 0


if __name__ == "__main__":
    sys.exit(main())
