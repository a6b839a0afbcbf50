"""dlwp_utils.saving: a missing or corrupt saved model gets an error naming the file."""

from __future__ import annotations

import pytest

from dlwp_utils.errors import SavedModelError
from dlwp_utils.saving import load_model


def test_a_missing_checkpoint_says_which_cell_writes_it(tmp_path):
    with pytest.raises(SavedModelError, match="no saved model at .*best.keras. Run the training cell"):
        load_model(tmp_path / "best.keras")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a model at all"])
def test_a_corrupt_checkpoint_is_named_with_the_fix(tmp_path, content):
    path = tmp_path / "best.keras"
    path.write_bytes(content)
    with pytest.raises(SavedModelError) as err:
        load_model(path)
    assert str(path) in str(err.value) and "Delete it and run the training cell again" in str(err.value)
    assert "File not found" not in str(err.value)  # Keras' own words for a file that is there but broken


def test_a_good_model_loads(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    assert load_model(tmp_path / "m.keras").count_params() == 8
