"""dlwp_utils.data.pretrained: ImageNet weights fetched into the cache (DLWP_CACHE_DIR), one clear error offline."""

from __future__ import annotations

import hashlib
import inspect

import pytest

from dlwp_utils.data import pretrained
from dlwp_utils.data.pretrained import IMAGENET_NO_TOP, imagenet_weights
from dlwp_utils.errors import DataError


def serve_weights(monkeypatch, base_url, root, content=b"fake h5 weights", md5=None):
    fname = IMAGENET_NO_TOP["VGG16"][0]
    (root / fname).write_bytes(content)
    md5 = md5 or hashlib.md5(content).hexdigest()
    monkeypatch.setitem(IMAGENET_NO_TOP, "VGG16", (fname, f"{base_url}/{fname}", md5, 10))
    return fname


def test_the_constants_are_the_ones_keras_applications_uses():
    from keras.src.applications import vgg16

    fname, origin, md5, _ = IMAGENET_NO_TOP["VGG16"]
    assert origin == vgg16.WEIGHTS_PATH_NO_TOP and origin.endswith(fname)
    assert f'file_hash="{md5}"' in inspect.getsource(vgg16)


def test_embedded_profile_gives_the_stand_in_and_downloads_nothing(capsys, monkeypatch, closed_port_url):
    monkeypatch.setitem(IMAGENET_NO_TOP, "VGG16", ("x.h5", f"{closed_port_url}/x.h5", "0" * 32, 58_000_000))
    assert imagenet_weights("VGG16", "embedded").endswith("vgg16_standin.weights.h5")
    out = capsys.readouterr().out
    assert "VGG16 weights: a stand-in for ImageNet" in out and 'PROFILE = "book"' in out


def test_book_profile_fetches_into_the_cache_and_gives_keras_the_file(http_server, cache, monkeypatch, capsys):
    base, root = http_server
    fname = serve_weights(monkeypatch, base, root)
    assert imagenet_weights("VGG16", "book") == str(cache / "models" / fname)
    assert (cache / "models" / fname).read_bytes() == b"fake h5 weights"
    assert f"VGG16 weights: ImageNet, from {cache / 'models' / fname}." in capsys.readouterr().out


def test_weights_keras_downloaded_before_are_kept_if_their_checksum_matches(http_server, cache, monkeypatch):
    base, root = http_server
    fname = serve_weights(monkeypatch, base, root)
    (cache / "models").mkdir(parents=True)
    (cache / "models" / fname).write_bytes(b"fake h5 weights")  # what weights="imagenet" left in ~/.keras/models
    (root / fname).unlink()  # not downloaded again
    assert imagenet_weights("VGG16", "book") == str(cache / "models" / fname)


def test_unreachable_weights_are_one_clear_error(cache, monkeypatch, closed_port_url):
    monkeypatch.setitem(IMAGENET_NO_TOP, "VGG16", ("w.h5", f"{closed_port_url}/w.h5", "0" * 32, 58_000_000))
    with pytest.raises(DataError) as err:
        imagenet_weights("VGG16", "book")
    message = str(err.value)
    assert message.startswith("Could not download the ImageNet weights of VGG16 (58 MB)")
    assert 'PROFILE = "embedded"' in message and err.value.__cause__ is None
    assert not (cache / "models" / "w.h5").exists()


def test_a_corrupt_download_says_so_and_is_fetched_again_next_time(http_server, cache, monkeypatch):
    base, root = http_server
    fname = serve_weights(monkeypatch, base, root, content=b"truncated", md5=hashlib.md5(b"whole").hexdigest())
    with pytest.raises(DataError, match="is corrupt \\(its MD5 checksum does not match"):
        imagenet_weights("VGG16", "book")
    assert not (cache / "models" / fname).exists()
    (root / fname).write_bytes(b"whole")
    assert imagenet_weights("VGG16", "book") == str(cache / "models" / fname)
    assert (cache / "models" / fname).read_bytes() == b"whole"


def test_an_unknown_model_is_named():
    with pytest.raises(ValueError, match="ResNet50.*VGG16"):
        pretrained.imagenet_weights("ResNet50", "embedded")


def keras2_vgg16_no_top(path, seed: int = 0) -> dict[str, list]:
    """A VGG16 no-top weights file in the layout of the real one (Keras 2's legacy h5, as keras-applications
    wrote it): root attributes layer_names, backend and keras_version; a group per layer, its weight_names
    ("block1_conv1/kernel:0", ...) and one dataset each. Random values of the real shapes; returns them by layer."""
    import h5py
    import numpy as np

    rng = np.random.default_rng(seed)
    blocks, channels, layers, weights = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)), 3, ["input_1"], {}
    for block, (convolutions, filters) in enumerate(blocks, start=1):
        for conv in range(1, convolutions + 1):
            name = f"block{block}_conv{conv}"
            weights[name] = [rng.normal(0, 0.05, (3, 3, channels, filters)).astype("float32"),
                             rng.normal(0, 0.05, filters).astype("float32")]
            layers.append(name)
            channels = filters
        layers.append(f"block{block}_pool")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [n.encode() for n in layers]
        f.attrs["backend"], f.attrs["keras_version"] = b"tensorflow", b"2.1.6"
        for name in layers:
            group = f.create_group(name)
            names = [f"{name}/kernel:0", f"{name}/bias:0"] if name in weights else []
            group.attrs["weight_names"] = [n.encode() for n in names]
            for weight_name, value in zip(names, weights.get(name, [])):
                group.create_dataset(weight_name, data=value)
    return weights


def test_the_real_legacy_h5_layout_loads_into_keras_applications_vgg16(http_server, cache, monkeypatch, tmp_path):
    """The book profile's ImageNet file is Keras 2's legacy h5, read by another code path than the
    stand-in's .weights.h5: served, fetched through imagenet_weights, and loaded by VGG16(weights=path)."""
    import keras
    import numpy as np

    base, root = http_server
    made = tmp_path / "made.h5"
    expected = keras2_vgg16_no_top(made)
    fname = serve_weights(monkeypatch, base, root, content=made.read_bytes())
    path = imagenet_weights("VGG16", "book")
    assert path.endswith(fname) and path.startswith(str(cache))
    base_model = keras.applications.vgg16.VGG16(weights=path, include_top=False, input_shape=(32, 32, 3))
    loaded = {layer.name: [keras.ops.convert_to_numpy(w) for w in layer.weights] for layer in base_model.layers
              if layer.weights}
    assert list(loaded) == list(expected)
    for name, (kernel, bias) in expected.items():
        np.testing.assert_array_equal(loaded[name][0], kernel)
        np.testing.assert_array_equal(loaded[name][1], bias)
