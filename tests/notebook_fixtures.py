"""Small notebooks the tests write on the fly."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: Path, *cells: str, checked_outputs: dict[int, str] | None = None) -> Path:
    """A notebook with these code cells; `checked_outputs` stores a stream output for cell i, tagged to be checked."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, source in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source)
        if checked_outputs and index in checked_outputs:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=checked_outputs[index])]
            cell.metadata["tags"] = ["nbval-check-output"]
        nb.cells.append(cell)
    nbformat.write(nb, str(path))
    return path
