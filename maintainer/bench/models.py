"""The chapters' models, built with Keras as the notebooks build them, on synthetic data of their shapes.

Each builder takes its sizes as keyword arguments; their defaults are the bench's sizes (what
`make bench` measures, stated in benchmarks/results.md), Spec.quick shrinks them for
`--quick` (numbers meaningless), and Spec.notebook_sizes gives the sizes the notebook itself
uses, so that the results check (tests/results/bench_models_check.py) can build each model at
the notebook's sizes and compare its parameter count with the executed notebook's.

A builder returns a Case: the uncompiled model, one synthetic batch and the loss (measure.py
compiles it, with the engine's settings). maintainer.bench.native holds a PyTorch twin of each
builder, with the same signature.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dlwp_utils.data.tiny_gemma import RECIPE as TINY_GEMMA

SCRATCH_FILTERS = (32, 64, 128, 256, 256)  # the small convnet's Conv2D filters, block by block
XCEPTION_FILTERS = (128, 256, 512)  # the compact Xception's separable-convolution blocks

CH02 = "chapter02/chapter02_mathematical_building_blocks.ipynb"
CH08 = "chapter08/chapter08_image_classification.ipynb"
CH11 = "chapter11/chapter11_sequence_to_sequence.ipynb"
CH15 = "chapter15/chapter15_language_models_gemma.ipynb"


@dataclass
class Case:
    """An uncompiled Keras model, one synthetic batch, its loss; for generation, the call to time."""

    model: Any
    x: Any
    y: Any
    loss: Any
    shape: str  # human-readable input shape and batch size, for the report
    generate: Callable[[], Any] | None = None  # text generation: one call of model.generate
    new_tokens: int = 0


Sizes = dict[str, Any]


@dataclass(frozen=True)
class Spec:
    """One benchmark: its chapter, a description, its Keras builder, and where the notebook builds it."""

    name: str
    chapter: str
    description: str
    build: Callable[..., Case]
    quick: Sizes = field(default_factory=dict)  # --quick overrides of the builder's defaults
    notebook: str | None = None  # the notebook that builds this model
    # (embedded settings of the notebook's parameters cell, metrics it recorded) -> builder sizes
    notebook_sizes: Callable[[Sizes, dict[str, float]], Sizes] | None = None
    generation: bool = False  # tokens per second of model.generate instead of a training step
    count_metric: str = ""  # the notebook's metric holding the parameter count ("": <name>_parameters)

    def sizes(self, quick: bool = False) -> Sizes:
        """The bench's sizes (the builder's defaults), or the quick ones."""
        defaults = {k: p.default for k, p in inspect.signature(self.build).parameters.items()}
        return {**defaults, **(self.quick if quick else {})}

    @property
    def metric(self) -> str:
        """The metric in which the notebook records this model's parameter count."""
        return self.count_metric or f"{self.name}_parameters"


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def mnist_dense(batch: int = 128, units: int = 512) -> Case:
    """Chapter 2: Dense(512, relu) -> Dense(10, softmax) on flattened 28x28 digits."""
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((784,)), layers.Dense(units, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    x = _rng().random((batch, 784), dtype=np.float32)
    return Case(model, x, _rng().integers(0, 10, batch), "sparse_categorical_crossentropy", f"784 -> 10, batch {batch}")


def scratch_convnet(image_size: int = 64, conv_blocks: int = 4, batch: int = 16) -> Case:
    """Chapter 8: the small convnet from scratch (Conv2D blocks, max pooling between, Dense sigmoid)."""
    import keras
    from keras import layers

    filters = SCRATCH_FILTERS[:conv_blocks]
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for f in filters[:-1]:
        x = layers.Conv2D(f, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(filters[-1], 3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return Case(keras.Model(inputs, outputs), *_images(image_size, batch), "binary_crossentropy",
                f"{image_size}x{image_size}x3, {conv_blocks} conv blocks, batch {batch}")


def _images(size: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    return (_rng().random((batch, size, size, 3), dtype=np.float32) * 255,
            _rng().integers(0, 2, (batch, 1)).astype("float32"))


def vgg16_frozen(image_size: int = 48, batch: int = 8, dense_units: int = 256) -> Case:
    """Chapter 8: VGG16's convolutional base, frozen, then Flatten, Dense(256), Dropout, Dense(1, sigmoid)."""
    import keras
    from keras import layers

    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(image_size, image_size, 3))
    base.trainable = False  # timing does not depend on the weights' values: no ImageNet download
    inputs = keras.Input((image_size, image_size, 3))
    x = keras.applications.vgg16.preprocess_input(inputs)
    x = base(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return Case(keras.Model(inputs, outputs), *_images(image_size, batch), "binary_crossentropy",
                f"{image_size}x{image_size}x3, batch {batch}")


def vgg16_frozen_32(image_size: int = 32, batch: int = 16, dense_units: int = 256) -> Case:
    """vgg16_frozen at the embedded profile's image size and batch: block5's convolutions see 2 x 2 maps."""
    return vgg16_frozen(image_size, batch, dense_units)


def xception_compact(image_size: int = 64, batch: int = 16, classes: int = 100) -> Case:
    """Chapter 8: the compact Xception-like model (SeparableConv2D blocks at 128/256/512, no residuals)."""
    import keras
    from keras import layers

    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(32, 3, strides=2, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    for filters in XCEPTION_FILTERS:
        for _ in range(2):
            x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    x_data = _rng().random((batch, image_size, image_size, 3), dtype=np.float32) * 255
    return Case(keras.Model(inputs, outputs), x_data, _rng().integers(0, classes, batch),
                "sparse_categorical_crossentropy", f"{image_size}x{image_size}x3, batch {batch}, {classes} classes")


def seq2seq_lstm(seq_len: int = 20, source_vocab: int = 2000, target_vocab: int = 2000, embed: int = 128,
                 latent: int = 256, batch: int = 64, mask_zero: bool = True) -> Case:
    """Chapter 11: Embedding -> LSTM encoder; its (h, c) start the decoder LSTM; Dense softmax."""
    import keras
    from keras import layers

    source = keras.Input((None,), dtype="int32")
    target = keras.Input((None,), dtype="int32")
    x = layers.Embedding(source_vocab, embed, mask_zero=mask_zero)(source)
    _, h, c = layers.LSTM(latent, return_state=True)(x)
    y = layers.Embedding(target_vocab, embed, mask_zero=mask_zero)(target)
    y, _, _ = layers.LSTM(latent, return_sequences=True, return_state=True)(y, initial_state=[h, c])
    outputs = layers.Dense(target_vocab, activation="softmax")(y)
    rng = _rng()
    tokens = [rng.integers(1, vocab, (batch, seq_len)).astype("int32")
              for vocab in (source_vocab, target_vocab, target_vocab)]  # never 0: no padding in the batch
    return Case(keras.Model([source, target], outputs), tokens[:2], tokens[2], "sparse_categorical_crossentropy",
                f"{seq_len} tokens, vocabularies {source_vocab}/{target_vocab}, embed {embed}, {latent} units, "
                f"batch {batch}")


def _rnn_data(steps: int, features: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng()
    return rng.random((batch, steps, features), dtype=np.float32), rng.random((batch, 1), dtype=np.float32)


def stacked_lstm(steps: int = 60, features: int = 64, units: int = 64, batch: int = 128) -> Case:
    """Chapter 11: two stacked LSTM layers, then Dense(1)."""
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((steps, features)), layers.LSTM(units, return_sequences=True),
                              layers.LSTM(units), layers.Dense(1)])
    return Case(model, *_rnn_data(steps, features, batch), "mse", f"{steps} steps x {features}, {units} units, batch {batch}")


def rnn_cells(steps: int = 60, features: int = 64, units: int = 64, batch: int = 128) -> Case:
    """Chapter 11: keras.layers.RNN over a list of two LSTMCells (the same computation), then Dense(1)."""
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((steps, features)),
                              layers.RNN([layers.LSTMCell(units), layers.LSTMCell(units)]), layers.Dense(1)])
    return Case(model, *_rnn_data(steps, features, batch), "mse", f"{steps} steps x {features}, {units} units, batch {batch}")


def _tiny_gemma(vocabulary_size: int) -> Any:
    """The tiny Gemma 3 of the embedded profile: dlwp_utils.data.tiny_gemma's recipe (untrained, no preprocessor)."""
    import keras_hub

    backbone = keras_hub.models.Gemma3Backbone(vocabulary_size=vocabulary_size, **TINY_GEMMA["backbone"],
                                               **TINY_GEMMA["gemma3"])
    return keras_hub.models.Gemma3CausalLM(backbone=backbone, preprocessor=None)


def gemma_tiny(seq_len: int = 64, batch: int = 4, vocabulary_size: int = TINY_GEMMA["vocabulary_size"]) -> Case:
    """Chapter 15: a training step of the tiny Gemma 3 (next-token cross-entropy on its logits)."""
    import keras

    ids = _rng().integers(1, vocabulary_size, (batch, seq_len)).astype("int32")
    x = {"token_ids": ids, "padding_mask": np.ones_like(ids)}
    return Case(_tiny_gemma(vocabulary_size), x, np.roll(ids, -1, axis=1),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True), f"{seq_len} tokens, batch {batch}")


def gemma_tiny_generate(prompt: int = 16, length: int = 64, batch: int = 4,
                        vocabulary_size: int = TINY_GEMMA["vocabulary_size"]) -> Case:
    """Chapter 15: greedy generation with the tiny Gemma 3, in new tokens per second."""
    model = _tiny_gemma(vocabulary_size)
    ids = _rng().integers(1, vocabulary_size, (batch, length)).astype("int32")
    mask = np.zeros_like(ids)
    mask[:, :prompt] = 1
    inputs = {"token_ids": ids, "padding_mask": mask}
    # strip_prompt: without a preprocessor, Gemma3CausalLM.generate's own output also holds "images": None, which
    # keras_hub (0.32) then fails to concatenate ("Invalid dtype: object"); the stripped output holds only the tokens.
    return Case(model, inputs, None, None, f"prompt {prompt} -> {length} tokens, batch {batch}",
                generate=lambda: model.generate(inputs, stop_token_ids=None, strip_prompt=True),
                new_tokens=batch * (length - prompt))


def _none(settings: Sizes, metrics: dict[str, float]) -> Sizes:
    return {}  # the notebook builds it at the bench's own architecture sizes


def _ch08_convnet(settings: Sizes, metrics: dict[str, float]) -> Sizes:
    return dict(image_size=settings["IMAGE_SIZE"], conv_blocks=settings["CONV_BLOCKS"])


def _ch08_images(settings: Sizes, metrics: dict[str, float]) -> Sizes:
    return dict(image_size=settings["IMAGE_SIZE"])


def _ch11_seq2seq(settings: Sizes, metrics: dict[str, float]) -> Sizes:
    # The vocabularies are the data's: the notebook records the sizes TextVectorization found.
    return dict(embed=settings["EMBED_DIM"], latent=settings["LATENT_DIM"],
                source_vocab=int(metrics["seq2seq_source_vocabulary"]),
                target_vocab=int(metrics["seq2seq_target_vocabulary"]))


def _ch11_stacks(settings: Sizes, metrics: dict[str, float]) -> Sizes:
    return dict(features=64, units=64)  # the notebook's `timesteps, features, units = 60, 64, 64`


# Spec(name, chapter, description, Keras builder, --quick sizes, notebook, the notebook's sizes).
SPECS = [
    Spec("mnist_dense", "ch02", "MNIST dense network", mnist_dense, dict(batch=32), CH02, _none),
    Spec("scratch_convnet", "ch08", "convnet from scratch", scratch_convnet, dict(image_size=48, conv_blocks=3, batch=2),
         CH08, _ch08_convnet),
    Spec("vgg16_frozen", "ch08", "VGG16 frozen base + dense head", vgg16_frozen, dict(image_size=32, batch=2),
         CH08, _ch08_images),
    # The embedded profile's size and batch: block5's 3 x 3 convolutions run on 2 x 2 maps (dlwp_utils.xla_cpu).
    Spec("vgg16_frozen_32", "ch08", "VGG16 frozen base + dense head, the embedded profile's size", vgg16_frozen_32,
         dict(image_size=32, batch=2), CH08, _ch08_images, count_metric="vgg16_frozen_parameters"),
    # Its parameter count does not depend on the input size (global average pooling before the classifier).
    Spec("xception_compact", "ch08", "compact Xception (separable convs)", xception_compact, dict(image_size=32, batch=2),
         CH08, _ch08_images),
    Spec("seq2seq_lstm", "ch11", "seq2seq LSTM (encoder states -> decoder)", seq2seq_lstm,
         dict(seq_len=8, source_vocab=200, target_vocab=180, embed=16, latent=32, batch=8), CH11, _ch11_seq2seq),
    Spec("stacked_lstm", "ch11", "two stacked LSTM layers", stacked_lstm, dict(steps=10, features=8, units=8, batch=16),
         CH11, _ch11_stacks),
    Spec("rnn_cells", "ch11", "RNN over two LSTMCells", rnn_cells, dict(steps=10, features=8, units=8, batch=16),
         CH11, _ch11_stacks),
    # The notebook loads whichever Gemma its profile gives (Gemma 3 1B in the book profile): "gemma_parameters".
    Spec("gemma_tiny", "ch15", "tiny Gemma 3 (the embedded preset's shape)", gemma_tiny, dict(seq_len=16, batch=2),
         CH15, _none, count_metric="gemma_parameters"),
    # The same network as gemma_tiny: its parameter count is checked there.
    Spec("gemma_tiny_generate", "ch15", "tiny Gemma 3, greedy generation", gemma_tiny_generate,
         dict(prompt=4, length=16, batch=2), generation=True),
]
BY_NAME = {s.name: s for s in SPECS}
