"""`make book-cost`: what each notebook costs at the book's sizes, measured here and estimated for a free Colab T4.

    python -m maintainer.book_cost                          # every notebook on jax, into build/book-cost
    python -m maintainer.book_cost --backends torch chapter08 chapter11
    python -m maintainer.book_cost --tiny --out /tmp/bc     # tiny sizes, a few minutes: proves the code, not the numbers
    python -m maintainer.book_cost --rewrite                # the estimates and tables again from OUT/book_cost.json

Measured, for each notebook's heaviest models at the book's sizes (its parameters cell's `book=`
values) with random weights, each (model, backend) in a fresh process so that peaks do not mix:
the seconds of a training step after a warm-up step (median of --steps), of a forward step (what
validation and evaluate run) and of a `generate` call; the process's peak host memory
(ru_maxrss: the whole process, and its part above a baseline taken after the imports and one
step of a one-weight model, which starts the runtime and its compiler); and,
where a CUDA GPU is present, the peak accelerator memory in use.

Estimated, for a free Colab T4: each notebook's minutes, from its step counts at the book's
sizes (each fit's steps per epoch x epochs, its validation, each evaluate, prediction and
generation pass: the plan_* functions below) times a T4 step time from the step's arithmetic (FLOPs of the
matrix products and convolutions, counted from the layers' shapes) at an assumed fraction of
the T4's peak, or for decoding from the bytes of weights read per token, plus an assumed
per-step overhead; the input pipeline's seconds per batch (measured here) where it is the
slower; each jit compilation at the seconds it took here; and a fixed allowance per notebook
for downloads and set-up. Without a GPU the GPU memory is estimated as the process's memory
above that baseline on the CPU (the same weights, optimizer slots, activations and
batch); with one, it is measured.
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dlwp_utils.backend import BACKENDS, parse_backends
from dlwp_utils.errors import DLWPError
from maintainer import layout
from maintainer.bench import models as bench
from maintainer.bench.device import cpu_name, describe_keras_backend, sharing_environment
from maintainer.hygiene import parameters_cell, settings, source

DEFAULT_OUT = layout.BUILD / "book-cost"
COMMITTED = layout.REPO_ROOT / "benchmarks" / "book-cost"  # make book-cost PUBLISH=1
GEMMA_CONFIG = layout.REPO_ROOT / "maintainer" / "book_configs" / "gemma3_1b.json"

# --- the T4 and the assumptions of the estimate -------------------------------------------------------
T4_FLOPS = 8.1e12  # NVIDIA's published float32 peak of the T4 (FLOP/s)
T4_BANDWIDTH = 320e9  # NVIDIA's published memory bandwidth of the T4 (bytes/s)
T4_MEMORY = 15 * 2**30  # what Colab's T4 offers (nvidia-smi: 15,360 MiB)
COLAB_HOST_MEMORY = 12.7e9  # the RAM a free Colab session shows (bytes)
EFFICIENCY = 0.35  # assumed: the fraction of T4_FLOPS a Keras step reaches (no T4 was at hand to measure it)
BANDWIDTH_EFFICIENCY = 0.6  # assumed: the fraction of T4_BANDWIDTH one decoding step reaches
STEP_OVERHEAD_S = 0.005  # assumed: a compiled step's launch, Python and transfer seconds
EAGER_OVERHEAD_S = 0.05  # assumed: Gemma called eagerly, about a thousand operations dispatched one by one
EPOCH_OVERHEAD_S = 0.02  # assumed: an epoch's callbacks and iterators in Keras' fit
BYTES_PER_WEIGHT = 4  # float32: dlwp.preferred_dtype() on a T4 (it only emulates bfloat16)
# Downloads, extraction and set-up of each notebook, assumed (not measured): seconds.
FIXED_S = {
    "chapter02": 30,  # MNIST (11 MB), the naive-loop demonstrations
    "chapter03_regression": 20,  # the line, the clouds and California's 600 districts
    "chapter03_frameworks": 60,  # torch.compile with inductor generates and compiles C++ once
    "chapter08": 240,  # dogs-vs-cats (about 800 MB from Kaggle), 25,000 pictures extracted, the subsets copied
    "chapter11": 90,  # spa-eng (3 MB), TextVectorization adapted on 83,276 pairs twice
    "chapter15": 240,  # the preset (about 2 GB from Kaggle) loaded, saved and reloaded; the scale-out script
}

# --- the book's data, where the notebook's parameters do not say it ------------------------------------
MNIST_TRAIN, MNIST_TEST = 60_000, 10_000
SPA_ENG_PAIRS = 118_964  # spa-eng.zip's pairs; the notebook keeps 15% for validation and 15% for the test
SPA_ENG_VOCABULARY = 15_000  # the notebook's max_tokens, taken as reached by both languages (an upper bound)
CALIFORNIA_TRAIN = 480  # keras.datasets.california_housing "small": 600 districts, test_split 0.2
GENERATE_BATCH_SIZE = 4  # prompts per generate call, where the notebook's parameters cell does not set it
SAMPLER_PROMPT_TOKENS = 5  # "A piece of advice" with <bos> (assumed)
ASK_PROMPT_TOKENS = 30  # an instruction in PROMPT_TEMPLATE (assumed); answers run to SEQUENCE_LENGTH (an upper bound)
LONG_NEW_TOKENS = 16  # the 512-token generation measured here decodes only its last tokens (the full-size prefill and cache)
INPUT_BATCHES = 8  # batches of the input pipeline timed after a warm-up batch
GEMMA_TINY = {"vocabulary_size": 1000, "num_layers": 2, "num_query_heads": 2, "num_key_value_heads": 1,
              "hidden_dim": 64, "intermediate_dim": 128, "head_dim": 32, "sliding_window_size": 32}  # --tiny

NOTEBOOKS = {  # key -> (notebook, label)
    "chapter02": ("chapter02/chapter02_mathematical_building_blocks.ipynb", "chapter02"),
    "chapter03_regression": ("chapter03/chapter03_regression.ipynb", "chapter03 regression"),
    "chapter03_frameworks": ("chapter03/chapter03_tensorflow_pytorch_jax_keras.ipynb", "chapter03 frameworks"),
    "chapter08": ("chapter08/chapter08_image_classification.ipynb", "chapter08"),
    "chapter11": ("chapter11/chapter11_sequence_to_sequence.ipynb", "chapter11"),
    "chapter15": ("chapter15/chapter15_language_models_gemma.ipynb", "chapter15"),
}


def book_settings(notebook: str, root: Path = layout.REPO_ROOT) -> dict[str, Any]:
    """The values a notebook's parameters cell gives the book profile (expressions kept as written)."""
    nb = json.loads((root / notebook).read_text(encoding="utf-8"))
    cell = parameters_cell(nb)
    if cell is None:
        raise DLWPError(f"{notebook} has no single cell tagged `parameters`: tag the cell of its settings.")
    values = {}
    for name, _embedded, book, _comment in settings(source(cell)):
        try:
            values[name] = ast.literal_eval(book)
        except (ValueError, SyntaxError):
            values[name] = book
    return values


def steps(samples: int, batch: int) -> int:
    """Steps of one pass over `samples` in batches of `batch` (the last one partial)."""
    return math.ceil(samples / batch)


# --- counting the arithmetic of a Keras model ----------------------------------------------------------

def _leaves(model: Any) -> list[Any]:
    """The model's layers in order, nested models opened."""
    import keras

    found = []
    for layer in model.layers:
        found.extend(_leaves(layer) if isinstance(layer, keras.Model) else [layer])
    return found


def _shape(tensors: Any, length: int | None) -> tuple[int, ...]:
    """The first tensor's shape without its batch axis, an unknown length replaced by `length`."""
    import keras

    shape = tuple(keras.tree.flatten(tensors)[0].shape[1:])
    if None in shape and length is None:
        raise ValueError(f"a layer's shape {shape} has an unknown length: give the case its sequence length")
    return tuple(length if d is None else d for d in shape)


def layer_flops(layer: Any, length: int | None = None) -> int:
    """Forward FLOPs of one sample through `layer`: its matrix products and convolutions (a multiply-add is 2)."""
    import keras

    L = keras.layers
    if isinstance(layer, L.Bidirectional):
        steps_in = _shape(layer.input, length)[0]
        return sum(_recurrent_flops(rnn, steps_in) for rnn in (layer.forward_layer, layer.backward_layer))
    if isinstance(layer, L.RNN):
        return _recurrent_flops(layer, _shape(layer.input, length)[0])
    if isinstance(layer, (L.Dense, L.Conv1D, L.Conv2D, L.SeparableConv2D, L.DepthwiseConv2D)):
        positions = math.prod(_shape(layer.output, length)[:-1])
        kernels = [getattr(layer, name, None) for name in ("kernel", "depthwise_kernel", "pointwise_kernel")]
        return 2 * positions * sum(math.prod(k.shape) for k in kernels if k is not None)
    return 0


def _recurrent_flops(rnn: Any, timesteps: int) -> int:
    cells = getattr(rnn.cell, "cells", [rnn.cell])
    return 2 * timesteps * sum(math.prod(c.kernel.shape) + math.prod(c.recurrent_kernel.shape) for c in cells)


def model_flops(model: Any, length: int | None = None) -> tuple[int, int]:
    """(forward, training) FLOPs of one sample.

    A training step computes each layer forward, its weights' gradient when they train (as much
    again) and its input's gradient when a layer before it trains (as much again): a frozen base
    in front of a trained head costs its forward pass only.
    """
    forward = train = 0
    upstream = False
    for layer in _leaves(model):
        flops = layer_flops(layer, length)
        trains = bool(layer.trainable_weights)
        forward += flops
        train += flops * (1 + trains + upstream)
        upstream = upstream or trains
    return forward, train


def gemma_flops(config: dict[str, Any], batch: int, length: int) -> int:
    """Forward FLOPs of Gemma on `batch` sequences of `length` tokens (projections, attention over all, logits)."""
    c = config
    query, key_value = c["num_query_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    per_layer = 2 * query * c["hidden_dim"] + 2 * key_value * c["hidden_dim"] + 3 * c["hidden_dim"] * c["intermediate_dim"]
    per_token = 2 * c["num_layers"] * per_layer + 2 * c["hidden_dim"] * c["vocabulary_size"]
    attention = c["num_layers"] * 4 * query * length * length  # scores and their weighted sum, the mask not skipped
    return batch * (length * per_token + attention)


def gemma_parameters(config: dict[str, Any]) -> int:
    """Gemma's weights (the norms' few left out): every one is read once per decoded token."""
    c = config
    query, key_value = c["num_query_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    per_layer = 2 * query * c["hidden_dim"] + 2 * key_value * c["hidden_dim"] + 3 * c["hidden_dim"] * c["intermediate_dim"]
    return c["num_layers"] * per_layer + c["vocabulary_size"] * c["hidden_dim"]


def gemma_config(tiny: bool = False) -> dict[str, Any]:
    """The serialized Gemma3Backbone of the book's preset in float32 (as on a T4), or a tiny one."""
    serialized = json.loads(GEMMA_CONFIG.read_text())
    serialized["config"]["dtype"] = "float32"
    if tiny:
        serialized["config"].update(GEMMA_TINY)
    return serialized


# --- the models, as the notebooks build them, on random data --------------------------------------------

@dataclass
class Workload:
    """A built model with one batch, or the calls to time (generation, an eager step, the input pipeline)."""

    model: Any = None
    x: Any = None
    y: Any = None
    loss: Any = None
    length: int | None = None  # tokens per sequence, where the model's inputs leave it open
    calls: dict[str, Callable[[], Any]] = field(default_factory=dict)
    flops: tuple[int, int] | None = None  # (forward, training) per sample, where the layer count cannot see them


def _bench(build: Callable[..., bench.Case]) -> Callable[..., Workload]:
    """One of make bench's builders (maintainer.bench.models), as a Workload."""
    @functools.wraps(build)  # its signature too: its sizes' defaults
    def wrapped(**sizes: Any) -> Workload:
        case = build(**sizes)
        return Workload(case.model, case.x, case.y, case.loss, length=sizes.get("seq_len"))
    return wrapped


def mnist_convnet(batch: int = 64) -> Workload:
    """Chapter 8's MNIST convnet (three Conv2D, two max poolings, Dense softmax)."""
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, activation="relu")(inputs))
    x = layers.MaxPooling2D(2)(layers.Conv2D(64, 3, activation="relu")(x))
    x = layers.Flatten()(layers.Conv2D(128, 3, activation="relu")(x))
    outputs = layers.Dense(10, activation="softmax")(x)
    rng = np.random.default_rng(0)
    return Workload(keras.Model(inputs, outputs), rng.random((batch, 28, 28, 1), dtype=np.float32),
                    rng.integers(0, 10, batch), "sparse_categorical_crossentropy")


def vgg16_finetune(image_size: int = 180, batch: int = 32) -> Workload:
    """Chapter 8's fine-tuning: the frozen-base model with VGG16's last four layers (block 5) trainable."""
    import keras

    case = bench.vgg16_frozen(image_size=image_size, batch=batch)
    base = next(layer for layer in case.model.layers if isinstance(layer, keras.Model))
    base.trainable = True
    for layer in base.layers[:-4]:
        layer.trainable = False
    return Workload(case.model, case.x, case.y, case.loss)


def mini_xception(image_size: int = 180, batch: int = 32) -> Workload:
    """Chapter 8's mini Xception: five residual blocks of separable convolutions with batch normalization."""
    import keras
    from keras import layers

    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Conv2D(32, 5, use_bias=False)(layers.Rescaling(1.0 / 255)(inputs))
    for size in [32, 64, 128, 256, 512]:
        residual = x
        for _ in range(2):
            x = layers.BatchNormalization()(x)
            x = layers.SeparableConv2D(size, 3, padding="same", use_bias=False)(layers.Activation("relu")(x))
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.add([x, layers.Conv2D(size, 1, strides=2, padding="same", use_bias=False)(residual)])
    x = layers.Dropout(0.5)(layers.GlobalAveragePooling2D()(x))
    outputs = layers.Dense(1, activation="sigmoid")(x)
    rng = np.random.default_rng(0)
    return Workload(keras.Model(inputs, outputs), rng.random((batch, image_size, image_size, 3), dtype=np.float32) * 255,
                    rng.integers(0, 2, (batch, 1)).astype("float32"), "binary_crossentropy")


def seq2seq_bilstm(seq_len: int = 20, vocab: int = SPA_ENG_VOCABULARY, embed: int = 256, latent: int = 1024,
                   batch: int = 64) -> Workload:
    """Chapter 11's bidirectional encoder: forward and backward LSTM states summed start the decoder LSTM."""
    import keras
    from keras import layers

    source, target = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    x = layers.Embedding(vocab, embed, mask_zero=True)(source)
    _, fh, fc, bh, bc = layers.Bidirectional(layers.LSTM(latent, return_state=True))(x)
    y = layers.Embedding(vocab, embed, mask_zero=True)(target)
    y, _, _ = layers.LSTM(latent, return_sequences=True, return_state=True)(
        y, initial_state=[layers.Add()([fh, bh]), layers.Add()([fc, bc])])
    outputs = layers.Dense(vocab, activation="softmax")(y)
    tokens = [np.random.default_rng(i).integers(1, vocab, (batch, seq_len)).astype("int32") for i in range(3)]
    return Workload(keras.Model([source, target], outputs), tokens[:2], tokens[2], "sparse_categorical_crossentropy",
                    length=seq_len)


def dense_regression(features: int = 8, units: int = 64, batch: int = 16) -> Workload:
    """Chapter 3's house-price model: Dense(64, relu) twice, Dense(1); units=0: the one-Dense classifier."""
    import keras
    from keras import layers

    hidden = [layers.Dense(units, activation="relu"), layers.Dense(units, activation="relu")] if units else []
    model = keras.Sequential([keras.Input((features,)), *hidden, layers.Dense(1)])
    rng = np.random.default_rng(0)
    return Workload(model, rng.random((batch, features), dtype=np.float32), rng.random((batch, 1), dtype=np.float32),
                    "mse")


def mnist_scratch(batch: int = 128, units: int = 512) -> Workload:
    """Chapter 2's network from scratch: one eager step (the backend's gradients, then w - g * lr), as the notebook."""
    import keras
    from keras import ops

    backend = keras.backend.backend()
    weights = [keras.Variable(shape=s, initializer=i) for s, i in
               [((784, units), "uniform"), ((units,), "zeros"), ((units, 10), "uniform"), ((10,), "zeros")]]
    rng = np.random.default_rng(0)
    images, labels = rng.random((batch, 784), dtype=np.float32), rng.integers(0, 10, batch)

    def loss() -> Any:
        hidden = ops.relu(ops.matmul(images, weights[0]) + weights[1])
        predictions = ops.softmax(ops.matmul(hidden, weights[2]) + weights[3])
        return ops.mean(ops.sparse_categorical_crossentropy(labels, predictions))

    def gradients() -> tuple[Any, Any]:
        if backend == "jax":
            import jax

            def of_values(values: list[Any]) -> Any:
                with keras.StatelessScope(state_mapping=list(zip(weights, values))):
                    return loss()
            return jax.value_and_grad(of_values)([w.value for w in weights])
        if backend == "torch":
            import torch

            value = loss()
            return value, torch.autograd.grad(value, [w.value for w in weights])
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss()
        return value, tape.gradient(value, weights)

    def step() -> float:
        value, grads = gradients()
        for g, w in zip(grads, weights):
            w.assign(w - g * 1e-3)
        return float(ops.convert_to_numpy(value))

    return Workload(calls={"eager": step})


def cats_vs_dogs_pipeline(image_size: int = 180, batch: int = 32, pictures: int = 128) -> Workload:
    """Chapter 8's input: JPEGs of the dataset's usual size decoded and resized, and the same with augmentation."""
    import keras
    import tensorflow as tf
    from keras import layers

    folder = Path(tempfile.mkdtemp(prefix="dlwp-book-cost-"))
    rng = np.random.default_rng(0)
    for i in range(pictures):  # smooth pictures with some noise, about the size of the real ones (500 x 375)
        coarse = tf.image.resize(rng.random((12, 16, 3)) * 255, (375, 500)).numpy()
        picture = np.clip(coarse + rng.normal(0, 8, coarse.shape), 0, 255).astype(np.uint8)
        (folder / ("cat", "dog")[i % 2]).mkdir(exist_ok=True)
        (folder / ("cat", "dog")[i % 2] / f"{i}.jpg").write_bytes(tf.io.encode_jpeg(picture, quality=90).numpy())
    dataset = keras.utils.image_dataset_from_directory(folder, image_size=(image_size, image_size), batch_size=batch,
                                                       verbose=False)
    augmentation = [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.2)]

    def augment(images: Any, targets: Any) -> tuple[Any, Any]:
        for layer in augmentation:
            images = layer(images)
        return images, targets

    plain, augmented = iter(dataset.repeat()), iter(dataset.map(augment).repeat())
    return Workload(calls={"decode": lambda: next(plain), "augment": lambda: next(augmented)})


def gemma_lora(batch: int = 2, seq_len: int = 512, rank: int = 8, tiny: bool = False) -> Workload:
    """Chapter 15's LoRA fine-tuning step: Gemma 3 1B (random weights, float32), LoRA on, batch x tokens."""
    import keras
    import keras_hub

    config = gemma_config(tiny)
    backbone = keras.saving.deserialize_keras_object(config)
    model = keras_hub.models.Gemma3CausalLM(backbone=backbone, preprocessor=None)
    backbone.enable_lora(rank=rank)
    vocabulary = config["config"]["vocabulary_size"]
    ids = np.random.default_rng(0).integers(1, vocabulary, (batch, seq_len)).astype("int32")
    forward = gemma_flops(config["config"], 1, seq_len)
    # LoRA: every matrix product needs its input's gradient (as much again), the rank-8 weights' own are negligible.
    return Workload(model, {"token_ids": ids, "padding_mask": np.ones_like(ids)}, np.roll(ids, -1, axis=1),
                    keras.losses.SparseCategoricalCrossentropy(from_logits=True), flops=(forward, 2 * forward))


def gemma_generate(batch: int = 1, length: int = 40, prompt: int = SAMPLER_PROMPT_TOKENS, tiny: bool = False) -> Workload:
    """Chapter 15's generation: greedy, `batch` prompts of `prompt` tokens continued up to `length` tokens."""
    import keras
    import keras_hub

    config = gemma_config(tiny)
    model = keras_hub.models.Gemma3CausalLM(backbone=keras.saving.deserialize_keras_object(config), preprocessor=None)
    model.compile(sampler="greedy")
    ids = np.random.default_rng(0).integers(1, config["config"]["vocabulary_size"], (batch, length)).astype("int32")
    mask = np.zeros_like(ids)
    mask[:, :prompt] = 1
    inputs = {"token_ids": ids, "padding_mask": mask}
    # No stop token: random weights would stop anywhere; strip_prompt: see maintainer.bench.models.gemma_tiny_generate.
    return Workload(model, calls={"generate": lambda: model.generate(inputs, stop_token_ids=None, strip_prompt=True)},
                    flops=(gemma_flops(config["config"], 1, length), 0))


@dataclass(frozen=True)
class CaseSpec:
    """One measured model: its notebook, builder, sizes at the book's settings, and what is timed."""

    name: str
    notebook: str  # a key of NOTEBOOKS
    build: Callable[..., Workload]
    sizes: Callable[[dict[str, Any]], dict[str, Any]]  # the notebook's book settings -> the builder's sizes
    tiny: dict[str, Any] = field(default_factory=dict)  # --tiny overrides
    measure: tuple[str, ...] = ("train", "forward")  # train, forward, or calls of the Workload
    optimizer: str = "rmsprop"  # as the notebook compiles it: rmsprop, adam or sgd (with momentum 0.9)
    repeat: bool = True  # False: calls timed once, warm-up included (the 512-token generation: minutes here)
    on_host: bool = False  # the host's work (the input pipeline): not part of the GPU estimate


def _images(s: dict[str, Any]) -> dict[str, Any]:
    return dict(image_size=s["IMAGE_SIZE"], batch=s["BATCH_SIZE"])


def _seq2seq(s: dict[str, Any]) -> dict[str, Any]:
    return dict(seq_len=s["SEQUENCE_LENGTH"], embed=s["EMBED_DIM"], latent=s["LATENT_DIM"], batch=s["BATCH_SIZE"])


def _generate_batch(s: dict[str, Any]) -> int:
    return int(s.get("GENERATE_BATCH_SIZE", GENERATE_BATCH_SIZE))


TINY_IMAGES = dict(image_size=32, batch=2)
TINY_SEQ2SEQ = dict(seq_len=6, embed=8, latent=16, batch=4)
TINY_RNN = dict(steps=6, features=4, units=4, batch=8)
STACKS = dict(steps=60, features=64, units=64, batch=128)  # the notebook's `timesteps, features, units = 60, 64, 64`
CASES = [
    CaseSpec("mnist_dense", "chapter02", _bench(bench.mnist_dense), lambda s: dict(batch=s["BATCH_SIZE"]),
             dict(batch=8, units=16)),
    CaseSpec("mnist_scratch", "chapter02", mnist_scratch, lambda s: dict(batch=s["BATCH_SIZE"]), dict(batch=8, units=16),
             measure=("eager",)),
    CaseSpec("house_prices", "chapter03_regression", dense_regression, lambda s: dict(batch=s["BATCH_SIZE"]),
             dict(units=4), optimizer="adam"),
    CaseSpec("linear_classifier", "chapter03_frameworks", dense_regression, lambda s: dict(features=2, units=0),
             dict(batch=4), measure=("train",)),
    CaseSpec("mnist_convnet", "chapter08", mnist_convnet, lambda s: dict(batch=64), dict(batch=2)),
    CaseSpec("scratch_convnet", "chapter08", _bench(bench.scratch_convnet),
             lambda s: dict(_images(s), conv_blocks=s["CONV_BLOCKS"]), dict(image_size=48, conv_blocks=3, batch=2)),
    CaseSpec("vgg16_frozen", "chapter08", _bench(bench.vgg16_frozen), _images, TINY_IMAGES),
    CaseSpec("vgg16_finetune", "chapter08", vgg16_finetune, _images, TINY_IMAGES, measure=("train",), optimizer="sgd"),
    CaseSpec("mini_xception", "chapter08", mini_xception, _images, TINY_IMAGES),
    CaseSpec("compact_xception", "chapter08", _bench(bench.xception_compact),
             lambda s: dict(image_size=s["COMPACT_XCEPTION_SIZE"], batch=s["COMPACT_XCEPTION_BATCH_SIZE"]), TINY_IMAGES),
    CaseSpec("cats_vs_dogs_input", "chapter08", cats_vs_dogs_pipeline, _images, dict(image_size=32, batch=2, pictures=4),
             measure=("decode", "augment"), on_host=True),
    CaseSpec("seq2seq_lstm", "chapter11", _bench(bench.seq2seq_lstm),
             lambda s: dict(_seq2seq(s), source_vocab=SPA_ENG_VOCABULARY, target_vocab=SPA_ENG_VOCABULARY),
             dict(TINY_SEQ2SEQ, source_vocab=50, target_vocab=50), optimizer="adam"),
    CaseSpec("seq2seq_bilstm", "chapter11", seq2seq_bilstm, _seq2seq, dict(TINY_SEQ2SEQ, vocab=50), optimizer="adam"),
    CaseSpec("stacked_lstm", "chapter11", _bench(bench.stacked_lstm), lambda s: STACKS, TINY_RNN, measure=("train",)),
    CaseSpec("rnn_cells", "chapter11", _bench(bench.rnn_cells), lambda s: STACKS, TINY_RNN, measure=("train",)),
    CaseSpec("gemma_lora", "chapter15", gemma_lora,
             lambda s: dict(batch=s["BATCH_SIZE"], seq_len=s["SEQUENCE_LENGTH"], rank=s["LORA_RANK"]),
             dict(batch=1, seq_len=16, tiny=True), optimizer="adam"),
    CaseSpec("gemma_generate", "chapter15", gemma_generate, lambda s: dict(length=s["MAX_LENGTH"]),
             dict(length=12, prompt=4, tiny=True), measure=("generate",)),
    CaseSpec("gemma_generate_long", "chapter15", gemma_generate,
             lambda s: dict(batch=_generate_batch(s), length=s["SEQUENCE_LENGTH"],
                            prompt=s["SEQUENCE_LENGTH"] - LONG_NEW_TOKENS),
             dict(batch=2, length=24, prompt=20, tiny=True), measure=("generate",), repeat=False),
]
BY_NAME = {c.name: c for c in CASES}


# --- one measurement process ----------------------------------------------------------------------------

def peak_host_bytes() -> int:
    """This process's peak resident memory so far (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_since_reset_bytes() -> int | None:
    """The peak resident memory since reset_host_peak() (Linux's VmHWM), or None where /proc has none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def reset_host_peak() -> None:
    """Start VmHWM again from the memory in use now (Linux: "5" into clear_refs), so that a spike while
    importing and starting the runtime does not hide the model's own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_accelerator_bytes(backend: str) -> int | None:
    """The peak memory in use on the first GPU, or None without one."""
    if backend == "torch":
        import torch

        return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        stats = device.memory_stats() if device.platform != "cpu" else None
        return int(stats["peak_bytes_in_use"]) if stats else None
    import tensorflow as tf

    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"]) if tf.config.list_physical_devices("GPU") else None


def timed(call: Callable[[], Any], count: int) -> tuple[float, float | None]:
    """(seconds of the first call, median seconds of `count` calls after it; None when count is 0)."""
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    durations = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return first, statistics.median(durations) if durations else None


def _optimizer(name: str) -> Any:
    import keras

    return keras.optimizers.SGD(1e-4, momentum=0.9) if name == "sgd" else name


def start_runtime() -> None:
    """Seed, and train a one-weight model for a step: the runtimes and compiler start, before the baseline."""
    import keras

    keras.utils.set_random_seed(0)  # seeds TensorFlow too, whose runtime takes about 450 MB as it starts
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(np.ones((1, 1), "float32"), np.ones((1, 1), "float32"))
    model.test_on_batch(np.ones((1, 1), "float32"), np.ones((1, 1), "float32"))


def measure_case(spec: CaseSpec, sizes: dict[str, Any], count: int) -> dict[str, Any]:
    """Build one case and time it on the active backend; its row (an "error" key if it failed)."""
    import keras

    if spec.notebook == "chapter15":
        import keras_hub  # noqa: F401  (its import is part of the baseline, not of the model)
    backend = keras.backend.backend()
    start_runtime()
    reset_host_peak()
    in_use = peak_since_reset_bytes()  # just after the reset: the memory in use now
    row: dict[str, Any] = {"case": spec.name, "notebook": spec.notebook, "backend": backend, "sizes": sizes,
                           "device": describe_keras_backend(backend),
                           "baseline_bytes": in_use if in_use is not None else peak_host_bytes()}
    try:
        start = time.perf_counter()
        work = spec.build(**sizes)
        row["build_s"] = time.perf_counter() - start
        if work.model is not None:
            row["parameters"] = work.model.count_params()
            forward, train = work.flops or model_flops(work.model, work.length)
            row.update(forward_flops_per_sample=forward, train_flops_per_sample=train)
        if {"train", "forward"} & set(spec.measure):
            work.model.compile(optimizer=_optimizer(spec.optimizer), loss=work.loss)
        for kind in spec.measure:
            call = {"train": lambda: work.model.train_on_batch(work.x, work.y),
                    "forward": lambda: work.model.test_on_batch(work.x, work.y)}.get(kind) or work.calls[kind]
            calls = {"forward": max(1, count // 2), "decode": INPUT_BATCHES, "augment": INPUT_BATCHES}.get(kind, count)
            row[f"{kind}_first_s"], row[f"{kind}_s"] = timed(call, calls if spec.repeat else 0)
            print(f"  {spec.name} {kind}: first {row[f'{kind}_first_s']:.2f} s"
                  + (f", then {row[f'{kind}_s']:.3f} s" if row[f"{kind}_s"] is not None else ""), flush=True)
    except Exception as err:  # a case failing (out of memory, an API change) is a result, not a crash
        traceback.print_exc()
        row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:300] if str(err) else ''}"
    since = peak_since_reset_bytes()
    row["host_peak_bytes"] = max(peak_host_bytes(), since or 0)  # ru_maxrss and VmHWM round differently
    row["host_model_bytes"] = (since if since is not None else row["host_peak_bytes"]) - row["baseline_bytes"]
    row["gpu_peak_bytes"] = peak_accelerator_bytes(backend)
    return row


def case_sizes(spec: CaseSpec, tiny: bool, overrides: dict[str, Any]) -> dict[str, Any]:
    """The builder's sizes: its defaults, the notebook's book settings, --tiny's, then `overrides`."""
    defaults = {k: p.default for k, p in inspect.signature(spec.build).parameters.items()}
    sizes = spec.sizes(book_settings(NOTEBOOKS[spec.notebook][0]))
    return {**defaults, **sizes, **(spec.tiny if tiny else {}), **overrides}


def measure_main(argv: list[str]) -> int:
    """`python -m maintainer.book_cost measure CASE --out FILE`: one case in this process (KERAS_BACKEND chooses)."""
    parser = argparse.ArgumentParser(prog="python -m maintainer.book_cost measure")
    parser.add_argument("case", choices=sorted(BY_NAME))
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="SIZE=VALUE", help="a builder size, e.g. units=64")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = ast.literal_eval(value)
    spec = BY_NAME[args.case]
    row = measure_case(spec, case_sizes(spec, args.tiny, overrides), max(1, args.steps))
    args.out.write_text(json.dumps(row, indent=1) + "\n")
    return 0


def run_case(name: str, backend: str, count: int, tiny: bool, out: Path, timeout: float,
             overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """One case in a fresh process on `backend`; its row, or a row naming what went wrong."""
    command = [sys.executable, "-m", "maintainer.book_cost", "measure", name, "--steps", str(count), "--out", str(out),
               *(["--tiny"] if tiny else []), *[f"--set={k}={v!r}" for k, v in (overrides or {}).items()]]
    env = sharing_environment({"OMP_WAIT_POLICY": "passive", **os.environ, "KERAS_BACKEND": backend,
                               "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(layout.REPO_ROOT)})
    try:
        subprocess.run(command, env=env, timeout=timeout, check=True, cwd=layout.REPO_ROOT)
        return json.loads(out.read_text())
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError) as err:
        reason = (f"timed out after {timeout:.0f} s (raise --timeout)" if isinstance(err, subprocess.TimeoutExpired)
                  else f"the measurement process failed ({type(err).__name__}: {err}); its output is above")
        return {"case": name, "notebook": BY_NAME[name].notebook, "backend": backend, "error": reason}


# --- the estimate ---------------------------------------------------------------------------------------

class MissingMeasurement(Exception):
    """A notebook's estimate needs a case that failed or was not measured."""


@dataclass(frozen=True)
class Phase:
    """Part of a notebook: `steps` alike, each costing its arithmetic, memory traffic or measured time on a T4."""

    label: str
    steps: int
    flops: float = 0.0  # arithmetic of one step
    bytes: float = 0.0  # memory read by one step (decoding: every weight once)
    overhead: float = STEP_OVERHEAD_S
    input_s: float = 0.0  # the host's input pipeline per step (prefetched: the step takes the slower of the two)
    measured_s: float | None = None  # bound by Python's dispatch, not by arithmetic: the CPU's step time, as it is
    epochs: int = 0
    compiles: int = 0
    compile_s: float = 0.0  # seconds of one compilation, as measured here

    def step_seconds(self) -> float:
        """One step on a T4."""
        if self.measured_s is not None:
            return self.measured_s
        compute = max(self.flops / (T4_FLOPS * EFFICIENCY), self.bytes / (T4_BANDWIDTH * BANDWIDTH_EFFICIENCY))
        return max(compute + self.overhead, self.input_s)

    def seconds(self) -> float:
        """The whole phase on a T4."""
        return self.steps * self.step_seconds() + self.epochs * EPOCH_OVERHEAD_S + self.compiles * self.compile_s


class Measured:
    """One backend's rows, as the plans ask for them."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = {r["case"]: r for r in rows}

    def row(self, case: str, key: str) -> Any:
        """A measured value; MissingMeasurement if the case failed or lacks it."""
        row = self.rows.get(case)
        if row is None or row.get("error") or row.get(key) is None:
            raise MissingMeasurement(f"{case}: {row.get('error') if row else 'not measured'}")
        return row[key]

    def flops(self, case: str, kind: str, batch: int) -> float:
        """FLOPs of a `kind` (train or forward) step of `batch` samples."""
        return self.row(case, f"{kind}_flops_per_sample") * batch

    def step(self, case: str, kind: str) -> float:
        """Seconds of one step after the first, measured here."""
        return self.row(case, f"{kind}_s")

    def compile(self, case: str, kind: str) -> float:
        """Seconds the first call took beyond a later one: its compilation."""
        return max(0.0, self.row(case, f"{kind}_first_s") - self.step(case, kind))


def fit(m: Measured, label: str, case: str, epochs: int, train: int, validation: int, batch: int,
        input_s: tuple[float, float] = (0.0, 0.0), forward_case: str = "") -> list[Phase]:
    """A model.fit of `epochs` over `train` samples validated on `validation` (0: none): its two phases.

    `input_s`: the input pipeline's seconds per training and per validation batch; `forward_case`:
    the case whose forward step the validation takes, where `case` measured only training.
    """
    phases = [Phase(f"{label}: fit", epochs * steps(train, batch), m.flops(case, "train", batch), input_s=input_s[0],
                    epochs=epochs, compiles=1, compile_s=m.compile(case, "train"))]
    if validation:
        phases.append(forward(m, f"{label}: validation", forward_case or case, epochs * steps(validation, batch), batch,
                              input_s[1]))
    return phases


def forward(m: Measured, label: str, case: str, count: int, batch: int, input_s: float = 0.0) -> Phase:
    """`count` forward steps of `batch` (validation, evaluate, predict), one compilation."""
    return Phase(label, count, m.flops(case, "forward", batch), input_s=input_s, compiles=1,
                 compile_s=m.compile(case, "forward"))


def plan_chapter02(s: dict[str, Any], m: Measured) -> list[Phase]:
    """The first network's fit and evaluate; the from-scratch loop's eager steps."""
    return [*fit(m, "first network", "mnist_dense", s["EPOCHS"], MNIST_TRAIN, 0, s["BATCH_SIZE"]),
            forward(m, "first network: evaluate", "mnist_dense", steps(MNIST_TEST, 32), 32),
            Phase("from scratch: eager steps", s["SCRATCH_EPOCHS"] * steps(MNIST_TRAIN, s["BATCH_SIZE"]),
                  measured_s=m.step("mnist_scratch", "eager"))]


def plan_chapter03_regression(s: dict[str, Any], m: Measured) -> list[Phase]:
    """K-fold validation and the final model on California's districts; the small fits before them."""
    folds, epochs, batch = s["NUM_FOLDS"], s["KFOLD_EPOCHS"], s["BATCH_SIZE"]
    held = CALIFORNIA_TRAIN // folds
    small_epochs = s["LINE_EPOCHS"] + s["LOGISTIC_EPOCHS"] + 4 * s["REGULARIZATION_EPOCHS"]
    # 500 points in batches of 32; 1,000 clouds' points (800 trained, 200 validated); 4 penalties, one batch an epoch
    small = s["LINE_EPOCHS"] * steps(500, 32) + s["LOGISTIC_EPOCHS"] * (steps(800, 32) + steps(200, 32)) \
        + 4 * s["REGULARIZATION_EPOCHS"]
    kfold = fit(m, "k-fold", "house_prices", epochs, CALIFORNIA_TRAIN - held, held, batch)
    return [Phase("line, logistic and regularised fits", small, epochs=small_epochs, compiles=6,
                  compile_s=m.compile("house_prices", "train")),
            *[Phase(p.label, folds * p.steps, p.flops, epochs=folds * p.epochs, compiles=folds, compile_s=p.compile_s)
              for p in kfold],
            *fit(m, "final model (at most KFOLD_EPOCHS)", "house_prices", epochs, CALIFORNIA_TRAIN, 0, batch)]


def plan_chapter03_frameworks(s: dict[str, Any], m: Measured) -> list[Phase]:
    """Four pure-framework loops of TRAINING_STEPS, and two Keras fits of the linear classifier."""
    points = 2 * s["NUM_SAMPLES_PER_CLASS"]
    validation = int(0.3 * points)
    return [Phase("pure TensorFlow, PyTorch (twice) and JAX loops", 4 * s["TRAINING_STEPS"]),
            *fit(m, "Keras, batch 128", "linear_classifier", s["KERAS_EPOCHS"], points, 0, 128),
            Phase("Keras, batch 16, with validation", s["KERAS_EPOCHS"] * (steps(points - validation, 16)
                                                                             + steps(validation, 16)),
                  epochs=s["KERAS_EPOCHS"], compiles=2, compile_s=m.compile("linear_classifier", "train"))]


def plan_chapter08(s: dict[str, Any], m: Measured) -> list[Phase]:
    """MNIST, then every cats-vs-dogs model: its fits, validations and test evaluations; VGG16's features."""
    b = s["BATCH_SIZE"]
    train, validation, test = (2 * s[k] for k in ("TRAIN_PER_CLASS", "VALIDATION_PER_CLASS", "TEST_PER_CLASS"))
    plain, augmented = m.step("cats_vs_dogs_input", "decode"), m.step("cats_vs_dogs_input", "augment")
    pictures = s["COMPACT_XCEPTION_PICTURES"]

    def cats_vs_dogs(label: str, case: str, epochs: int, augment: bool, fit_case: str = "") -> list[Phase]:
        return [*fit(m, label, fit_case or case, epochs, train, validation, b, (augmented if augment else plain, plain),
                     forward_case=case),
                forward(m, f"{label}: test", case, steps(test, b), b, plain)]

    return [*fit(m, "MNIST convnet", "mnist_convnet", s["MNIST_EPOCHS"], int(0.8 * MNIST_TRAIN),
                 int(0.2 * MNIST_TRAIN), 64),
            forward(m, "MNIST convnet: test", "mnist_convnet", steps(MNIST_TEST, 32), 32),
            *cats_vs_dogs("small convnet", "scratch_convnet", s["SCRATCH_EPOCHS"], False),
            *cats_vs_dogs("with augmentation", "scratch_convnet", s["AUGMENTED_EPOCHS"], True),
            forward(m, "VGG16 features of every picture", "vgg16_frozen",
                    steps(train, b) + steps(validation, b) + steps(test, b), b, plain),
            # the dense classifier on 5 x 5 x 512 features: well under a millisecond of arithmetic, the overhead dominates
            Phase("dense classifier on the features", s["FEATURES_EPOCHS"] * (steps(train, 32) + steps(validation, 32)),
                  epochs=s["FEATURES_EPOCHS"]),
            *cats_vs_dogs("frozen VGG16 + augmentation", "vgg16_frozen", s["FROZEN_EPOCHS"], True),
            *cats_vs_dogs("fine-tuning", "vgg16_frozen", s["FINE_TUNE_EPOCHS"], True, "vgg16_finetune"),
            *fit(m, "compact Xception", "compact_xception", s["COMPACT_XCEPTION_EPOCHS"], int(0.8 * pictures),
                 pictures - int(0.8 * pictures), s["COMPACT_XCEPTION_BATCH_SIZE"]),
            *cats_vs_dogs("mini Xception", "mini_xception", s["MINI_XCEPTION_EPOCHS"], True)]


def plan_chapter11(s: dict[str, Any], m: Measured) -> list[Phase]:
    """Both translation models: fit, validation, greedy decoding of EVAL_SAMPLES; the stacked-RNN timing."""
    held = int(0.15 * SPA_ENG_PAIRS)
    train, b, n = SPA_ENG_PAIRS - 2 * held, s["BATCH_SIZE"], s["EVAL_SAMPLES"]
    phases = []
    for label, case in (("LSTM encoder", "seq2seq_lstm"), ("bidirectional encoder", "seq2seq_bilstm")):
        phases += fit(m, label, case, s["EPOCHS"], train, held, b)
        # greedy decoding: the encoder once and the decoder SEQUENCE_LENGTH times on all EVAL_SAMPLES, the
        # arithmetic of one teacher-forced forward pass over them, in SEQUENCE_LENGTH + 1 calls
        phases.append(Phase(f"{label}: greedy decoding of {n} sentences", s["SEQUENCE_LENGTH"] + 1,
                            m.flops(case, "forward", n) / (s["SEQUENCE_LENGTH"] + 1), compiles=2,
                            compile_s=m.compile(case, "forward")))
    batches = (1 + s["STACK_EPOCHS"]) * steps(s["STACK_SAMPLES"], 128)
    for case in ("stacked_lstm", "rnn_cells"):
        phases.append(Phase(f"stacked RNNs: {case}", batches, m.flops(case, "train", 128),
                            epochs=1 + s["STACK_EPOCHS"], compiles=1, compile_s=m.compile(case, "train")))
    return phases


def plan_chapter15(s: dict[str, Any], m: Measured) -> list[Phase]:
    """Gemma 3 1B: the hand-written samplers, generate() with five samplers, three rounds of answers, LoRA."""
    config = gemma_config()["config"]
    weights = BYTES_PER_WEIGHT * gemma_parameters(config)
    length, sequence, b = s["MAX_LENGTH"], s["SEQUENCE_LENGTH"], s["BATCH_SIZE"]
    new = length - SAMPLER_PROMPT_TOKENS
    questions = len(s["QUESTIONS"]) + s["EVAL_EXAMPLES"]
    per_call = _generate_batch(s)
    calls, shapes = steps(questions, per_call), 1 + bool(questions % per_call)
    generate_compile = m.compile("gemma_generate", "generate")
    held_out = steps(s["HELD_OUT_EXAMPLES"], b)
    return [
        Phase("hand-written sampling loop (5 samplers, eager)", 5 * new, gemma_flops(config, 1, length), weights,
              overhead=EAGER_OVERHEAD_S),
        Phase(f"generate() to {length} tokens: prefill (greedy, then 5 samplers twice)", 11,
              gemma_flops(config, 1, length), compiles=6, compile_s=generate_compile),
        Phase(f"generate() to {length} tokens: {new} tokens each", 11 * new, 2 * gemma_parameters(config), weights),
        Phase(f"answers before, after, reloaded: prefill ({calls} calls of {per_call} to {sequence} tokens)", 3 * calls,
              gemma_flops(config, per_call, sequence), compiles=3 * shapes, compile_s=generate_compile),
        Phase(f"answers: {sequence - ASK_PROMPT_TOKENS} tokens each", 3 * calls * (sequence - ASK_PROMPT_TOKENS),
              2 * gemma_parameters(config) * per_call, weights),
        forward(m, "held-out loss before LoRA", "gemma_lora", held_out, b),
        *fit(m, "LoRA fine-tuning", "gemma_lora", s["LORA_EPOCHS"], s["TRAIN_EXAMPLES"], s["HELD_OUT_EXAMPLES"], b),
        forward(m, "held-out loss after LoRA", "gemma_lora", held_out, b),
    ]


PLANS: dict[str, Callable[[dict[str, Any], Measured], list[Phase]]] = {
    "chapter02": plan_chapter02, "chapter03_regression": plan_chapter03_regression,
    "chapter03_frameworks": plan_chapter03_frameworks, "chapter08": plan_chapter08, "chapter11": plan_chapter11,
    "chapter15": plan_chapter15,
}


def estimate(key: str, rows: list[dict[str, Any]], backend: str) -> dict[str, Any]:
    """One notebook on one backend: T4 minutes by phase, and its peak memory (GPU: measured or estimated; host)."""
    notebook, label = NOTEBOOKS[key]
    mine = [r for r in rows if r["notebook"] == key and r["backend"] == backend]
    result: dict[str, Any] = {"notebook": notebook, "label": label, "backend": backend}
    try:
        phases = PLANS[key](book_settings(notebook), Measured(mine))
    except MissingMeasurement as err:
        return dict(result, error=f"no estimate: {err}")
    seconds = FIXED_S[key] + sum(p.seconds() for p in phases)
    measured = [r for r in mine if not r.get("error")]
    device = [r for r in measured if not BY_NAME[r["case"]].on_host]
    on_gpu = [r["gpu_peak_bytes"] for r in device if r.get("gpu_peak_bytes") is not None]
    result.update(t4_minutes=seconds / 60, fixed_s=FIXED_S[key],
                  phases=[dict(asdict(p), seconds=p.seconds()) for p in phases],
                  gpu_peak_bytes=max(on_gpu) if on_gpu else max(r["host_model_bytes"] for r in device),
                  gpu_peak_measured=bool(on_gpu), host_peak_bytes=max(r["host_peak_bytes"] for r in measured))
    return result


# --- the report -----------------------------------------------------------------------------------------

def _gb(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e9:.2f} GB"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _notebook_line(n: dict[str, Any]) -> str:
    """A row of the per-notebook table."""
    if n.get("error"):
        return f"| {n['label']} | {n['backend']} | - | - | - | {n['error']} |"
    gpu = n["gpu_peak_bytes"]
    return (f"| {n['label']} | {n['backend']} | {n['t4_minutes']:.0f} | {_gb(gpu)} "
            f"({'measured' if n['gpu_peak_measured'] else 'est.'}) | {_gb(n['host_peak_bytes'])} | "
            f"{'yes' if gpu < T4_MEMORY else '**no**'} ({gpu / T4_MEMORY:.0%}) |")


def _case_line(r: dict[str, Any]) -> str:
    """A row of the per-model table."""
    if r.get("error"):
        return f"| {r['case']} | {r['notebook']} | {r['backend']} | {r['error']} |" + " |" * 9
    others = "; ".join(f"{k} {_s(r[f'{k}_s'])} ({_s(r[f'{k}_first_s'])})"
                       for k in ("eager", "decode", "augment", "generate") if f"{k}_first_s" in r)
    train = r.get("train_s")
    gflop = r.get("train_flops_per_sample", 0) * r["sizes"].get("batch", 1) / 1e9
    sizes = ", ".join(f"{k}={v}" for k, v in r["sizes"].items()) or "the builder's defaults"
    return (f"| {r['case']} | {r['notebook']} | {r['backend']} | {sizes} | "
            f"{format(r['parameters'], ',') if 'parameters' in r else '-'} "
            f"| {_s(train)} ({_s(r.get('train_first_s'))}) | {_s(r.get('forward_s'))} ({_s(r.get('forward_first_s'))}) "
            f"| {others or '-'} | {gflop:.1f} | {f'{gflop / train:.0f}' if train and gflop else '-'} "
            f"| {_gb(r['host_peak_bytes'])} | {_gb(r['host_model_bytes'])} | {_gb(r.get('gpu_peak_bytes'))} |")


def _phase_lines(n: dict[str, Any]) -> list[str]:
    """The table of one notebook's phases."""
    lines = [f"### {n['label']} ({n['backend']}): {n['t4_minutes']:.0f} min", "",
             "| phase | steps | s per step | compilations | seconds |", "|---|---:|---:|---:|---:|",
             f"| downloads and set-up (assumed) | | | | {n['fixed_s']} |"]
    for p in n["phases"]:
        per_step = Phase(**{k: v for k, v in p.items() if k != "seconds"}).step_seconds()
        lines.append(f"| {p['label']} | {p['steps']:,} | {per_step:.4f} | {p['compiles']} | {p['seconds']:.0f} |")
    return [*lines, ""]


def write_report(data: dict[str, Any], out: Path) -> Path:
    """book_cost.json and book_cost.md in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "book_cost.json").write_text(json.dumps(data, indent=1) + "\n")
    gpu_word = "measured" if any(r.get("gpu_peak_bytes") for r in data["cases"]) else "estimated"
    lines = [
        "# Each notebook's cost at the book's sizes",
        "",
        f"Written by `make book-cost` (maintainer/book_cost.py) on {data['date']}: {data['machine']}; "
        f"device: {data['device']}; backends: {', '.join(data['backends'])}; {data['steps']} timed steps per model"
        + (" (--tiny: the code proven, not the numbers)" if data["tiny"] else "") + f"; {data['minutes']:.0f} minutes.",
        "",
        "## Per notebook, on a free Colab T4",
        "",
        "Minutes: **estimated** (no T4 here). GPU memory: **" + gpu_word + "** (the largest model's). Host memory: "
        "**measured** here, the peak of the largest model's process; on a CPU that process holds the weights and "
        "activations a T4 would hold instead, so it is more than a T4 session's host needs for the model (the "
        "notebook's own data come on top).",
        "",
        "| notebook | backend | T4 minutes (est.) | GPU peak | host peak | GPU peak under the T4's 15 GB |",
        "|---|---|---:|---:|---:|---|",
        *[_notebook_line(n) for n in data["notebooks"]],
        "",
        "## Per model, measured here",
        "",
        "Seconds of one step after a warm-up step (median); `first`: the warm-up call, compilation included. "
        "GFLOP: a training step's arithmetic, counted from the layers' shapes. Host: the process's peak "
        "(ru_maxrss) and its part above the baseline after the imports and the runtime's start (the model's, used as "
        "its GPU estimate).",
        "",
        "| model | notebook | backend | sizes | parameters | train s (first) | forward s (first) | other calls s "
        "| GFLOP train | achieved GFLOP/s | host peak | above baseline | GPU peak |",
        "|---|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
        *[_case_line(r) for r in data["cases"]],
        "", "## Method and assumptions", "", *[f"- {line}" for line in data["assumptions"]], "",
        "## Phases of each estimate", "",
        *[line for n in data["notebooks"] if not n.get("error") for line in _phase_lines(n)],
    ]
    path = out / "book_cost.md"
    path.write_text("\n".join(lines))
    return path


def assumptions() -> list[str]:
    """The method's constants, in words, for the report."""
    return [
        f"T4 step time = max(FLOPs / ({T4_FLOPS / 1e12:.1f} TFLOP/s x {EFFICIENCY}), bytes read / "
        f"({T4_BANDWIDTH / 1e9:.0f} GB/s x {BANDWIDTH_EFFICIENCY})) + {STEP_OVERHEAD_S * 1e3:.0f} ms, or the input "
        "pipeline's time per batch measured here where that is longer (tf.data prefetches). The two efficiencies and "
        "the overhead are assumptions, not measurements.",
        "FLOPs: the matrix products and convolutions of Dense, Conv, SeparableConv, DepthwiseConv and recurrent "
        "layers (2 per multiply-add), from the layers' shapes; a training step adds the weights' gradient for a "
        "layer that trains and the input's gradient for a layer after one that trains. Gemma: its projections, "
        "attention over the whole sequence and logits; LoRA training = 2 x forward.",
        f"Decoding: every float32 weight read once per token ({BYTES_PER_WEIGHT} bytes each); answers run to "
        f"SEQUENCE_LENGTH (no early stop: an upper bound); generate calls of GENERATE_BATCH_SIZE prompts "
        f"({GENERATE_BATCH_SIZE} where the notebook does not set it).",
        f"Compilation: each fit, evaluate and generate compiles once, taking what its first call took here beyond a "
        f"later one. Each epoch adds {EPOCH_OVERHEAD_S * 1e3:.0f} ms; the hand-written sampling loop "
        f"{EAGER_OVERHEAD_S * 1e3:.0f} ms a token (eager calls).",
        "Dispatch-bound steps (chapter 2's eager from-scratch loop) take the CPU's measured step time as the T4's.",
        f"Data not in the parameters: spa-eng {SPA_ENG_PAIRS:,} pairs with vocabularies of {SPA_ENG_VOCABULARY:,} "
        f"(max_tokens, an upper bound); California 'small' {CALIFORNIA_TRAIN} training districts; MNIST "
        f"{MNIST_TRAIN:,}/{MNIST_TEST:,}. Downloads and set-up: {', '.join(f'{k} {v} s' for k, v in FIXED_S.items())} "
        "(assumed).",
        "GPU memory without a GPU: the model process's peak host memory above its baseline on the CPU, taken after "
        "the imports and one step of a one-weight model (the runtime's start) (weights, optimizer slots, activations, the batch; the CUDA context, ~0.3-0.5 GB, is not in it, as "
        "torch.cuda.max_memory_allocated leaves it out too). With a GPU: torch.cuda.max_memory_allocated, JAX's "
        "peak_bytes_in_use, TensorFlow's get_memory_info peak. JAX preallocates 75% of a GPU by default on Colab: "
        "the peak in use is what must fit.",
        "Measured here: random weights, synthetic batches of the book's shapes; chapter 8's input pipeline on "
        "generated 500 x 375 JPEGs (this CPU's 2 cores taken as Colab's 2 vCPUs).",
    ]


def selected(names: list[str]) -> list[str]:
    """NOTEBOOKS keys matching `names` (a key, a chapter folder, or a notebook's path); all when empty."""
    if not names:
        return list(NOTEBOOKS)
    chosen = [k for k, (path, _) in NOTEBOOKS.items()
              if any(n.strip("/") and (n == k or path.startswith(n.rstrip("/") + "/") or path == n
                                       or Path(n).name == Path(path).name) for n in names)]
    if not chosen:
        raise DLWPError(f"no notebook matches {names}: name one of {sorted(NOTEBOOKS)}, a chapter folder "
                        "(chapter08) or a notebook's path.")
    return chosen


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["measure"]:
        return measure_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m maintainer.book_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="chapter folders, keys or notebook paths (default: all)")
    parser.add_argument("--backends", default="jax", help=f"comma-separated, of {', '.join(BACKENDS)} (default jax)")
    parser.add_argument("--steps", type=int, default=2, help="timed steps per model after the warm-up (default 2)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: proves the code, not the numbers")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {layout.relative(DEFAULT_OUT)}")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement process (default 1800)")
    parser.add_argument("--rewrite", action="store_true",
                        help="measure nothing: estimates and tables again from OUT/book_cost.json")
    args = parser.parse_args(argv)
    try:
        keys = selected(args.notebooks)
        backends = parse_backends(args.backends)
    except DLWPError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.rewrite:
        try:
            data = json.loads((args.out / "book_cost.json").read_text())
        except (OSError, json.JSONDecodeError) as err:
            print(f"error: {args.out / 'book_cost.json'} cannot be read ({type(err).__name__}: {err}); "
                  "run `make book-cost` to measure.", file=sys.stderr)
            return 2
        rows = data["cases"]
    else:
        rows = []
        with tempfile.TemporaryDirectory(prefix="dlwp-book-cost-") as folder:
            for backend in backends:  # one process at a time: the peaks are each model's own
                for spec in [c for c in CASES if c.notebook in keys]:
                    print(f"{backend} {spec.name}:", flush=True)
                    rows.append(run_case(spec.name, backend, args.steps, args.tiny,
                                         Path(folder) / f"{backend}-{spec.name}.json", args.timeout))
                    if rows[-1].get("error"):
                        print(f"  {spec.name} on {backend}: {rows[-1]['error']}", flush=True)
        data = {"date": time.strftime("%Y-%m-%d"), "machine": cpu_name(),
                "device": next((r["device"] for r in rows if r.get("device")), "unknown"), "backends": backends,
                "steps": args.steps, "tiny": args.tiny, "minutes": (time.perf_counter() - started) / 60}
    found = [(r["notebook"], r["backend"]) for r in rows]
    data["notebooks"] = [estimate(k, rows, b) for b in data["backends"] for k in NOTEBOOKS if (k, b) in found]
    data["cases"], data["assumptions"] = rows, assumptions()
    report = write_report(data, args.out)
    print(f"Wrote {report} and {args.out / 'book_cost.json'}")
    for n in data["notebooks"]:
        print(f"  {n['label']:22} {n['backend']:10} " + (n["error"] if n.get("error") else
              f"{n['t4_minutes']:5.0f} min on a T4 (est.), GPU {_gb(n['gpu_peak_bytes'])}, host {_gb(n['host_peak_bytes'])}"))
    failed = [r for r in rows if r.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
