"""make test's job pool: every notebook x backend shares the slots, longest chain first, waits kept."""

from __future__ import annotations

import os
import shutil
import threading
import time

from maintainer.matrix import Job, run_jobs


def recording(log: list[str], label: str, ok: bool = True, seconds: float = 0.0):
    def run() -> tuple[bool, str]:
        log.append(f"start {label}")
        time.sleep(seconds)
        log.append(f"end {label}")
        return ok, ""
    return run


def test_the_longest_chain_starts_first_and_a_second_run_waits_for_its_first():
    log: list[str] = []
    jobs = [Job("short", recording(log, "short"), 10.0),
            Job("first", recording(log, "first"), 30.0),
            Job("long", recording(log, "long"), 50.0),
            Job("again", recording(log, "again"), 30.0, after=["first"])]
    outcome = run_jobs(jobs, slots=1)
    assert outcome == dict.fromkeys(["short", "first", "long", "again"], True)
    # first + again (60 s) is a longer chain than long (50 s): first goes first; then the longest ready job
    assert [e for e in log if e.startswith("start")] == ["start first", "start long", "start again", "start short"]


def test_no_more_jobs_run_at_once_than_there_are_slots():
    lock = threading.Lock()
    now, most = [0], [0]

    def run() -> tuple[bool, str]:
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.05)
        with lock:
            now[0] -= 1
        return True, ""

    assert all(run_jobs([Job(f"j{i}", run, 1.0) for i in range(6)], slots=2).values())
    assert most[0] == 2


def test_a_failure_or_an_exception_fails_only_its_job_and_the_rest_still_run(capsys):
    def boom() -> tuple[bool, str]:
        raise OSError("disk on fire")

    log: list[str] = []
    outcome = run_jobs([Job("fails", recording(log, "fails", ok=False), 3.0), Job("raises", boom, 2.0),
                        Job("after", recording(log, "after"), 1.0, after=["fails"]),
                        Job("fine", recording(log, "fine"), 1.0)], slots=2)
    assert outcome == {"fails": False, "raises": False, "after": True, "fine": True}
    assert "OSError: disk on fire" in capsys.readouterr().out


def test_a_job_that_waits_for_a_job_not_in_the_plan_fails_instead_of_hanging(capsys):
    outcome = run_jobs([Job("orphan", recording([], "orphan"), 1.0, after=["missing"])], slots=2)
    assert outcome == {"orphan": False}
    assert "which this run does not have" in capsys.readouterr().out


def test_a_notebook_whose_kernel_dies_is_stopped_and_reported_not_waited_for(tmp_path, monkeypatch):
    from maintainer import matrix
    from tests.notebook_fixtures import write_notebook

    monkeypatch.setattr(matrix, "EXECUTED", tmp_path / "executed")
    monkeypatch.setattr(matrix, "JOB_TIMEOUT_MIN", 20.0)
    monkeypatch.setattr(matrix, "JOB_TIMEOUT_FACTOR", 0)
    folder = matrix.ROOT / "build" / f"dead-kernel-{os.getpid()}"  # nbval runs from the repo root, where its conftest applies
    folder.mkdir(parents=True, exist_ok=True)
    try:
        nb = write_notebook(folder / "dies.ipynb", "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)",
                            "y = 2")
        env = dict(os.environ, KERAS_BACKEND="torch")
        started = time.perf_counter()
        ok, detail = matrix.nbval_job(nb, "torch", env).run()
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert not ok
    if "no result after" in detail:  # nbval waited on the dead kernel: the job's timeout stopped it
        assert seconds < 120 and "dies.log" in detail
    else:  # nbval noticed the dead kernel itself: still a failure, with its output
        assert "dies" in detail


def test_the_book_paths_environment_serves_the_mirror_and_puts_the_fixtures_checksums_in_the_kernels(tmp_path):
    """What the book path's kernels get: DLWP_MIRROR serving the tests' mirror, a fresh cache, and (test markup) the
    fixtures' checksums in place of the published ones; a plain process keeps the published ones."""
    import json
    import subprocess
    import sys
    import urllib.request

    from dlwp_utils.data import mirror, mnist
    from maintainer.matrix import SENTINELS, book_mirror

    show = ("from dlwp_utils.data import instructions, mnist, pretrained, regression; "
            "print(mnist.MNIST_SHA256, instructions.DOLLY_SHA256, pretrained.IMAGENET_NO_TOP['VGG16'][2])")
    with book_mirror(dict(os.environ), tmp_path) as env:
        with urllib.request.urlopen(env["DLWP_MIRROR"] + "/" + mirror.INDEX) as answer:
            files = json.loads(answer.read())["files"]
        assert mirror.http_relative(mnist.MNIST_URL) in files
        assert any(name.startswith("kaggle/models/keras/gemma3/keras/gemma3_1b/") for name in files)
        assert env["DLWP_CACHE_DIR"] == str(tmp_path / "cache") and env["KAGGLE_KEY"] == SENTINELS["KAGGLE_KEY"]
        patched = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True)
    published = json.loads((tmp_path / "fixtures" / "published.json").read_text())["published"]
    assert patched.stdout.split() == [published["mnist"], published["dolly"], published["imagenet-vgg16"]]
    plain = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, check=True)
    assert plain.stdout.split()[0] == mnist.MNIST_SHA256 != published["mnist"]


def test_a_slow_notebook_runs_twice_at_smaller_counts_and_the_others_again_after_their_nbval_run(monkeypatch):
    """The second run's jobs: SECOND_RUN's notebooks as a pair at its counts, the second in the first's folder;
    the others once, in the folder of their nbval run, at their own counts."""
    from maintainer import layout, matrix

    calls: list[tuple] = []

    def fake_run(notebook, backend, out_dir, reuse_work_of=None, env=None, parameters=None, **_):
        calls.append((out_dir, reuse_work_of, parameters))
        return matrix.Result(layout.relative(notebook).as_posix(), backend, "passed", 1.0, {})

    monkeypatch.setattr(matrix, "run_notebook", fake_run)
    [slow_name] = [n for n in matrix.SECOND_RUN if n.startswith("chapter08/")]
    slow, quick = layout.REPO_ROOT / slow_name, layout.REPO_ROOT / "chapter02/chapter02_mathematical_building_blocks.ipynb"
    results: list = []
    first, again = matrix.second_run_jobs(slow, "torch", {}, results)
    [only] = matrix.second_run_jobs(quick, "torch", {}, results)
    assert first.label.startswith("first") and again.after == [first.label]
    assert only.after == [matrix.job_label("nbval", "torch", quick)]
    nbval = Job(only.after[0], lambda: (True, ""), 1.0)
    assert all(run_jobs([first, again, nbval, only], slots=1).values())
    parameters = matrix.SECOND_RUN[slow_name][0]
    pair = matrix.EXECUTED / layout.RERUN_FIRST
    assert calls[:2] == [(pair, None, parameters), (matrix.RERUN, pair, parameters)]
    assert calls[2] == (matrix.RERUN, matrix.EXECUTED, None)
    assert len(results) == 2  # the second runs, for their report; the first of a pair is not one
    assert matrix.second_run_first(slow) == pair and matrix.second_run_first(quick) == matrix.EXECUTED


def test_the_second_runs_counts_are_smaller_values_of_the_notebooks_own_parameters():
    """papermill sets an unknown name without a word: a renamed parameter would make the pair run at full size."""
    import json

    from maintainer import layout, matrix

    class EmbeddedProfile:
        by_profile = staticmethod(lambda book, embedded: embedded)

    for name, (parameters, _) in matrix.SECOND_RUN.items():
        cell = next("".join(c["source"]) for c in json.loads((layout.REPO_ROOT / name).read_text())["cells"]
                    if "parameters" in c["metadata"].get("tags", []))
        nbval_run: dict = {"dlwp": EmbeddedProfile}
        exec(cell, nbval_run)
        for key, value in parameters.items():
            assert key in nbval_run, f"{name} has no parameter {key}"
            assert 1 <= value <= nbval_run[key], f"{name}: {key} = {value}, the nbval run's is {nbval_run[key]}"
        assert any(value < nbval_run[key] for key, value in parameters.items())
