"""The chapters' main models, built with Keras for the benchmark, on synthetic data of their shapes.

Each benchmark returns a Case: the compiled model and one batch of synthetic inputs and targets.
Shapes follow the book where a CPU can take it; `quick=True` shrinks everything so the test
suite can prove the code runs in seconds (its numbers mean nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from dlwp_utils.data.tiny_gemma import RECIPE as TINY_GEMMA


@dataclass
class Case:
    """A compiled model and one synthetic batch."""

    model: Any
    x: Any
    y: Any
    shape: str  # human-readable input shape and batch size, for the report
    generate: Callable[[], Any] | None = None  # for text generation benchmarks
    new_tokens: int = 0


@dataclass(frozen=True)
class Spec:
    """One benchmark: its chapter, a description, and its Keras builder."""

    name: str
    chapter: str
    description: str
    build: Callable[[bool], Case]
    native: bool = False  # a hand-written PyTorch reference exists (maintainer.bench.native)


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def sizes(quick: bool) -> dict[str, int]:
    """Every size the benchmarks use; the full values are stated in benchmarks/results.md."""
    if quick:
        return dict(dense_batch=32, image=80, image_batch=2, xception_image=32, seq_len=8, vocab=200, embed=16,
                    latent=32, seq_batch=8, rnn_steps=10, rnn_features=8, rnn_units=8, rnn_batch=16,
                    gemma_len=16, gemma_prompt=4, gemma_batch=2)
    return dict(dense_batch=128, image=128, image_batch=16, xception_image=128, seq_len=20, vocab=5000, embed=128,
                latent=256, seq_batch=64, rnn_steps=60, rnn_features=64, rnn_units=64, rnn_batch=128,
                gemma_len=64, gemma_prompt=16, gemma_batch=4)


def mnist_dense(quick: bool) -> Case:
    """Chapter 2: Dense(512, relu) -> Dense(10, softmax) on flattened 28x28 digits."""
    import keras
    from keras import layers

    s = sizes(quick)
    model = keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = _rng().random((s["dense_batch"], 784), dtype=np.float32)
    y = _rng().integers(0, 10, s["dense_batch"])
    return Case(model, x, y, f"784 -> 10, batch {s['dense_batch']}")


def scratch_convnet(quick: bool) -> Case:
    """Chapter 8: the small convnet from scratch (five Conv2D, four MaxPooling2D, Dense sigmoid)."""
    import keras
    from keras import layers

    s = sizes(quick)
    inputs = keras.Input((s["image"], s["image"], 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (32, 64, 128, 256):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(256, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return Case(model, *_images(s["image"], s["image_batch"]), f"{s['image']}x{s['image']}x3, batch {s['image_batch']}")


def _images(size: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    return (_rng().random((batch, size, size, 3), dtype=np.float32) * 255,
            _rng().integers(0, 2, (batch, 1)).astype("float32"))


def vgg16_frozen(quick: bool) -> Case:
    """Chapter 8: VGG16 convolutional base, frozen, with a trainable Dense(256) head."""
    import keras
    from keras import layers

    s = sizes(quick)
    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(s["image"], s["image"], 3))
    base.trainable = False  # timing does not depend on the weights' values: no ImageNet download
    inputs = keras.Input((s["image"], s["image"], 3))
    x = keras.applications.vgg16.preprocess_input(inputs)
    x = base(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return Case(model, *_images(s["image"], s["image_batch"]), f"{s['image']}x{s['image']}x3, batch {s['image_batch']}")


def xception_compact(quick: bool) -> Case:
    """Chapter 8: the compact Xception-like model (SeparableConv2D blocks at 128/256/512, 100 classes)."""
    import keras
    from keras import layers

    s = sizes(quick)
    size = s["xception_image"]
    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(32, 3, strides=2, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    for filters in (128, 256, 512):
        for _ in range(2):
            x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(100, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x_data = _rng().random((s["image_batch"], size, size, 3), dtype=np.float32)
    y_data = _rng().integers(0, 100, s["image_batch"])
    return Case(model, x_data, y_data, f"{size}x{size}x3, batch {s['image_batch']}, 100 classes")


def seq2seq_lstm(quick: bool) -> Case:
    """Chapter 11: Embedding -> LSTM encoder; its (h, c) start the decoder LSTM; Dense softmax."""
    import keras
    from keras import layers

    s = sizes(quick)
    source = keras.Input((s["seq_len"],), dtype="int32")
    target = keras.Input((s["seq_len"],), dtype="int32")
    x = layers.Embedding(s["vocab"], s["embed"])(source)
    _, h, c = layers.LSTM(s["latent"], return_state=True)(x)
    y = layers.Embedding(s["vocab"], s["embed"])(target)
    y = layers.LSTM(s["latent"], return_sequences=True)(y, initial_state=[h, c])
    outputs = layers.Dense(s["vocab"], activation="softmax")(y)
    model = keras.Model([source, target], outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    tokens = lambda: _rng().integers(1, s["vocab"], (s["seq_batch"], s["seq_len"])).astype("int32")  # noqa: E731
    return Case(model, [tokens(), tokens()], tokens(),
                f"{s['seq_len']} tokens, vocab {s['vocab']}, embed {s['embed']}, {s['latent']} units, batch {s['seq_batch']}")


def _rnn_data(s: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    x = _rng().random((s["rnn_batch"], s["rnn_steps"], s["rnn_features"]), dtype=np.float32)
    return x, _rng().random((s["rnn_batch"], 1), dtype=np.float32)


def stacked_lstm(quick: bool) -> Case:
    """Chapter 11: two stacked LSTM layers."""
    import keras
    from keras import layers

    s = sizes(quick)
    model = keras.Sequential([keras.Input((s["rnn_steps"], s["rnn_features"])),
                              layers.LSTM(s["rnn_units"], return_sequences=True), layers.LSTM(s["rnn_units"]),
                              layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return Case(model, *_rnn_data(s), f"{s['rnn_steps']} steps x {s['rnn_features']}, {s['rnn_units']} units, batch {s['rnn_batch']}")


def rnn_cells(quick: bool) -> Case:
    """Chapter 11: keras.layers.RNN over a list of two LSTMCells (the same computation)."""
    import keras
    from keras import layers

    s = sizes(quick)
    cells = [layers.LSTMCell(s["rnn_units"]), layers.LSTMCell(s["rnn_units"])]
    model = keras.Sequential([keras.Input((s["rnn_steps"], s["rnn_features"])), layers.RNN(cells), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return Case(model, *_rnn_data(s), f"{s['rnn_steps']} steps x {s['rnn_features']}, {s['rnn_units']} units, batch {s['rnn_batch']}")


def _tiny_gemma(quick: bool):
    """The embedded profile's tiny Gemma: the same backbone recipe as dlwp_utils.data.tiny_gemma (untrained)."""
    import keras_hub

    return keras_hub.models.GemmaCausalLM(
        backbone=keras_hub.models.GemmaBackbone(vocabulary_size=TINY_GEMMA["vocabulary_size"], **TINY_GEMMA["backbone"]),
        preprocessor=None)


def gemma_tiny(quick: bool) -> Case:
    """Chapter 15: a training step of the tiny Gemma (2 layers) used by the embedded profile."""
    import keras

    s = sizes(quick)
    model = _tiny_gemma(quick)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = _rng().integers(1, TINY_GEMMA["vocabulary_size"], (s["gemma_batch"], s["gemma_len"])).astype("int32")
    x = {"token_ids": ids, "padding_mask": np.ones_like(ids)}
    return Case(model, x, np.roll(ids, -1, axis=1), f"{s['gemma_len']} tokens, batch {s['gemma_batch']}")


def gemma_tiny_generate(quick: bool) -> Case:
    """Chapter 15: greedy generation with the tiny Gemma, in new tokens per second."""
    s = sizes(quick)
    model = _tiny_gemma(quick)
    model.compile(sampler="greedy")
    ids = _rng().integers(1, TINY_GEMMA["vocabulary_size"], (s["gemma_batch"], s["gemma_len"])).astype("int32")
    mask = np.zeros_like(ids)
    mask[:, : s["gemma_prompt"]] = 1
    prompt = {"token_ids": ids, "padding_mask": mask}
    new_tokens = s["gemma_batch"] * (s["gemma_len"] - s["gemma_prompt"])
    return Case(model, prompt, None, f"prompt {s['gemma_prompt']} -> {s['gemma_len']} tokens, batch {s['gemma_batch']}",
                generate=lambda: model.generate(prompt, stop_token_ids=None), new_tokens=new_tokens)


SPECS = [
    Spec("mnist_dense", "ch02", "MNIST dense network", mnist_dense, native=True),
    Spec("scratch_convnet", "ch08", "convnet from scratch", scratch_convnet, native=True),
    Spec("vgg16_frozen", "ch08", "VGG16 frozen base + dense head", vgg16_frozen),
    Spec("xception_compact", "ch08", "compact Xception (separable convs)", xception_compact),
    Spec("seq2seq_lstm", "ch11", "seq2seq LSTM (encoder states -> decoder)", seq2seq_lstm, native=True),
    Spec("stacked_lstm", "ch11", "two stacked LSTM layers", stacked_lstm),
    Spec("rnn_cells", "ch11", "RNN over two LSTMCells", rnn_cells),
    Spec("gemma_tiny", "ch15", "tiny Gemma (2 layers, the embedded preset)", gemma_tiny),
    Spec("gemma_tiny_generate", "ch15", "tiny Gemma, greedy generation", gemma_tiny_generate),
]
