"""Executed notebooks made with nbformat (no kernel), and report rows pointing at them, for the report tests."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

BACKENDS = ("jax", "tensorflow", "torch")
PASSING = "chapter02/chapter02_mathematical_building_blocks.ipynb"
FAILING = "chapter03/chapter03_regression.ipynb"


def tiny_png(width: int = 4, height: int = 3) -> str:
    """A valid RGB PNG (base64), made with the standard library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\0" + bytes([200, 30, 30]) * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def executed_notebook(error: bool = False, image: bool = True) -> dict[str, Any]:
    """An nbformat-4 dict as papermill leaves it: injected parameters, a plot, maybe an error."""
    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "id": "md1", "metadata": {}, "source": "# A notebook\nSome *text*."},
        {"cell_type": "code", "id": "params", "metadata": {"tags": ["injected-parameters"]}, "execution_count": 1,
         "outputs": [], "source": 'PROFILE = "embedded"'},
        {"cell_type": "code", "id": "plot", "metadata": {}, "execution_count": 2, "source": "plot()",
         "outputs": ([{"output_type": "display_data", "metadata": {},
                       "data": {"image/png": tiny_png(), "text/plain": "<Figure>"}}] if image else [])},
    ]
    if error:
        cells.append({"cell_type": "code", "id": "boom", "metadata": {}, "execution_count": 3,
                      "source": "# train\nmodel.fit(x, y)",
                      "outputs": [{"output_type": "error", "ename": "ValueError", "evalue": "shapes differ",
                                   "traceback": ["\x1b[0;31mValueError\x1b[0m Traceback (most recent call last)",
                                                 "Cell In[3], line 2", "\x1b[0;31mValueError\x1b[0m: shapes differ"]}]})
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


@pytest.fixture
def build(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A fake build/ folder: PASSING on every backend, FAILING failed on torch (passed elsewhere)."""
    build_dir = tmp_path / "build"
    rows = []
    for backend in BACKENDS:
        for notebook in (PASSING, FAILING):
            failed = notebook == FAILING and backend == "torch"
            path = build_dir / backend / notebook
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(executed_notebook(error=failed)))
            rows.append({"notebook": notebook, "backend": backend, "status": "failed" if failed else "passed",
                         "seconds": 12.5, "metrics": {} if failed else {"test_accuracy": 0.9, "test_mae": 40.0},
                         "problem": "code cell 2 (`model.fit(x, y)`): ValueError: shapes differ" if failed else "",
                         "output": str(path.relative_to(tmp_path))})  # relative, as the runner writes them
    return build_dir, rows
