"""Options of the results check (maintainer/matrix.py passes them): which run to read, and what it covered."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlwp_utils.backend import BACKENDS, parse_backends
from maintainer import layout


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlwp results")
    group.addoption("--results", type=Path, default=layout.TEST_OUT, help="the executed notebooks' folder (make test's)")
    group.addoption("--backends", default=",".join(BACKENDS), help="the backends the run covered")
    group.addoption("--notebooks", default="", help="comma-separated notebooks the run covered (default: all)")
    group.addoption("--rerun-backend", default="torch", help="the backend of the second run")
    group.addoption("--html", type=Path, default=layout.BUILD / "index.html", help="the HTML report to check")
    group.addoption("--other-versions", action="store_true",
                    help="the run used other package versions than the baseline's: widen its tolerances "
                         "(maintainer/baseline.py, OTHER_VERSIONS)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    notebooks = [Path(p) for p in config.getoption("--notebooks").split(",") if p] or layout.chapter_notebooks()
    names = [layout.relative(nb).as_posix() for nb in notebooks]
    backends = parse_backends(config.getoption("--backends"))
    if {"notebook", "backend"} <= set(metafunc.fixturenames):
        cases = [(n, b) for n in names for b in backends]
        metafunc.parametrize(("notebook", "backend"), cases, ids=[f"{n}-{b}" for n, b in cases])
    elif "notebook" in metafunc.fixturenames:
        metafunc.parametrize("notebook", names)


@pytest.fixture
def results(request: pytest.FixtureRequest) -> Path:
    """The folder of the run under check."""
    return request.config.getoption("--results")


@pytest.fixture
def rerun_backend(request: pytest.FixtureRequest) -> str:
    """The backend the second run used."""
    return request.config.getoption("--rerun-backend")


@pytest.fixture
def html_index(request: pytest.FixtureRequest) -> Path:
    """The HTML report's index.html under check."""
    return request.config.getoption("--html")
