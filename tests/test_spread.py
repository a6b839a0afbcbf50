"""maintainer.spread: each notebook under what another machine changes, and the tables the tolerances come from."""

from __future__ import annotations

import json
from pathlib import Path

from maintainer import layout, spread
from maintainer.run import Result
from tests.report_fixtures import PASSING


def run_of(variation: str, value: float, backend: str = "jax", **extra: float) -> spread.Run:
    return spread.Run(variation, PASSING, backend, "passed", 1.0, {"test_accuracy": value, "parameters": 7.0, **extra})


def test_the_spread_of_a_metric_is_its_range_over_the_variations():
    runs = [run_of("default", 0.90), run_of("threads1", 0.86), run_of("avx2", 0.91), run_of("seed1", 0.88),
            spread.Run("seed2", PASSING, "jax", "failed", 1.0, {}, "boom")]
    table = spread.spread_of(runs)[PASSING]["jax"]
    assert table["test_accuracy"] == {"min": 0.86, "median": 0.89, "max": 0.91, "runs": 4, "machine_moved": True,
                                      "values": {"avx2": 0.91, "default": 0.90, "seed1": 0.88, "threads1": 0.86}}
    assert table["parameters"]["min"] == table["parameters"]["max"] == 7.0  # failed runs count for nothing
    assert table["parameters"]["machine_moved"]  # the run moved (a width of 0 is exact all the same)


def test_a_metric_only_a_seed_moved_is_not_moved_by_the_machine():
    runs = [run_of("default", 0.90), run_of("threads1", 0.90), run_of("avx2", 0.90 + 1e-6), run_of("seed1", 0.85)]
    entry = spread.spread_of(runs)[PASSING]["jax"]["test_accuracy"]
    assert entry["min"] == 0.85 and entry["machine_moved"] is False  # 1e-6: not beyond baseline.EXACT


def test_a_run_the_machine_moved_anywhere_may_move_in_every_metric():
    """Another CPU changed chapter 11's torch token accuracy, which no variation here changed, but
    exact match did: one training trajectory, so every metric of that notebook x backend may move."""
    runs = [run_of("default", 0.90, loss=1.0), run_of("threads1", 0.90, loss=1.0), run_of("avx2", 0.90, loss=1.1),
            run_of("seed1", 0.85, loss=1.2), run_of("default", 0.90, backend="torch")]
    table = spread.spread_of(runs)[PASSING]
    assert table["jax"]["test_accuracy"]["machine_moved"] and table["jax"]["loss"]["machine_moved"]
    assert not table["torch"]["test_accuracy"]["machine_moved"]


def test_tables_are_written_per_notebook_and_as_json(tmp_path: Path):
    runs = [run_of("default", 0.90), run_of("threads1", 0.86), run_of("avx2", 0.91, backend="torch"),
            spread.Run("seed1", PASSING, "torch", "failed", 1.0, {}, "cell 3: boom")]
    written = spread.write_tables(runs, tmp_path / "spread", tmp_path / "spread.json")
    page = (tmp_path / "spread" / (Path(PASSING).stem + ".md")).read_text()
    assert "| test_accuracy | jax | 0.86 | 0.88 | 0.9 | 0.04 | yes | 0.9 | 0.86 | - |" in page
    assert "`threads1`: one thread per library" in page
    data = json.loads((tmp_path / "spread.json").read_text())
    assert data["spread"][PASSING]["torch"]["test_accuracy"]["runs"] == 1
    assert data["failed"] == [f"{PASSING} [torch, seed1]: cell 3: boom"] and len(written) == 2
    assert list(data["variations"]) == ["default", "threads1", "avx2", "seed1"]


def test_a_variations_environment_adds_to_xla_flags_and_keeps_its_own_jax_cache():
    base = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "PATH": "/bin"}
    env = spread.environment(spread.VARIATIONS["avx2"], base)
    assert env["XLA_FLAGS"] == "--xla_force_host_platform_device_count=2 --xla_cpu_max_isa=AVX2"
    assert env["ONEDNN_MAX_CPU_ISA"] == "AVX2" and env["ATEN_CPU_CAPABILITY"] == "avx2"
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(layout.COMPILE_CACHE / "jax-avx2")  # no AVX-512 program loaded
    assert spread.environment(spread.VARIATIONS["default"], base) == base
    assert spread.environment(spread.VARIATIONS["seed1"], base) == base and spread.VARIATIONS["seed1"].parameters == {"SEED": 1}


def test_run_skips_what_passed_and_records_each_run_as_it_ends(tmp_path: Path, monkeypatch):
    calls = []

    def fake_run_notebook(notebook, backend, out, profile, timeout, env=None, parameters=None):
        calls.append((Path(out).name, backend, dict(parameters or {}), env.get("OMP_NUM_THREADS")))
        seed = (parameters or {}).get("SEED", 42)
        return Result(str(layout.relative(notebook)), backend, "passed", 2.0, {"test_accuracy": 0.9 + seed / 1000})

    monkeypatch.setattr(spread, "run_notebook", fake_run_notebook)
    notebook = layout.REPO_ROOT / PASSING
    done = spread.Run("default", PASSING, "jax", "passed", 1.0, {"test_accuracy": 0.5})
    spread.save_runs([done, spread.Run("threads1", PASSING, "jax", "failed", 1.0, {}, "x")], tmp_path / "results.json")
    runs = spread.run([notebook], ["jax"], [spread.VARIATIONS[v] for v in ("default", "threads1", "seed1")],
                      tmp_path, 1, 60.0, {})
    assert sorted(calls) == [("seed1", "jax", {"SEED": 1}, None), ("threads1", "jax", {}, "1")]  # not default again
    stored = {r.variation: r for r in spread.load_runs(tmp_path / "results.json")}
    assert stored["default"].metrics == {"test_accuracy": 0.5} and stored["threads1"].status == "passed"
    assert stored["seed1"].metrics == {"test_accuracy": 0.901} and len(runs) == 3
    report = json.loads(layout.report_json(tmp_path / "seed1").read_text())  # what make baseline reads
    assert report[0]["metrics"] == {"test_accuracy": 0.901} and report[0]["notebook"] == PASSING


def test_an_unknown_variation_is_one_clear_error(capsys):
    assert spread.main(["run", "--variations", "default,fast"]) == 2
    assert "unknown variation(s) fast; known: default, threads1" in capsys.readouterr().err


# --------------------------------------------------------------------------- the committed tables

def committed_runs() -> dict[tuple[str, str, str], dict[str, float]]:
    """{(notebook, backend, variation): metrics} of every run in the committed tests/results/spread.json."""
    data = json.loads(spread.SPREAD_JSON.read_text(encoding="utf-8"))
    runs: dict[tuple[str, str, str], dict[str, float]] = {}
    for notebook, backends in data["spread"].items():
        for backend, metrics in backends.items():
            for metric, entry in metrics.items():
                for variation, value in entry["values"].items():
                    runs.setdefault((notebook, backend, variation), {})[metric] = value
    return runs


def test_the_committed_spread_covers_every_notebook_backend_and_variation():
    data = json.loads(spread.SPREAD_JSON.read_text(encoding="utf-8"))
    assert data["failed"] == [], f"make spread left failed runs: {data['failed']}"
    runs = committed_runs()
    notebooks = {layout.relative(p).as_posix() for p in layout.chapter_notebooks()}
    expected = {(nb, b, v) for nb in notebooks for b in ("jax", "tensorflow", "torch") for v in spread.DEFAULT_VARIATIONS}
    assert expected <= set(runs), f"not measured: {sorted(expected - set(runs))}: run `make spread`"
    for notebook in notebooks:
        assert (spread.TABLES / (Path(notebook).stem + ".md")).is_file()


def test_every_claim_of_the_text_holds_in_every_measured_run():
    """What the notebooks' text says their runs show (tests/results/claims.py), under every variation
    (other threads, instruction sets, and another seed), not just this machine's one run."""
    from tests.results import claims

    wrong = [f"{notebook} [{backend}, {variation}]: {problem}"
             for (notebook, backend, variation), metrics in sorted(committed_runs().items())
             for problem in claims.metric_problems(notebook, metrics)]
    assert not wrong, "\n".join(wrong)


def test_every_floor_holds_on_every_measured_machine():
    """The floors (asserted with the notebooks' SEED) hold under every variation of the machine.

    Not under every seed: another seed is another run a learner may make, which the margins above
    cover; a floor is the minimum of the run `make test` makes, wherever it runs.
    """
    from tests.results.results_check import FLOORS, below_floor

    machine = {name for name, v in spread.VARIATIONS.items() if v.machine} | {"default"}
    low = [f"{nb} [{b}, {v}]: {name} {metrics[name]:.3f}, worse than its floor {floor}"
           for (nb, b, v), metrics in sorted(committed_runs().items())
           if v in machine for name, floor in FLOORS.get(nb, {}).items()
           if name in metrics and below_floor(name, metrics[name], floor)]
    assert not low, "\n".join(low)


def test_every_baseline_metric_has_a_measured_tolerance():
    """No metric of the committed baseline is judged by a typed tolerance: each has its measured spread."""
    from maintainer import baseline

    committed, table = baseline.load()["metrics"], baseline.load_spread()
    unmeasured = [f"{nb} [{b}] {m}" for nb, bs in committed.items() for b, ms in bs.items() for m in ms
                  if baseline.measured_tolerance(nb, b, m, ms[m], table) is None]
    assert not unmeasured, f"no measured spread (run `make spread`, then commit tests/results/spread*): {unmeasured}"


def test_every_recorded_accuracy_has_a_floor_within_reach_of_the_lowest_measured_value():
    from maintainer.directions import HIGHER, direction
    from tests.results.results_check import FLOOR_REACH, FLOORS

    runs = committed_runs()
    problems = []
    for (notebook, _, _), metrics in runs.items():
        for name in metrics:
            if ("accuracy" in name or "exact_match" in name) and direction(name) == HIGHER and name != "exact_match_gain" \
                    and "before" not in name and name not in FLOORS.get(notebook, {}):
                problems.append(f"{notebook}: {name} has no floor")
    for notebook, floors in FLOORS.items():
        for name, floor in floors.items():
            values = [m[name] for (nb, _, _), m in runs.items() if nb == notebook and name in m]
            worst = min(values) if direction(name) == HIGHER else max(values)
            if abs(worst - floor) > FLOOR_REACH + 1e-9 and ("accuracy" in name or "exact_match" in name):
                problems.append(f"{notebook}: {name}'s floor {floor} is more than {FLOOR_REACH} from {worst:.3f}")
    assert not problems, "\n".join(sorted(set(problems)))
