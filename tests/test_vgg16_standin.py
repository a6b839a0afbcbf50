"""The VGG16 stand-in for ImageNet (dlwp_utils.data.vgg16_standin): the committed file and its recipe."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from dlwp_utils.data import pretrained, vgg16_standin
from dlwp_utils.data.store import sha256_of
from dlwp_utils.errors import DataError


@pytest.fixture
def small_maps_padded_first(monkeypatch):
    """Keras' JAX convolution as the notebooks run it on a CPU (dlwp_utils.xla_cpu): at 32 x 32, VGG16's block5
    convolves 2 x 2 maps, which XLA's own path takes 4x longer over; restored after the test."""
    from dlwp_utils import xla_cpu

    if not xla_cpu.applies():
        return
    from keras.src.backend.jax import nn

    if not hasattr(nn.conv, "unpatched"):
        monkeypatch.setattr(nn, "conv", xla_cpu.padded_first(nn.conv))


def test_the_committed_file_was_built_with_this_recipe_and_is_whole():
    record = vgg16_standin.info()
    assert record["recipe"] == vgg16_standin.RECIPE, (
        "vgg16_standin.RECIPE changed since the committed stand-in was built: rebuild it with "
        f"{vgg16_standin.REBUILD} and commit dlwp_utils/data/assets.")
    assert record["recipe_key"] == vgg16_standin.recipe_key()
    assert sha256_of(vgg16_standin.WEIGHTS) == record["sha256"]
    assert vgg16_standin.WEIGHTS.stat().st_size == record["bytes"] <= 30_000_000  # the limit: 30 MB
    assert record["source_classes"] == [name for name, _, _ in vgg16_standin.source_classes()]


def test_the_committed_weights_classify_the_recipes_held_out_pictures_as_recorded(small_maps_padded_first):
    # The weights, their stored head and the recipe's own held-out source pictures, drawn afresh:
    # a file from another recipe or another source task would not reach the recorded accuracy.
    record = vgg16_standin.info()
    accuracy = vgg16_standin.head_accuracy(vgg16_standin.WEIGHTS, vgg16_standin.HEAD,
                                           *vgg16_standin.validation_pictures())
    assert accuracy == pytest.approx(record["source_accuracy"], abs=0.01)
    assert accuracy > 10 * record["chance"]


def test_the_source_task_is_not_the_target():
    names = [name for name, _, _ in vgg16_standin.source_classes()]
    assert len(names) == len(set(names)) == 36 and "cat" not in names and "dog" not in names
    pictures, labels = vgg16_standin.source_pictures(72, 32, seed=0)
    assert pictures.shape == (72, 32, 32, 3) and pictures.dtype == np.uint8
    assert np.bincount(labels).tolist() == [2] * 36  # balanced
    again, _ = vgg16_standin.source_pictures(72, 32, seed=0)
    assert np.array_equal(pictures, again)  # seeded
    assert vgg16_standin.SOURCE_TAG not in (1, 2)  # the cats-vs-dogs pictures' seeds start with their version


@pytest.mark.parametrize("input_shape", [(32, 32, 3), (64, 64, 3), (None, None, 3)])
def test_keras_applications_vgg16_loads_it_like_the_imagenet_weights(input_shape):
    import keras

    base = keras.applications.vgg16.VGG16(weights=str(vgg16_standin.standin_weights()), include_top=False,
                                          input_shape=input_shape)
    assert base.count_params() == 14_714_688
    assert all(w.dtype == "float32" for w in base.weights)


def test_folding_the_normalisation_leaves_the_function_unchanged():
    import keras

    keras.utils.set_random_seed(0)
    model = vgg16_standin.batch_normalized_vgg16(32, classes=3)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # statistics as training leaves them: not the identity
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 0.2, n), rng.normal(0, 0.5, n),
                               rng.uniform(0.5, 2, n)])
    x = rng.uniform(-100, 100, (4, 32, 32, 3)).astype("float32")
    features = keras.Model(model.input, model.get_layer("block5_pool").output)
    folded = vgg16_standin.fold_into_vgg16(model)
    expected, got = (keras.ops.convert_to_numpy(m(x)) for m in (features, folded))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_balancing_only_scales_the_features_and_gives_every_kernel_he_spread():
    import keras

    keras.utils.set_random_seed(1)
    base = keras.applications.vgg16.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    rng = np.random.default_rng(1)
    for k, layer in enumerate(base.layers):  # unbalanced scales, as folding leaves them
        if layer.weights:
            kernel, bias = (keras.ops.convert_to_numpy(v) for v in layer.weights)
            layer.set_weights([kernel * 10.0 ** rng.uniform(-2, 1), rng.normal(0, 0.1, bias.shape)])
    x = keras.applications.vgg16.preprocess_input(rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32"))
    before = keras.ops.convert_to_numpy(base(x))
    factor = vgg16_standin.balance_and_scale(base, x, mean=0.2)
    after = keras.ops.convert_to_numpy(base(x))
    np.testing.assert_allclose(after, before * factor, rtol=1e-3, atol=1e-5 * np.abs(after).max())
    assert after.mean() == pytest.approx(0.2, rel=1e-3)
    spreads = [float(keras.ops.convert_to_numpy(layer.kernel).std() / np.sqrt(2 / np.prod(layer.kernel.shape[:3])))
               for layer in base.layers if isinstance(layer, keras.layers.Conv2D)]
    assert max(spreads) == pytest.approx(min(spreads), rel=1e-3)  # all alike: the scale spread evenly


def test_a_tiny_build_writes_a_loadable_float16_file_and_its_record(tmp_path, small_maps_padded_first):
    import h5py

    recipe = {**vgg16_standin.RECIPE, "steps": 2, "batch_size": 4, "warmup_steps": 1, "validation_per_class": 1,
              "calibration_pictures": 8}
    record = vgg16_standin.build(tmp_path, recipe, log=lambda line: None)
    weights = tmp_path / vgg16_standin.WEIGHTS.name
    assert json.loads((tmp_path / vgg16_standin.INFO.name).read_text()) == record
    assert record["sha256"] == sha256_of(weights) and record["recipe"] == recipe
    with h5py.File(weights) as f:
        dtypes = set()
        f.visititems(lambda name, item: dtypes.add(item.dtype) if isinstance(item, h5py.Dataset) else None)
    assert dtypes == {np.dtype("float16")}
    assert weights.stat().st_size < 30_000_000
    accuracy = vgg16_standin.head_accuracy(weights, tmp_path / vgg16_standin.HEAD.name,
                                           *vgg16_standin.validation_pictures(recipe))
    assert accuracy == pytest.approx(record["source_accuracy"], abs=1e-4)  # recorded to 4 digits


@pytest.fixture
def assets(tmp_path, monkeypatch):
    """A copy of the committed stand-in that a test may damage."""
    folder = tmp_path / "assets"
    shutil.copytree(vgg16_standin.ASSETS, folder)
    for name in ("WEIGHTS", "INFO", "HEAD"):
        monkeypatch.setattr(vgg16_standin, name, folder / getattr(vgg16_standin, name).name)
    return folder


def test_a_damaged_file_is_named_with_the_next_step(assets):
    weights = vgg16_standin.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(DataError, match=f"{weights} is damaged.*git checkout -- dlwp_utils/data/assets"):
        vgg16_standin.standin_weights()


def test_a_missing_file_is_named_with_the_next_step(assets):
    vgg16_standin.WEIGHTS.unlink()
    with pytest.raises(DataError, match="missing: the helper package is incomplete. Reinstall it"):
        vgg16_standin.standin_weights()


def test_the_embedded_profile_gives_the_stand_in_and_says_what_it_learned(capsys):
    path = pretrained.imagenet_weights("VGG16", "embedded")
    assert path == str(vgg16_standin.WEIGHTS)
    out = capsys.readouterr().out
    record = vgg16_standin.info()
    lines = [line for line in out.splitlines() if line.startswith("VGG16 weights:")]
    assert len(lines) == 1 and lines[0].startswith("VGG16 weights: a stand-in for ImageNet")
    assert f"{record['source_accuracy']:.2f} (chance {record['chance']:.2f})" in out and 'PROFILE = "book"' in out
