"""maintainer.progress: k of N, the time elapsed, and a time-left estimate scaled by how the finished tasks did."""

from __future__ import annotations

import pytest

from maintainer.progress import Progress, duration


@pytest.mark.parametrize(("seconds", "text"), [(12.4, "12 s"), (185, "3m05s"), (3720, "1h02m"), (-1, "0 s")])
def test_durations_read_like_a_clock(seconds, text):
    assert duration(seconds) == text


def test_the_estimate_scales_the_expected_seconds_by_how_the_finished_tasks_did():
    progress = Progress([100.0, 100.0, 300.0])
    assert progress.left() == 500.0  # nothing done yet: the expected seconds
    line = progress.done(0, 50.0)  # twice as fast as expected
    assert line.startswith("[1/3] ") and "elapsed, about" in line
    assert progress.left() == pytest.approx(200.0)  # (100 + 300) / 2
    progress.done(1, 50.0)
    progress.done(2, 10.0)
    assert progress.left() == 0.0 and progress.done.__self__ is progress


def test_without_expectations_it_uses_the_mean_of_what_finished_and_shares_it_among_workers():
    progress = Progress([None, None, None, None], parallel=2)
    assert progress.left() is None and "about" not in progress.status()
    progress.done(0, 30.0)
    assert progress.left() == pytest.approx(45.0)  # 3 tasks x 30 s, 2 at a time
