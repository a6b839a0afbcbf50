"""maintainer.run (make run): report rows for passing, failing, dying and hanging notebooks."""

from __future__ import annotations

import json

from maintainer import layout, run
from tests.notebook_fixtures import write_notebook

RECORD = "from dlwp_utils.metrics import record_metric\nrecord_metric('test_accuracy', 0.875)"


def test_the_runner_reports_each_kind_of_failure_and_runs_everything(tmp_path, capsys):
    good = write_notebook(tmp_path / "good.ipynb", "x = 41", RECORD)
    failing = write_notebook(tmp_path / "failing.ipynb", "x = 1", "# the broken cell\nraise ValueError('planted failure')",
                             RECORD)
    dying = write_notebook(tmp_path / "dying.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    hanging = write_notebook(tmp_path / "hanging.ipynb", "x = 1", "import time\ntime.sleep(600)")
    out = tmp_path / "build"
    code = run.main([str(p) for p in (good, failing, dying, hanging)]
                    + ["--backends", "torch", "--out", str(out), "--timeout", "25", "--jobs", "4"])
    assert code == 1
    rows = {r["notebook"]: r for r in json.loads((out / "report.json").read_text())}
    assert rows["good.ipynb"]["status"] == "passed" and rows["good.ipynb"]["metrics"] == {"test_accuracy": 0.875}
    assert rows["failing.ipynb"]["status"] == "failed"
    assert rows["failing.ipynb"]["problem"] == "code cell 2 (`raise ValueError('planted failure')`): ValueError: planted failure"
    assert rows["dying.ipynb"]["status"] == "failed"
    assert rows["dying.ipynb"]["problem"].startswith("code cell 1 (`import os, signal`)")
    assert "DeadKernelError" in rows["dying.ipynb"]["problem"] or "died" in rows["dying.ipynb"]["problem"]
    assert rows["hanging.ipynb"]["status"] == "timeout"
    assert rows["hanging.ipynb"]["problem"] == "timed out after 25 s in code cell 2 (`import time`)"
    report = (out / "report.md").read_text()
    assert "4 runs, 1 passed, 3 failed" in report
    assert "| good.ipynb | torch | passed |" in report and "test_accuracy=0.875" in report
    assert (out / "torch" / "good.ipynb").is_file()


def test_a_wrong_backend_name_stops_the_runner_with_one_clear_error(capsys):
    assert run.main(["--backends", "pytorch"]) == 2
    err = capsys.readouterr().err
    assert 'Did you mean "torch"?' in err and err.count("\n") == 1


def test_a_missing_notebook_is_an_error(tmp_path, capsys):
    assert run.main([str(tmp_path / "nope.ipynb"), "--backends", "jax"]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_an_output_folder_that_cannot_be_written_is_named(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert run.main(["--backends", "torch", "--out", str(blocker / "build")]) == 2
    err = capsys.readouterr().err
    assert str(blocker / "build") in err and "OUT" in err


COUNTER = """\
from pathlib import Path
from dlwp_utils.metrics import record_metric
runs = int(Path("runs.txt").read_text()) + 1 if Path("runs.txt").exists() else 1
Path("runs.txt").write_text(str(runs))
record_metric("runs_seen", runs)"""


def test_runs_are_fresh_by_default_and_in_place_when_reusing_an_earlier_runs_folders(tmp_path):
    nb = write_notebook(tmp_path / "counter.ipynb", COUNTER)
    first, second = tmp_path / "build", tmp_path / "rerun"
    seen = []
    for out, extra in ((first, []), (first, []), (second, ["--reuse-work-of", str(first)]),
                       (second, ["--reuse-work-of", str(first)])):
        assert run.main([str(nb), "--backends", "torch", "--out", str(out), *extra]) == 0
        seen.append(json.loads(layout.report_json(out).read_text())[0]["metrics"]["runs_seen"])
    assert seen == [1, 1, 2, 3]
    assert (layout.work_dir(first, "torch", nb) / "runs.txt").read_text() == "3"
    assert not layout.work_dir(second, "torch", nb).exists()


def test_the_book_profile_lets_each_notebook_run_its_t4_estimate_times_the_factor():
    committed = layout.REPO_ROOT / "benchmarks" / "book-cost" / "book_cost.json"
    estimates = [n for n in json.loads(committed.read_text())["notebooks"] if "t4_minutes" in n]
    assert {n["notebook"] for n in estimates} == set(run.BOOK_T4_MINUTES)
    for n in estimates:
        allowed = run.notebook_timeout(layout.REPO_ROOT / n["notebook"], "book")
        assert allowed >= run.BOOK_TIMEOUT_FACTOR * 60 * n["t4_minutes"], (
            f"{committed} estimates {n['t4_minutes']:.0f} minutes for {n['notebook']} on {n['backend']}: raise its "
            "BOOK_T4_MINUTES in maintainer/run.py to at least that")
    chapter08 = layout.REPO_ROOT / "chapter08" / "chapter08_image_classification.ipynb"
    estimate = max(n["t4_minutes"] for n in estimates if n["notebook"] == layout.relative(chapter08).as_posix())
    assert run.notebook_timeout(chapter08, "book") > 60 * estimate > run.DEFAULT_TIMEOUT
    assert run.notebook_timeout(chapter08, "embedded") == run.DEFAULT_TIMEOUT
    assert run.notebook_timeout(layout.REPO_ROOT / "elsewhere.ipynb", "book") == run.DEFAULT_TIMEOUT


# The end of a real log of make test's: the kernel of a run started beside others could not bind its port.
PORT_TAKEN_LOG = """[IPKernelApp] WARNING | Kernel is running over TCP without encryption.
  File "/venv/lib/python3.11/site-packages/zmq/sugar/socket.py", line 322, in bind
zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:35871')
  File "/venv/lib/python3.11/site-packages/jupyter_client/client.py", line 207, in _async_wait_for_ready
    raise RuntimeError(msg)
RuntimeError: Kernel died before replying to kernel_info
"""


def test_a_kernel_that_lost_its_port_at_start_up_is_started_once_more_and_a_real_failure_is_not(tmp_path, monkeypatch):
    calls = []
    real = run.run_logged

    def port_taken_first(command, log_path, env, timeout, cwd=None):
        calls.append(command)
        if len(calls) == 1:
            log_path.write_text(PORT_TAKEN_LOG)
            return 1
        return real(command, log_path, env, timeout, cwd)

    monkeypatch.setattr(run, "run_logged", port_taken_first)
    good = write_notebook(tmp_path / "good.ipynb", RECORD)
    result = run.run_notebook(good, "torch", tmp_path / "build")
    assert len(calls) == 2 and calls[0] == calls[1]
    assert result.status == "passed" and result.metrics == {"test_accuracy": 0.875}
    log = layout.log(tmp_path / "build", "torch", good).read_text()
    assert run.PORT_RETRY_NOTE in log and "Address already in use" in log

    # A kernel that dies for another reason, or a log with only one of the two signs, is not started again.
    assert not run.kernel_lost_its_port("RuntimeError: Kernel died before replying to kernel_info")
    assert not run.kernel_lost_its_port("OSError: [Errno 98] Address already in use")
    calls.clear()
    dying = write_notebook(tmp_path / "dying.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    monkeypatch.setattr(run, "run_logged", lambda *args, **kwargs: calls.append(args) or real(*args, **kwargs))
    assert run.run_notebook(dying, "torch", tmp_path / "build").status == "failed" and len(calls) == 1
