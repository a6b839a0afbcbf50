"""TROUBLESHOOTING.md: an entry for every help link the helper's messages carry, each quoting the message the
helper really prints; linked from the READMEs; and dlwp.environment_report() never shows a credential."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from dlwp_utils import backend, kaggle, out_of_memory
from dlwp_utils.data.gemma import GEMMA_LICENCE
from maintainer.layout import REPO_ROOT

PAGE = REPO_ROOT / "TROUBLESHOOTING.md"


def entries() -> dict[str, str]:
    """{anchor: the entry's text}, the anchors as GitHub makes them from the "## " headings."""
    parts = re.split(r"^## (.+)$", PAGE.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-"): body
            for title, body in zip(parts[1::2], parts[2::2])}


def quoted(anchor: str) -> str:
    """The first line of the entry's first code block: the message as the page quotes it."""
    return re.search(r"```\n(.+)\n", entries()[anchor]).group(1)


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__("refused")
        self.response = type("Response", (), {"status_code": status})()


def messages(monkeypatch) -> dict[str, str]:
    """What the helper prints, produced by its own code, for each entry that quotes a message."""
    found = {"out-of-memory": out_of_memory.message(RuntimeError("CUDA out of memory"), "accelerator", {}),
             "no-gpu-on-colab": backend.NO_GPU_ON_COLAB}
    found["kaggle-refuses-a-download-403"] = str(kaggle._explain(
        _Refused(403), what="the Gemma preset gemma3_1b", page="https://www.kaggle.com/models/keras/gemma3",
        consent=GEMMA_LICENCE))
    found["kaggle-rejects-your-credentials-401"] = str(kaggle._explain(
        _Refused(401), what="the dogs-vs-cats competition data", page="p", consent="the competition rules"))
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(REPO_ROOT / "build" / "no-home"))
    with pytest.raises(kaggle.KaggleError) as refused:
        kaggle.require_credentials("the dogs-vs-cats competition data")
    found["no-kaggle-credentials-found"] = str(refused.value)
    monkeypatch.setattr(backend, "_version", lambda package: "3.12.0")
    found["a-version-warning"] = backend.version_warnings()[0]
    return found


def test_every_help_link_of_the_helper_has_its_entry():
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "dlwp_utils").rglob("*.py"))
    anchors = set(re.findall(r'help_link\("([a-z0-9-]+)"\)', sources)) | {out_of_memory.ANCHOR}
    missing = sorted(anchors - set(entries()))
    assert not missing, f"TROUBLESHOOTING.md has no entry for {missing}"
    for anchor, body in entries().items():
        assert "**Why.**" in body and "**Fix.**" in body and "**What you see.**" in body, anchor


def test_each_entry_quotes_the_message_the_helper_prints(monkeypatch):
    for anchor, text in messages(monkeypatch).items():
        assert quoted(anchor) in text, f"TROUBLESHOOTING.md#{anchor} quotes {quoted(anchor)!r}; the helper prints {text!r}"


def test_a_backend_switch_quotes_the_real_refusal():
    done = subprocess.run([sys.executable, "-c", "import os; os.environ['KERAS_BACKEND'] = 'torch'; import keras; "
                           "os.environ['KERAS_BACKEND'] = 'jax'; import dlwp_utils as d; d.check_backend()"],
                          capture_output=True, text=True, timeout=300)
    assert quoted("switching-the-backend-needs-a-restart") in done.stderr
    assert "TROUBLESHOOTING.md#switching-the-backend-needs-a-restart" in done.stderr


def test_the_readmes_link_the_page():
    for readme in [REPO_ROOT / "README.md", *sorted(REPO_ROOT.glob("chapter*/README.md"))]:
        assert "TROUBLESHOOTING.md" in readme.read_text(encoding="utf-8"), readme


def test_the_environment_report_never_shows_a_credential():
    sentinels = {"KAGGLE_API_TOKEN": "KGAT_sentinel_token_0c1d", "KAGGLE_USERNAME": "sentinel-user-77",
                 "KAGGLE_KEY": "sentinel-key-9f3e2a", "HF_TOKEN": "hf_sentinel_5b7c"}
    done = subprocess.run([sys.executable, "-c", "import dlwp_utils as d; d.check_backend(); d.environment_report()"],
                          capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "KERAS_BACKEND": "torch", **sentinels})
    assert done.returncode == 0, done.stderr
    report = done.stdout[done.stdout.index("---- dlwp environment report"):]
    print(report)
    for name in ("where:", "helper: dlwp-utils", "packages: keras", "KERAS_BACKEND: torch", "profile:", "devices:",
                 "host memory:", "Kaggle credentials: found in"):
        assert name in report
    leaked = [name for name, value in sentinels.items() if value in done.stdout + done.stderr]
    assert not leaked, f"the report shows {leaked}"


def test_the_issue_template_asks_for_the_report_the_notebook_and_the_cell():
    import yaml

    template = yaml.safe_load((REPO_ROOT / ".github" / "ISSUE_TEMPLATE" / "notebook-problem.yml").read_text())
    fields = {item["id"]: item for item in template["body"] if "id" in item}
    assert {"notebook", "cell", "environment"} <= set(fields)
    assert all(fields[name]["validations"]["required"] for name in ("notebook", "cell", "environment"))
    assert "environment_report()" in fields["environment"]["attributes"]["description"]


def test_a_help_link_uses_the_installed_repository_and_a_plain_path_without_one(monkeypatch):
    import importlib.metadata

    from dlwp_utils import errors

    assert errors.help_link("out-of-memory") == (
        f"Help: {errors.repository()}/blob/main/TROUBLESHOOTING.md#out-of-memory.")
    assert errors.repository() == __import__("maintainer.hygiene").hygiene.repository_url()  # pyproject's, one home

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "metadata", missing)
    assert errors.help_link("out-of-memory") == "Help: TROUBLESHOOTING.md#out-of-memory in the repository."
