"""A stand-in for VGG16's ImageNet weights: keras.applications' VGG16 convolutional base pretrained
here on a generated *source* task that is not the target (cats vs dogs).

The source task has many classes of drawn animals and objects on cluttered backgrounds: cat and dog
"breeds" (one per base fur colour, drawn from seeds disjoint from the cats-vs-dogs pictures), the
way ImageNet holds many breeds among its 1,000 classes, and twenty other kinds (rabbits, bears,
owls, cars, houses...: pet_drawings.OTHER_KINDS).

The recipe. VGG16's 13 convolutions, each followed by batch normalisation (a plain stack of 13
ReLU convolutions barely trains in the few hundred steps a CPU affords), global average pooling
and a softmax over the source classes, trained with Adam (warm-up, then cosine decay) on fresh
pictures, flipped, rotated and zoomed at random as chapter 8 augments its cats and dogs. Then
the normalisation's statistics are measured on one large batch and folded into the
convolutions (kernel x gamma / sigma, bias shifted likewise), which gives exactly the plain
`keras.applications.vgg16.VGG16` architecture; the layers' scales are balanced so that every
kernel has the spread of He initialisation (balance_and_scale). Its weights are stored in
float16 (half the size; they load into the float32 model on every backend), so that

    keras.applications.vgg16.VGG16(weights=<file>, include_top=False, input_shape=...)

loads them like weights="imagenet". The classifier head is kept beside them (`*.head.npz`) only
to check the file: with it, the base must classify held-out source pictures as well as recorded.

The file is built once, by a maintainer, and committed (it takes longer than a notebook may):

    KERAS_BACKEND=torch python -m dlwp_utils.data.vgg16_standin build   # make standin
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from dlwp_utils.data.store import sha256_of
from dlwp_utils.errors import DataError

RECIPE = {
    "version": 2,
    "image_size": 32,  # the embedded profile's IMAGE_SIZE: VGG16's five poolings leave 1 x 1 x 512
    "steps": 300,
    "batch_size": 64,
    "learning_rate": 2e-3,
    "warmup_steps": 20,
    "validation_per_class": 20,
    "calibration_pictures": 1024,
    # The cats-vs-dogs augmentation of chapter 8 (flip, rotation, zoom), as ImageNet models are
    # trained with augmentation: features that do not change much when a picture is turned or zoomed.
    "rotation": 0.1,
    "zoom": 0.2,
    # The features' mean on held-out source pictures once the layers' scales are balanced
    # (balance_and_scale): the book's Flatten-Dense head, trained with RMSprop, swings on larger ones.
    "feature_mean": 0.2,
    "seed": 0,
}
SOURCE_TAG = 8016  # first element of every source picture's seed; the cats-vs-dogs pictures' start with 2
FUR_NAMES = ("ginger", "grey", "black", "cream", "brown", "sandy", "chocolate", "silver")
BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))  # VGG16: convolutions and filters per block
ASSETS = Path(__file__).resolve().parent / "assets"
WEIGHTS = ASSETS / "vgg16_standin.weights.h5"
INFO = ASSETS / "vgg16_standin.json"
HEAD = ASSETS / "vgg16_standin.head.npz"
REBUILD = "KERAS_BACKEND=torch python -m dlwp_utils.data.vgg16_standin build (make standin)"


def recipe_key(recipe: dict | None = None) -> str:
    """A short hash of the recipe: the committed file records the one it was built with."""
    return hashlib.sha256(json.dumps(recipe or RECIPE, sort_keys=True).encode()).hexdigest()[:12]


def source_classes() -> list[tuple[str, str, int | None]]:
    """(name, kind, fur index or None): 8 cat breeds, 8 dog breeds, then one class per other kind."""
    from dlwp_utils.data.pet_drawings import OTHER_KINDS

    classes = [(f"{fur} {pet}", pet, i) for pet in ("cat", "dog") for i, fur in enumerate(FUR_NAMES)]
    return classes + [(kind, kind, None) for kind in OTHER_KINDS]


def describe_source() -> str:
    """The source task in one phrase."""
    classes = source_classes()
    return (f"{len(classes)} classes of drawn pictures (8 cat and 8 dog breeds, by fur colour, and "
            f"{len(classes) - 16} other animals and objects)")


def source_pictures(count: int, size: int, seed: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 (count, size, size, 3), int64 labels): balanced, shuffled source pictures.

    Each is drawn like the cats-vs-dogs pictures (random 64..160 px canvas, clutter, rotation,
    blur) and resized to `size` x `size` (bilinear), as image_dataset_from_directory resizes them.
    Picture i has the seed [SOURCE_TAG, seed, offset + i]: disjoint from the target's seeds.
    """
    from PIL import Image

    from dlwp_utils.data.pet_drawings import FURS, draw_scene

    classes = source_classes()
    labels = np.random.default_rng([SOURCE_TAG, seed, offset, 1]).permutation(np.arange(count) % len(classes))
    pictures = np.empty((count, size, size, 3), np.uint8)
    for i, label in enumerate(labels):
        rng = np.random.default_rng([SOURCE_TAG, seed, offset + i])
        _, kind, fur = classes[label]
        width, height = (int(v) for v in rng.integers(64, 161, size=2))
        image = draw_scene(kind, rng, width, height, fur=None if fur is None else FURS[fur])
        pictures[i] = np.asarray(image.resize((size, size), Image.BILINEAR))
    return pictures, labels.astype("int64")


def validation_pictures(recipe: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The held-out source pictures the recorded accuracy is measured on."""
    recipe = recipe or RECIPE
    count = recipe["validation_per_class"] * len(source_classes())
    return source_pictures(count, recipe["image_size"], recipe["seed"], offset=10**7)


def standin_weights() -> Path:
    """The committed stand-in's weights file, checked against its record; a DataError naming it if it is not sound."""
    if not (WEIGHTS.is_file() and INFO.is_file()):
        raise DataError(f"The VGG16 stand-in's weights ({WEIGHTS}) or their record ({INFO.name}) are missing: the "
                        "helper package is incomplete. Reinstall it (`make setup`, or the notebook's setup cell on "
                        "Colab), or in a checkout run `git checkout -- dlwp_utils/data/assets`.")
    info = json.loads(INFO.read_text())
    if sha256_of(WEIGHTS) != info["sha256"]:
        raise DataError(f"{WEIGHTS} is damaged: its SHA-256 differs from the one in {INFO.name}. Reinstall the "
                        "helper package, or in a checkout run `git checkout -- dlwp_utils/data/assets`.")
    return WEIGHTS


def info() -> dict:
    """What the committed stand-in was pretrained on, and how well it learned it."""
    return json.loads(INFO.read_text())


def batch_normalized_vgg16(size: int, classes: int):
    """The training model: VGG16's convolutions (named as in keras.applications), each followed by BatchNormalization."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3))
    x = inputs
    for block, (convolutions, filters) in enumerate(BLOCKS, start=1):
        for conv in range(1, convolutions + 1):
            x = layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal", name=f"block{block}_conv{conv}")(x)
            x = layers.BatchNormalization(name=f"block{block}_bn{conv}")(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs)


def fold_into_vgg16(model):
    """The plain keras.applications VGG16 base computing what `model`'s convolutions and normalisations compute."""
    import keras

    base = keras.applications.vgg16.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    for block, (convolutions, _) in enumerate(BLOCKS, start=1):
        for conv in range(1, convolutions + 1):
            kernel, bias = (keras.ops.convert_to_numpy(v) for v in model.get_layer(f"block{block}_conv{conv}").weights)
            norm = model.get_layer(f"block{block}_bn{conv}")
            gamma, beta, mean, variance = (keras.ops.convert_to_numpy(v) for v in norm.weights)
            scale = gamma / np.sqrt(variance + norm.epsilon)
            base.get_layer(f"block{block}_conv{conv}").set_weights([kernel * scale, (bias - mean) * scale + beta])
    return base


def balance_and_scale(base, preprocessed: np.ndarray, mean: float) -> float:
    """Give every convolution's kernel the spread of He initialisation, then the features a mean of `mean`.

    A ReLU network computes the same function when one layer's kernel and bias are multiplied by
    c > 0 and the next layer's kernel is divided by c (ReLU and max pooling commute with c). So
    the scales left by the folded normalisation are moved from layer to layer until each kernel's
    standard deviation is sqrt(2 / fan_in), as in a VGG16 trained from a standard initialisation
    (like ImageNet's): a fine-tuning step then changes no layer far more than the others. Then
    the features are scaled to average `mean` on `preprocessed`, which keeps the book's
    Flatten-Dense head steadier: a factor f spread evenly, f^(1/n) on each of the n kernels (and
    the product so far on each bias). Returns the factor the features were scaled by.
    """
    import keras

    convolutions = [layer for layer in base.layers if isinstance(layer, keras.layers.Conv2D)]
    carried = 1.0  # what the previous layer's outputs were multiplied by
    for layer in convolutions:
        kernel, bias = (keras.ops.convert_to_numpy(v) for v in layer.weights)
        kernel = kernel / carried
        fan_in = kernel.shape[0] * kernel.shape[1] * kernel.shape[2]
        carried = np.sqrt(2 / fan_in) / float(kernel.std())
        layer.set_weights([kernel * carried, bias * carried])
    factor = mean / float(np.mean(base.predict(preprocessed, batch_size=256, verbose=0)))
    step = factor ** (1 / len(convolutions))
    for k, layer in enumerate(convolutions, start=1):
        kernel, bias = (keras.ops.convert_to_numpy(v) for v in layer.weights)
        layer.set_weights([kernel * step, bias * step**k])
    return carried * factor


def head_accuracy(weights: Path, head: Path, pictures: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy on `pictures` of the base loaded from `weights`, global average pooling and the stored head."""
    import keras

    base = keras.applications.vgg16.VGG16(weights=str(weights), include_top=False, input_shape=pictures.shape[1:])
    features = base.predict(keras.applications.vgg16.preprocess_input(pictures.astype("float32")), verbose=0)
    with np.load(head) as stored:
        logits = features.mean(axis=(1, 2)) @ stored["kernel"] + stored["bias"]
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def build(folder: Path, recipe: dict | None = None, *, log=print) -> dict:
    """Pretrain, fold and save the stand-in into `folder` (weights, head, record); returns the record."""
    import keras

    recipe = recipe or RECIPE
    started = time.perf_counter()
    keras.utils.set_random_seed(recipe["seed"])
    size, steps, batch = recipe["image_size"], recipe["steps"], recipe["batch_size"]
    classes = len(source_classes())
    log(f"Drawing {steps * batch:,} training and {recipe['validation_per_class'] * classes} held-out source pictures...")
    x, y = source_pictures(steps * batch, size, recipe["seed"])
    x_val, y_val = validation_pictures(recipe)
    x = keras.applications.vgg16.preprocess_input(augmented(x, recipe))
    model = batch_normalized_vgg16(size, classes)
    schedule = keras.optimizers.schedules.CosineDecay(0.0, steps - recipe["warmup_steps"], alpha=0.05,
                                                      warmup_target=recipe["learning_rate"],
                                                      warmup_steps=recipe["warmup_steps"])
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])

    class Progress(keras.callbacks.Callback):
        def on_train_batch_end(self, step, logs=None):
            if (step + 1) % max(1, steps // 10) == 0:
                elapsed = time.perf_counter() - started
                log(f"step {step + 1}/{steps}: loss {logs['loss']:.3f}, accuracy {logs['accuracy']:.3f}, "
                    f"{elapsed:.0f} s elapsed")

    history = model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[Progress()])
    # The moving statistics of a few hundred steps lag the weights: measure them anew, on one batch.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    model(x[: recipe["calibration_pictures"]], training=True)
    folder.mkdir(parents=True, exist_ok=True)
    weights, head = folder / WEIGHTS.name, folder / HEAD.name
    base = fold_into_vgg16(model)
    factor = balance_and_scale(base, keras.applications.vgg16.preprocess_input(x_val.astype("float32")),
                               recipe["feature_mean"])
    save_float16(base, weights)
    kernel, bias = (keras.ops.convert_to_numpy(v) for v in model.get_layer("head").weights)
    np.savez(head, kernel=kernel / factor, bias=bias)  # the same logits from the features, now times factor
    record = {
        "model": "VGG16 convolutional base (keras.applications, include_top=False), float16",
        "source_task": describe_source(),
        "source_classes": [name for name, _, _ in source_classes()],
        "source_accuracy": round(head_accuracy(weights, head, *validation_pictures(recipe)), 4),
        "chance": round(1 / classes, 4),
        "final_training_loss": round(float(history.history["loss"][-1]), 4),
        "feature_scale": round(float(factor), 6),
        "recipe": recipe, "recipe_key": recipe_key(recipe), "backend": keras.backend.backend(),
        "seconds": round(time.perf_counter() - started), "bytes": weights.stat().st_size, "sha256": sha256_of(weights),
    }
    (folder / INFO.name).write_text(json.dumps(record, indent=1) + "\n")
    log(f"Source-task accuracy {record['source_accuracy']:.3f} (chance {record['chance']:.3f}); "
        f"{record['bytes'] / 1e6:.1f} MB in {folder}, {record['seconds']} s.")
    return record


def augmented(pictures: np.ndarray, recipe: dict) -> np.ndarray:
    """float32 copies of `pictures`, each randomly flipped, rotated and zoomed like chapter 8's layers do.

    RandomFlip("horizontal"), RandomRotation(rotation) and RandomZoom(zoom), each with "reflect"
    filling, written with scipy so that it takes seconds (the Keras layers take minutes on torch).
    """
    from scipy import ndimage

    rng = np.random.default_rng([SOURCE_TAG, recipe["seed"], 2])
    out = np.empty(pictures.shape, np.float32)
    size = pictures.shape[1]
    centre = (np.array([size, size]) - 1) / 2
    for i, picture in enumerate(pictures.astype(np.float32)):
        if rng.random() < 0.5:
            picture = picture[:, ::-1]
        angle = rng.uniform(-recipe["rotation"], recipe["rotation"]) * 2 * np.pi
        scale = 1 + rng.uniform(-recipe["zoom"], recipe["zoom"])
        matrix = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        offset = centre - matrix @ centre
        for channel in range(picture.shape[-1]):
            out[i, ..., channel] = ndimage.affine_transform(picture[..., channel], matrix, offset, order=1,
                                                            mode="reflect")
    return out


def save_float16(base, path: Path) -> None:
    """base.save_weights(path), with every array stored as float16 (Keras casts them back on loading)."""
    import h5py

    base.save_weights(path)
    with h5py.File(path, "r+") as f:
        names: list[str] = []
        f.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
        for name in names:
            values = f[name][()]
            if values.dtype == np.float32:
                del f[name]
                f.create_dataset(name, data=values.astype(np.float16))
    _repack(path)


def _repack(path: Path) -> None:
    """Copy the HDF5 file into a fresh one: deleting datasets leaves their space unused inside the file."""
    import h5py

    packed = path.with_name(path.name + ".packed")
    with h5py.File(path, "r") as source, h5py.File(packed, "w") as target:
        for key, value in source.attrs.items():
            target.attrs[key] = value
        for name in source:
            source.copy(source[name], target, name=name)
    packed.replace(path)


def main(argv: list[str] | None = None) -> int:
    """`build [--out FOLDER]`: pretrain the stand-in (default: into the package's assets, to be committed)."""
    parser = argparse.ArgumentParser(prog="python -m dlwp_utils.data.vgg16_standin", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--out", type=Path, default=ASSETS, help=f"default {ASSETS}")
    parser.add_argument("--steps", type=int, default=RECIPE["steps"])
    args = parser.parse_args(argv)
    if os.environ.get("KERAS_BACKEND") != "torch":
        print("note: the committed file is built on torch (the fastest backend for VGG16 training on a CPU); "
              f"KERAS_BACKEND is {os.environ.get('KERAS_BACKEND')!r}.", file=sys.stderr)
    build(args.out, {**RECIPE, "steps": args.steps}, log=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
