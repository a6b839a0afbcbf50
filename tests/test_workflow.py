"""The GitHub workflow: valid against the published workflow schema, and sharded, pinned and scoped as promised."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from maintainer.layout import REPO_ROOT, chapter_notebooks, relative

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "test.yml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_passes_the_github_workflow_schema():
    # check-jsonschema carries SchemaStore's github-workflow schema: no network needed.
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_to_a_commit():
    uses = re.findall(r"uses:\s*(\S+)", WORKFLOW.read_text())
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def test_runs_are_cancelled_when_superseded_and_read_only():
    flow = workflow()
    assert flow["concurrency"]["cancel-in-progress"] is True and flow["permissions"] == {"contents": "read"}


def test_the_notebooks_are_sharded_one_job_per_notebook_and_backend():
    matrix = workflow()["jobs"]["notebooks"]["strategy"]["matrix"]
    assert matrix["backend"] == ["jax", "tensorflow", "torch"]
    assert matrix["notebook"] == [relative(nb).as_posix() for nb in chapter_notebooks()]
    report = workflow()["jobs"]["report"]
    assert report["needs"] == "notebooks" and "--parts results" in str(report["steps"])


def test_artifacts_hold_no_working_folders_and_expire():
    text = WORKFLOW.read_text()
    assert "!build/test/**/*.work/**" in text
    uploads = [s for job in workflow()["jobs"].values() for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads and all("retention-days" in s["with"] for s in uploads)


def test_colab_and_newest_versions_run_weekly_and_on_demand_with_colabs_python():
    flow = workflow()
    assert flow[True]["schedule"] and "workflow_dispatch" in flow[True]  # YAML reads the key `on` as True
    job = flow["jobs"]["other-versions"]
    assert "schedule" in job["if"] and set(job["strategy"]["matrix"]["versions"]) == {"colab", "latest"}
    pythons = {i["versions"]: i["python"] for i in job["strategy"]["matrix"]["include"]}
    assert pythons["colab"] == "3.13"
    assert "schedule" not in flow["jobs"]["unit"]["if"]  # the pinned set: pushes and pull requests


def test_jax_shards_keep_their_compilation_cache_per_notebook_and_versions():
    from maintainer import compile_cache

    steps = workflow()["jobs"]["notebooks"]["steps"]
    cached = [s for s in steps if "actions/cache" in s.get("uses", "")]
    assert len(cached) == 1 and cached[0]["if"] == "matrix.backend == 'jax'"
    assert REPO_ROOT / cached[0]["with"]["path"] == compile_cache.JAX_CACHE
    key = cached[0]["with"]["key"]
    assert "hashFiles('requirements.txt')" in key and "matrix.notebook" in key
    assert steps.index(cached[0]) < next(i for i, s in enumerate(steps) if "--parts notebooks" in s.get("run", ""))


def test_the_out_of_space_tests_run_as_root_on_a_real_tmpfs_and_a_skip_fails_the_job(tmp_path):
    steps = workflow()["jobs"]["unit"]["steps"]
    runs = [step.get("run", "") for step in steps]
    as_root = [r for r in runs if "tests/test_faults.py" in r]
    assert len(as_root) == 1 and as_root[0].startswith("sudo -E") and "DLWP_REQUIRE_TMPFS=1" in as_root[0]
    check = runs[runs.index(as_root[0]) + 1]
    junit = re.search(r"--junitxml=(\S+)", as_root[0]).group(1)
    assert check.rstrip().endswith(junit)
    command = check.rstrip()[: -len(junit)].strip()
    script = command[len('python3 -c "'):-1]
    for tests, skipped, code in ((12, 0, 0), (12, 1, 1), (0, 0, 1)):
        report = tmp_path / f"{tests}-{skipped}.xml"
        report.write_text(f'<testsuites><testsuite name="pytest" tests="{tests}" skipped="{skipped}" errors="0" '
                          f'failures="0"/></testsuites>')
        done = subprocess.run([sys.executable, "-c", script, str(report)], capture_output=True, text=True)
        assert done.returncode == code, (tests, skipped, done.stdout, done.stderr)


def test_every_push_to_main_publishes_the_report_with_the_official_pages_actions():
    jobs = workflow()["jobs"]
    site = [step for step in jobs["report"]["steps"] if "build/site" in str(step)]
    assert [s.get("uses", "").split("@")[0] for s in site] == ["", "actions/upload-pages-artifact"]
    assert all(s["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'" for s in site)
    assert "build/index.html" in site[0]["run"] and "build/notebooks" in site[0]["run"]
    pages = jobs["pages"]
    assert pages["needs"] == "report" and pages["if"] == site[0]["if"]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in pages["steps"]] == ["actions/configure-pages", "actions/deploy-pages"]
