"""From the rounds' raw rows to figures with their spread, per-round ratios, calls, and results.md.

Every figure is one median per round (of the steps timed in that round's process); the report
gives min / median / max over the rounds. For each model:

- the native reference is the faster (by median over the rounds) of native eager and native
  torch.compile; the best Keras backend is the fastest Keras engine, the same way;
- the ratio best Keras / native is taken round by round (both measured in the same round, so a
  drift of the machine hits both), and reported with its spread over the rounds;
- a call is made only when the whole spread is on one side of 1.0: "Keras faster" (every
  round's ratio below 1), "native faster" (every one above), otherwise "no call".
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from maintainer.bench.measure import NATIVE_COMPILED, NATIVE_EAGER

NATIVE = (NATIVE_EAGER, NATIVE_COMPILED)
KERAS_FASTER, NATIVE_FASTER, NO_CALL = "Keras faster", "native faster", "no call"


@dataclass(frozen=True)
class Spread:
    """min / median / max over the rounds, and how many rounds gave a value."""

    low: float
    median: float
    high: float
    rounds: int

    @classmethod
    def of(cls, values: list[float]) -> Spread | None:
        return cls(min(values), statistics.median(values), max(values), len(values)) if values else None

    def text(self, digits: int = 1) -> str:
        if self.rounds == 1:
            return f"{self.median:.{digits}f}"
        return f"{self.median:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f})"


def call(ratio: Spread | None) -> str:
    """The call a ratio's spread allows: one side of 1.0 in every round, or none."""
    if ratio is None or ratio.rounds < 2:
        return NO_CALL
    if ratio.high < 1.0:
        return KERAS_FASTER
    if ratio.low > 1.0:
        return NATIVE_FASTER
    return NO_CALL


def time_key(rows: list[dict[str, Any]], model: str) -> str:
    """The figure compared for a model: ms per generate call for generation, else ms per training step."""
    return "generate_ms" if any("generate_ms" in r for r in rows if r["model"] == model) else "train_ms"


def per_round(rows: list[dict[str, Any]], model: str, engine: str, key: str) -> dict[int, float]:
    """{round: value} of one figure of one model on one engine."""
    return {r["round"]: r[key] for r in rows if r["model"] == model and r["engine"] == engine and key in r}


def spread(rows: list[dict[str, Any]], model: str, engine: str, key: str) -> Spread | None:
    """The spread over the rounds of one figure."""
    return Spread.of(list(per_round(rows, model, engine, key).values()))


def _fastest(rows: list[dict[str, Any]], model: str, engines: list[str], key: str) -> str | None:
    medians = {e: s.median for e in engines if (s := spread(rows, model, e, key)) is not None}
    return min(medians, key=medians.get) if medians else None


def ratio(rows: list[dict[str, Any]], model: str, engine: str, reference: str, key: str) -> Spread | None:
    """Round-by-round ratio engine / reference of one figure, over the rounds where both have it."""
    a, b = per_round(rows, model, engine, key), per_round(rows, model, reference, key)
    return Spread.of([a[r] / b[r] for r in sorted(a.keys() & b.keys())])


@dataclass
class ModelSummary:
    """What the report says about one model."""

    model: str
    key: str  # train_ms or generate_ms
    best_keras: str | None
    native: str | None
    ratio: Spread | None  # best Keras / native, per round
    verdict: str
    fastest_rounds: int  # rounds in which the best Keras backend was the fastest Keras engine
    rounds: int
    backend_ratios: dict[str, Spread | None]  # each Keras engine / native, per round


def summarise(rows: list[dict[str, Any]], model: str, keras_engines: list[str]) -> ModelSummary:
    """The best Keras engine, the native reference, their per-round ratio and its call, for one model."""
    key = time_key(rows, model)
    best = _fastest(rows, model, keras_engines, key)
    native = _fastest(rows, model, list(NATIVE), key)
    the_ratio = ratio(rows, model, best, native, key) if best and native else None
    wins = 0
    rounds = sorted({r["round"] for r in rows if r["model"] == model})
    if best:
        for rnd in rounds:
            values = {e: v[rnd] for e in keras_engines if rnd in (v := per_round(rows, model, e, key))}
            wins += bool(values) and min(values, key=values.get) == best
    backend_ratios = {e: ratio(rows, model, e, native, key) if native else None for e in keras_engines}
    return ModelSummary(model, key, best, native, the_ratio, call(the_ratio), wins, len(rounds), backend_ratios)


def compare_calls(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(model, call before, call after, "held" / "changed" / "-") for the models both runs measured."""
    def calls(summary: list[dict[str, Any]]) -> dict[str, str]:
        return {s["model"]: s["verdict"] for s in summary}

    a, b = calls(before), calls(after)
    out = []
    for model in [m for m in b if m in a]:
        if NO_CALL in (a[model], b[model]):
            status = "-"  # no call on one side: nothing to hold or break
        else:
            status = "held" if a[model] == b[model] else "CHANGED"
        out.append((model, a[model], b[model], status))
    return out


def summary_json(summaries: list[ModelSummary]) -> list[dict[str, Any]]:
    """The summaries, in results.json."""
    def spread_json(s: Spread | None) -> dict[str, float] | None:
        return None if s is None else {"min": s.low, "median": s.median, "max": s.high, "rounds": s.rounds}

    return [{"model": s.model, "figure": s.key, "best_keras": s.best_keras, "native": s.native,
             "ratio": spread_json(s.ratio), "verdict": s.verdict, "fastest_rounds": s.fastest_rounds,
             "rounds": s.rounds, "backend_ratios": {e: spread_json(r) for e, r in s.backend_ratios.items()}}
            for s in summaries]
