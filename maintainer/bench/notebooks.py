"""Do the bench's models match the notebooks'? Build each at the notebook's sizes and compare parameter counts.

Each notebook that builds a bench model records its parameter count as a metric named
`<bench model>_parameters` (Spec.metric), with `dlwp.record_metric(..., model.count_params())`.
The results check (tests/results/results_check.py, after `make test`) reads the executed
notebook, takes the settings its parameters cell gave the embedded profile (and any that
papermill injected), builds the bench model at those sizes (Spec.notebook_sizes) and asks for
the same count.
"""

from __future__ import annotations

import ast
import functools
from typing import Any

from dlwp_utils.metrics import read_metrics
from maintainer.bench.models import BY_NAME, Spec
from maintainer.hygiene import parameters_cell, settings, source, tags


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # an expression (the builders never need one): kept as written


def embedded_settings(nb: dict[str, Any]) -> dict[str, Any]:
    """The values a notebook's settings take in the embedded profile: its parameters cell, then papermill's injected ones."""
    cell = parameters_cell(nb)
    if cell is None:
        raise ValueError("it has no single cell tagged `parameters`")
    values = {name: _value(embedded) for name, embedded, _book, _comment in settings(source(cell))}
    for injected in [c for c in nb.get("cells", []) if "injected-parameters" in tags(c)]:
        values.update({name: _value(value) for name, value, _book, _comment in settings(source(injected))})
    return values


@functools.lru_cache(maxsize=None)
def bench_parameters(name: str, sizes: tuple[tuple[str, Any], ...]) -> int:
    """count_params() of a bench model built at `sizes` (built once per sizes: every backend's notebook asks)."""
    return BY_NAME[name].build(**dict(sizes)).model.count_params()


def parameter_count_problems(spec: Spec, nb: dict[str, Any], where: str) -> list[str]:
    """What is wrong (nothing: []) with the bench model `spec` against the executed notebook `nb` (named `where`)."""
    metrics = read_metrics(nb)
    if spec.metric not in metrics:
        return [f"{where} recorded no {spec.metric}: add `dlwp.record_metric(\"{spec.metric}\", model.count_params())` "
                f"to the notebook, where it builds the {spec.description} model (it recorded {sorted(metrics)})."]
    try:
        sizes = spec.notebook_sizes(embedded_settings(nb), metrics)
    except KeyError as missing:
        return [f"{where}: the bench builds {spec.name} with the notebook's {missing.args[0]}, which neither its "
                "parameters cell nor its metrics give: record it with dlwp.record_metric (see "
                "maintainer/bench/models.py, SPECS)."]
    except ValueError as err:
        return [f"{where}: cannot read its settings: {err}."]
    expected = bench_parameters(spec.name, tuple(sorted(sizes.items())))
    recorded = int(metrics[spec.metric])
    if recorded != expected:
        return [f"{where}: its {spec.description} has {recorded:,} parameters, the bench's {spec.name} built at the "
                f"notebook's sizes ({', '.join(f'{k}={v}' for k, v in sizes.items()) or 'its defaults'}) has "
                f"{expected:,}: make maintainer/bench/models.py build what the notebook builds."]
    return []
