"""Loading saved models and checkpoints with an error that names the file and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlwp_utils.errors import DLWPError


class SavedModelError(DLWPError):
    """A saved model or checkpoint is missing, truncated or corrupt."""


def load_model(path: str | Path, **kwargs: Any) -> Any:
    """keras.saving.load_model, with one clear error if the file is missing or damaged."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise SavedModelError(
            f"There is no saved model at {path}. Run the training cell above first (its ModelCheckpoint "
            "writes this file), then this cell."
        )
    try:
        return keras.saving.load_model(path, **kwargs)
    except Exception as err:  # zipfile, h5py, json and keras errors alike
        raise SavedModelError(
            f"The saved model {path} cannot be read ({type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}). "
            "It is truncated or corrupt, e.g. written by a run that was interrupted. Delete it and run the "
            "training cell again to write a fresh one."
        ) from None
