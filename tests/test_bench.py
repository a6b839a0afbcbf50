"""maintainer.bench (make bench): the quick mode runs every model and writes the table and chart;
the report catches parameter mismatches and failed measurements."""

from __future__ import annotations

import json
import subprocess
import sys

from maintainer.bench.__main__ import write_report
from maintainer.bench.measure import time_calls
from maintainer.bench.models import SPECS


def test_quick_mode_measures_every_model_and_writes_table_and_chart(tmp_path):
    done = subprocess.run([sys.executable, "-m", "maintainer.bench", "--quick", "--backends", "tensorflow",
                           "--no-compile", "--out", str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {r["model"] for r in rows if r["engine"] == "tensorflow"} == {s.name for s in SPECS}
    assert not [r for r in rows if "error" in r]
    keras_params = {r["model"]: r["params"] for r in rows if r["engine"] == "tensorflow"}
    native = [r for r in rows if r["engine"] == "native torch"]
    assert len(native) == 3 and all(r["params"] == keras_params[r["model"]] for r in native)
    report = (tmp_path / "results.md").read_text()
    assert "QUICK MODE" in report and "| MNIST dense network | ch02 |" in report and "tokens per second" in report
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_the_report_flags_parameter_mismatches_and_errors(tmp_path):
    rows = [
        {"model": "mnist_dense", "engine": "jax", "shape": "s", "params": 10, "train_ms": 2.0, "train_first_ms": 9.0,
         "predict_ms": 1.0, "predict_first_ms": 3.0},
        {"model": "mnist_dense", "engine": "native torch", "params": 11, "train_ms": 4.0, "train_first_ms": 5.0,
         "predict_ms": 1.0, "predict_first_ms": 2.0},
        {"model": "seq2seq_lstm", "engine": "jax", "error": "ValueError: boom"},
    ]
    problems = write_report(rows, tmp_path, ["jax", "native torch"], steps=3, quick=False, seconds=1.0)
    assert any("trainable parameters differ" in p for p in problems)
    assert any("seq2seq_lstm on jax: ValueError: boom" in p for p in problems)
    report = (tmp_path / "results.md").read_text()
    assert "| MNIST dense network | ch02 | s | 2.0 | 4.0 | jax | 0.50 |" in report


def test_time_calls_separates_the_first_call():
    calls = []
    first, median = time_calls(lambda: calls.append(1), steps=5)
    assert len(calls) == 6 and first >= 0 and median >= 0
