"""Progress of a long run: k of N done, the time elapsed and an estimate of the time left."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence


def duration(seconds: float) -> str:
    """12 s, 3m05s, 1h02m."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Counts finished tasks and estimates the time left from what each task is expected to take.

    `expected` holds one estimate per task, in seconds, or None where nothing is known (e.g. from
    the committed baseline). The estimate of the time left is the expected seconds of the tasks not
    done, scaled by how the finished ones compared with theirs, and shared by `parallel` workers.
    """

    def __init__(self, expected: Sequence[float | None], parallel: int = 1):
        self.expected = list(expected)
        self.parallel = max(1, parallel)
        self.started = time.perf_counter()
        self.finished: list[int] = []
        self.spent: list[float] = []
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return len(self.expected)

    def done(self, index: int, seconds: float) -> str:
        """Record task `index` as finished after `seconds`; return "[k/N] 3m12s elapsed, about 4m05s left"."""
        with self._lock:
            self.finished.append(index)
            self.spent.append(seconds)
            return f"[{len(self.finished)}/{self.total}] {self.status()}"

    def status(self) -> str:
        """The time elapsed and the estimate of the time left."""
        elapsed = time.perf_counter() - self.started
        left = self.left()
        if left is None:
            return f"{duration(elapsed)} elapsed"
        return f"{duration(elapsed)} elapsed, about {duration(left)} left"

    def left(self) -> float | None:
        """Seconds left by the estimate; None before anything can be said."""
        remaining = [i for i in range(self.total) if i not in self.finished]
        if not remaining:
            return 0.0
        known = [(e, s) for i, s in zip(self.finished, self.spent) if (e := self.expected[i])]
        scale = sum(s for _, s in known) / sum(e for e, _ in known) if known else 1.0
        mean = sum(self.spent) / len(self.spent) if self.spent else None
        estimates = [self.expected[i] * scale if self.expected[i] else mean for i in remaining]
        if any(e is None for e in estimates):
            return None
        return sum(estimates) / self.parallel
