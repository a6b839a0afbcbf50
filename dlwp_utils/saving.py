"""Loading saved models and checkpoints with an error that names the file and the fix."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from dlwp_utils.errors import SavedModelError


def load_model(path: str | Path, **kwargs: Any) -> Any:
    """keras.saving.load_model, with one clear error if the file is missing or damaged."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise SavedModelError(
            f"There is no saved model at {path}. Run the training cell above first (its ModelCheckpoint "
            "writes this file), then this cell."
        )
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):  # Keras would call it "File not found"
        raise _damaged(path, f"{path.stat().st_size:,} bytes, not the zip archive a .keras file is")
    try:
        return keras.saving.load_model(path, **kwargs)
    except Exception as err:  # zipfile, h5py, json and keras errors alike
        first_line = str(err).splitlines()[0][:160] if str(err) else ""
        raise _damaged(path, f"{type(err).__name__}: {first_line}") from None


def _damaged(path: Path, detail: str) -> SavedModelError:
    """The error for a saved model file that exists but cannot be read."""
    return SavedModelError(
        f"The saved model {path} cannot be read ({detail}). It is truncated or corrupt, e.g. written by "
        "a run that was interrupted. Delete it and run the training cell again to write a fresh one."
    )
