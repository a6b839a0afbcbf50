"""Results, not just execution, read from the notebooks that maintainer/matrix.py executed:

- each notebook's recorded metrics clear the floors stated here, on every backend;
- each result or comparison a notebook's text states comes out that way (tests/results/claims.py);
- a second run of each notebook (same backend and profile, through make run's runner, in the folder
  the first left) recorded exactly the same metrics as the first: the nbval run, or for the slow
  notebooks a first run at smaller counts that take the same code path (maintainer/matrix.py's SECOND_RUN);
- the sentinel credentials set during the runs appear in no executed notebook, log or report;
- each model `make bench` measures, built at its notebook's sizes, has the parameter count the
  executed notebook recorded (maintainer/bench/notebooks.py).

Run by `make test` after the notebooks (maintainer/matrix.py passes the options of conftest.py);
on its own it fails until they have been executed. Every chapter notebook must have a floor: a
new notebook without one fails here.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from dlwp_utils.backend import parse_backends
from dlwp_utils.metrics import read_metrics
from maintainer import baseline, layout
from maintainer.directions import LOWER, direction
from maintainer.matrix import SENTINELS, second_run_first
from tests.results import claims

# notebook -> {metric: floor} in the embedded profile, on every backend. Chance is stated beside. A
# floor is a minimum, or a maximum for a metric where lower is better (maintainer/directions.py).
# Every recorded accuracy has one, within about FLOOR_REACH of the lowest value measured: over make spread's
# 12 runs (3 backends x this machine, one thread, AVX2, seed 1; tests/results/spread/), and where said under
# Colab's versions. Under other versions than the pinned ones (make test-colab, make test-latest) the
# baseline's tolerances are widened instead (maintainer/baseline.py, OTHER_VERSIONS); the floors stay.
FLOOR_REACH = 0.08
FLOORS: dict[str, dict[str, float]] = {
    "chapter02/chapter02_mathematical_building_blocks.ipynb": {
        "first_network_test_accuracy": 0.87,  # chance 0.10; measured 0.947-0.975
        "scratch_test_accuracy": 0.82,  # chance 0.10; measured 0.894-0.908
    },
    "chapter08/chapter08_image_classification.ipynb": {
        "mnist_test_accuracy": 0.70,  # chance 0.10; measured 0.780-0.891 (2 epochs on 1,150 digits)
        "scratch_test_accuracy": 0.72,  # chance 0.50; measured 0.799-0.858 (800 test pictures)
        "augmented_test_accuracy": 0.81,  # chance 0.50; measured 0.881-0.935
        "feature_extraction_test_accuracy": 0.87,  # chance 0.50; measured 0.946-0.971
        "frozen_base_augmented_test_accuracy": 0.81,  # chance 0.50; measured 0.889-0.941
        "fine_tuned_test_accuracy": 0.81,  # chance 0.50; measured 0.882-0.935
        # Chance 0.50; measured 0.663-0.891: tensorflow 0.663-0.815 (0.663 on this machine with seed 42,
        # 0.724 on an Intel Xeon), jax 0.868-0.891, torch 0.777-0.869; Colab's versions 0.69-0.90.
        "mini_xception_test_accuracy": 0.65,
        "compact_xception_loss_below_chance": 0.3,  # ln(100) - last training loss: 0 at chance; measured 3.28-3.77
        "compact_xception_val_accuracy": 0.27,  # chance 0.01 (200 validation pictures); measured 0.34-0.52
        # The scratch model overfits: last minus lowest val loss; measured 0.050-0.839 (jax 0.073-0.215,
        # tensorflow 0.075-0.839, torch 0.050-0.232). With seed 1 on torch it fell to 0.0499, below this
        # floor, which holds for the notebook's SEED under every variation of the machine measured.
        "scratch_val_loss_rise": 0.05,
    },
    "chapter03/chapter03_tensorflow_pytorch_jax_keras.ipynb": {
        "tensorflow_linear_classifier_accuracy": 0.95,  # chance 0.50; measured 0.997-0.998
        "pytorch_linear_classifier_accuracy": 0.95,  # chance 0.50; measured 0.997-0.998
        "jax_linear_classifier_accuracy": 0.95,  # chance 0.50; measured 0.997-0.998
        # Chance 0.50; measured 0.972-0.997 with SEED 42 and seed 1, except seed 1 on jax: 0.867.
        "keras_linear_classifier_val_accuracy": 0.90,
    },
    "chapter03/chapter03_regression.ipynb": {
        # 1 - |error| / |true value|: 0.95 means within 5% (slope 3 +- 0.15, intercept 2 +- 0.10).
        "slope_accuracy": 0.95,  # measured 0.977-0.999
        "intercept_accuracy": 0.95,  # measured 0.977-0.993
        "logistic_val_accuracy": 0.86,  # chance 0.50; measured 0.930-0.940 (best possible ~0.93)
        "near_zero_fraction_l1": 0.92,  # noise weights |w| < 0.05 under L1; measured 1.00 (L2: 0.20-0.47)
        "l1_sparsity_gain_over_l2": 0.45,  # that fraction under L1 minus under L2; measured 0.53-0.80
        "l1_val_accuracy": 0.83,  # chance 0.50; measured 0.908-0.947
        # 1 - MAE / MAE of always predicting the median (0: no better than that), on the generated
        # California districts
        "kfold_mae_vs_baseline": 0.37,  # measured 0.451-0.458
        "test_mae_vs_baseline": 0.41,  # measured 0.492-0.527
    },
    "chapter11/chapter11_sequence_to_sequence.ipynb": {
        # Greedy translations of the 600 held-out pairs. Chance: exact match 0.00; token accuracy 0.20
        # (the commonest Spanish word at each position).
        "test_exact_match": 0.62,  # measured 0.695-0.843
        "test_token_accuracy": 0.83,  # measured 0.901-0.957
        "bidirectional_test_exact_match": 0.76,  # measured 0.837-0.925
        "bidirectional_test_token_accuracy": 0.88,  # measured 0.951-0.980
    },
    "chapter15/chapter15_language_models_gemma.ipynb": {
        # Exact match on 20 held-out "What is a plus b?" instructions in the book's template (chance
        # ~0.05 for a random sum): steps of 0.05. Measured 0.70-1.00 (before LoRA: 0.00 on all three).
        "exact_match_after_lora": 0.65,
        "exact_match_gain": 0.65,  # after minus before LoRA; measured 0.70-1.00
        # Held-out loss per response token (nats), before minus after LoRA. Before: 6.79 on all three
        # (a uniform guess over the 400 tokens: ln 400 = 5.99); after: 0.035-0.171. Measured drop
        # 6.61-6.75: the floor asks for perplexity at least e^3 = 20x lower.
        "held_out_loss_drop": 3.0,
        "held_out_loss_after_lora": 0.25,  # a ceiling: lower is better; measured 0.035-0.171
    },
}


def test_each_claim_of_the_text_holds(notebook: str, backend: str, results: Path) -> None:
    """Every result the notebook's text states (tests/results/claims.py) comes out so in this run."""
    executed = layout.executed(results, backend, layout.REPO_ROOT / notebook)
    assert executed.is_file(), f"{executed} does not exist: the notebook was not executed (run `make test`)."
    nb = json.loads(executed.read_text(encoding="utf-8"))
    problems = claims.metric_problems(notebook, read_metrics(nb)) + claims.executed_problems(notebook, nb)
    assert not problems, f"{notebook} on {backend}:\n  " + "\n  ".join(problems)


def below_floor(metric: str, value: float, floor: float) -> bool:
    """Whether `value` is worse than `floor`, in the metric's direction."""
    return value > floor if direction(metric) == LOWER else value < floor


def test_recorded_metrics_clear_their_floors(notebook: str, backend: str, results: Path) -> None:
    assert notebook in FLOORS, f"{notebook} has no floor in {__file__}: state what it must reach."
    executed = layout.executed(results, backend, layout.REPO_ROOT / notebook)
    assert executed.is_file(), f"{executed} does not exist: the notebook was not executed (run `make test`)."
    nb = json.loads(executed.read_text(encoding="utf-8"))
    failed = nb["metadata"].get("dlwp", {}).get("failed_cells", [])
    assert not failed, f"{notebook} on {backend}: code cells {failed} failed, so its metrics are not trusted."
    metrics = read_metrics(nb)
    for name, floor in FLOORS[notebook].items():
        assert name in metrics, f"{notebook} on {backend} recorded no {name} (it recorded {sorted(metrics)})."
        assert not below_floor(name, metrics[name], floor), (
            f"{notebook} on {backend}: {name} = {metrics[name]:.4f}, worse than its floor {floor}.")


def test_no_metric_fell_below_its_committed_baseline(notebook: str, backend: str, results: Path, request) -> None:
    rows = [r for r in json.loads(layout.report_json(results).read_text()) if (r["notebook"], r["backend"]) == (notebook, backend)]
    assert rows, f"{layout.report_json(results)} has no row for {notebook} on {backend}: run `make test`."
    expected = baseline.load()["metrics"].get(notebook, {}).get(backend)
    assert expected, (f"{baseline.BASELINE} has no metrics for {notebook} on {backend}: after `make test`, "
                      "record them with `make baseline` and commit the file.")
    other = request.config.getoption("--other-versions")
    drops = baseline.compare_to_baseline(rows, baseline.load()["metrics"], widen=baseline.OTHER_VERSIONS if other else None)
    how = "measured tolerances, widened for other versions (OTHER_VERSIONS)" if other else "measured tolerances"
    assert not drops, f"metrics fell below the committed baseline (maintainer/baseline.py, {how}):\n  " + "\n  ".join(
        map(str, drops)) + "\nIf the change is intended, run `make baseline` and commit tests/results/baseline.json."


# "accuracy: 0.7783", "val_loss: 0.5123" on a Keras progress bar's last line ("18/18 ━━━ 1s 47ms/step - ...")
_LOGGED = re.compile(r"\b([a-z][a-z0-9_]*): (-?\d+\.\d+(?:e[-+]?\d+)?)")
_COMPLETE_BAR = re.compile(r"^(?:\x1b\[1m)?\s*(\d+)/\1\b")


def logged_values(executed: dict) -> list[tuple[str, str]]:
    """Every value that Keras' progress bars printed when complete (an epoch's or an evaluation's last line),
    in order: many more than the recorded metrics, so that a second run that differs anywhere shows."""
    values: list[list[tuple[str, str]]] = []
    for cell in executed["cells"]:
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        for line in text.split("\n")[:-1]:
            last = re.split(r"[\r\x08]", line)[-1]  # what the terminal shows: the bar's last redraw
            if _COMPLETE_BAR.match(last):
                found = _LOGGED.findall(last)
                if values and found[:len(values[-1])] == values[-1]:
                    values.pop()  # the last step's line, cut by another print before validation redrew it
                values.append(found)
    return [pair for line in values for pair in line]


def stale_checkpoints(executed: dict, work_dir: Path) -> list[str]:
    """The model files (.keras) in `work_dir` older than the start of the run that `executed` records: a run
    that evaluates a checkpoint rewrites it first (save_best_only saves the first epoch), so such a file is
    an earlier run's, which this run could have evaluated without training it."""
    start = datetime.fromisoformat(executed["metadata"]["papermill"]["start_time"]).timestamp()
    return sorted(str(p.relative_to(work_dir)) for p in work_dir.rglob("*.keras") if p.stat().st_mtime < start)


def test_a_second_run_records_identical_metrics(notebook: str, results: Path, rerun_backend: str) -> None:
    rerun = results / layout.RERUN
    # the nbval run, or the first of a pair at smaller counts (maintainer/matrix.py's SECOND_RUN)
    first = layout.executed(second_run_first(layout.REPO_ROOT / notebook, results), rerun_backend,
                            layout.REPO_ROOT / notebook)
    second = layout.executed(rerun, rerun_backend, layout.REPO_ROOT / notebook)
    assert first.is_file() and second.is_file(), f"{first} or {second} is missing: run `make test`."
    executed = json.loads(second.read_text())
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for c in executed["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"the second run of {notebook} on {rerun_backend} failed: {errors[0]}"
    work = layout.work_dir(second_run_first(layout.REPO_ROOT / notebook, results), rerun_backend,
                           layout.REPO_ROOT / notebook)
    stale = stale_checkpoints(executed, work)
    assert not stale, (f"the second run of {notebook} on {rerun_backend} left the first run's checkpoints unwritten in "
                       f"{work}: {stale}, so what it evaluated may be the first run's model, not its own.")
    metrics_first = read_metrics(json.loads(first.read_text()))
    metrics_second = read_metrics(executed)
    assert metrics_first and metrics_first == metrics_second, (
        f"{notebook} on {rerun_backend} is not reproducible: {metrics_first} then {metrics_second}")
    logged_first, logged_second = logged_values(json.loads(first.read_text())), logged_values(executed)
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(logged_first, logged_second)) if a != b]
    assert len(logged_first) == len(logged_second) and not differ, (
        f"{notebook} on {rerun_backend} is not reproducible: its training logs differ ({len(logged_first)} then "
        f"{len(logged_second)} logged values; first difference (index, first run, second run): "
        f"{differ[0] if differ else 'none in the common part'})")


def test_no_credential_appears_in_any_output(results: Path) -> None:
    files = [p for p in results.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".log", ".md", ".json", ".html")]
    assert any(p.suffix == ".ipynb" for p in files), f"no executed notebooks under {results}"
    leaks = [f"{p}: {s[:6]}..." for p in files for s in SENTINELS.values() if s in p.read_text(errors="replace")]
    assert not leaks, f"credentials leaked into outputs: {leaks}"


def test_bench_models_have_the_notebooks_parameter_counts(results: Path, request) -> None:
    """make bench measures the notebooks' models: each, built at its notebook's sizes, has the notebook's count."""
    from maintainer.bench.models import SPECS
    from maintainer.bench.notebooks import parameter_count_problems

    covered = {layout.relative(Path(p)).as_posix() for p in request.config.getoption("--notebooks").split(",") if p}
    specs = [s for s in SPECS if s.notebook and (not covered or s.notebook in covered)]
    if not specs:
        assert covered, "no bench model names its notebook (maintainer/bench/models.py, SPECS)"
        pytest.skip(f"none of this run's notebooks ({', '.join(sorted(covered))}) builds a bench model")
    problems = []
    for backend in parse_backends(request.config.getoption("--backends")):
        for spec in specs:
            executed = layout.executed(results, backend, layout.REPO_ROOT / spec.notebook)
            if not executed.is_file():
                problems.append(f"{executed} does not exist: the notebook was not executed (run `make test`).")
                continue
            where = f"{spec.notebook} on {backend}"
            problems += parameter_count_problems(spec, json.loads(executed.read_text(encoding="utf-8")), where)
    assert not problems, "\n".join(dict.fromkeys(problems))
