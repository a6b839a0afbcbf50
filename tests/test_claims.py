"""tests/results/claims.py: every phrase is still in its notebook, every chapter notebook has claims,
and the claims that need no run hold (nbval's committed outputs, the committed spread and bench)."""

from __future__ import annotations

import json
from functools import cache

import pytest

from maintainer import baseline, layout
from maintainer.directions import DIRECTIONS
from tests.results import claims

CHAPTER_NOTEBOOKS = sorted(layout.relative(p).as_posix() for p in layout.chapter_notebooks())


@cache
def notebook(path: str) -> dict:
    return json.loads((layout.REPO_ROOT / path).read_text(encoding="utf-8"))


def markdown(path: str) -> list[str]:
    return ["".join(c["source"]) for c in notebook(path)["cells"] if c["cell_type"] == "markdown"]


def test_every_chapter_notebook_states_its_claims():
    missing = [nb for nb in CHAPTER_NOTEBOOKS if not claims.claims_of(nb)]
    assert not missing, f"no claims in tests/results/claims.py for {missing}: add what their text says the run shows."
    unknown = sorted({c.notebook for c in claims.CLAIMS} - set(CHAPTER_NOTEBOOKS))
    assert not unknown, f"claims for notebooks that do not exist: {unknown}"


@pytest.mark.parametrize("claim", claims.CLAIMS, ids=lambda c: f"{c.notebook.split('/')[0]}:{c.phrase[:40]}")
def test_each_claim_is_in_its_notebook_and_holds_where_no_run_is_needed(claim):
    assert any(claim.phrase in text for text in markdown(claim.notebook)), (
        f"{claim.notebook} no longer says {claim.phrase!r}: update tests/results/claims.py with the text.")
    check = claim.check
    if isinstance(check, claims.Printed):
        problem = check.static_problem(notebook(claim.notebook))
    elif isinstance(check, (claims.SpreadRange, claims.Bench)):
        problem = check.static_problem(claim.notebook)
    elif isinstance(check, claims.Labelled):
        problem = check.static_problem(claim.phrase)
    else:
        unknown = [m for m in check.metrics() if m not in DIRECTIONS]
        problem = f"no direction for {unknown} in maintainer/directions.py" if unknown else None
    assert problem is None, f"{claim.notebook}, {claim.phrase!r}: {problem}"


def test_the_committed_baseline_bears_out_every_claim_on_its_metrics():
    """The run the baseline recorded, on each backend, shows what the text says (make test checks each new run)."""
    committed = baseline.load()["metrics"]
    wrong = [f"{nb} [{backend}]: {problem}" for nb in CHAPTER_NOTEBOOKS for backend, metrics in committed[nb].items()
             for problem in claims.metric_problems(nb, metrics)]
    assert not wrong, "\n".join(wrong)


def test_a_claim_check_fails_when_the_run_contradicts_it():
    beats = claims.Beats("held_out_loss_after_lora", "held_out_loss_before_lora", 3.0)
    assert beats.problem({"held_out_loss_after_lora": 0.1, "held_out_loss_before_lora": 6.8}) is None
    assert "not 3.0 below" in beats.problem({"held_out_loss_after_lora": 4.0, "held_out_loss_before_lora": 6.8})
    assert claims.AtMost("near_zero_fraction_l2", 0.5).problem({"near_zero_fraction_l2": 0.6})
    assert claims.Equals("gemma_parameters", 205248).problem({"gemma_parameters": 205249})
    printed = claims.Printed("print(same)", "True")
    cell = {"cell_type": "code", "source": ["print(same)"], "metadata": {"tags": ["nbval-check-output"]},
            "outputs": [{"output_type": "stream", "text": "False\n"}]}
    assert printed.static_problem({"cells": [cell]}) and printed.executed_problem({"cells": [cell]})
    assert claims.Labelled("the book's").static_problem("0.97 in this run")
