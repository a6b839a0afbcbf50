"""The book path of `make test`: each notebook in the book profile, from the tests' mirror, with smaller counts.

PARAMETERS go to papermill. They shrink counts and epochs only: the book's architectures stay (the
image sizes, VGG16's five blocks and the small convnet's, the sequence lengths, embedding and LSTM
sizes, the batch sizes, Gemma's 512-token training sequences and its book prompts).

BOOK_ONLY lists, per notebook, what only the book profile runs: the lines its real-data branches print.
No notebook has a cell that only one profile runs (every cell runs in both, with each profile's values);
the book-only code is in the loaders' real branches, each of which announces itself in one line. The
book path's check (book_path_check.py) fails if one of these lines is missing, if a code cell did not
run, or if a cell printed an error.
"""

from __future__ import annotations

PARAMETERS: dict[str, dict[str, object]] = {
    "chapter02/chapter02_mathematical_building_blocks.ipynb": {"EPOCHS": 1, "SCRATCH_EPOCHS": 1},
    "chapter03/chapter03_regression.ipynb": {"LINE_EPOCHS": 2, "LOGISTIC_EPOCHS": 2, "REGULARIZATION_EPOCHS": 2,
                                             "KFOLD_EPOCHS": 2},
    "chapter03/chapter03_tensorflow_pytorch_jax_keras.ipynb": {"NUM_SAMPLES_PER_CLASS": 200, "TRAINING_STEPS": 5,
                                                              "KERAS_EPOCHS": 1},
    "chapter08/chapter08_image_classification.ipynb": {
        "MNIST_EPOCHS": 1, "TRAIN_PER_CLASS": 8, "VALIDATION_PER_CLASS": 4, "TEST_PER_CLASS": 4,
        "SCRATCH_EPOCHS": 1, "AUGMENTED_EPOCHS": 1, "FEATURES_EPOCHS": 1, "FROZEN_EPOCHS": 1, "FINE_TUNE_EPOCHS": 1,
        "MINI_XCEPTION_EPOCHS": 1, "COMPACT_XCEPTION_PICTURES": 40, "COMPACT_XCEPTION_EPOCHS": 1,
    },
    "chapter11/chapter11_sequence_to_sequence.ipynb": {"EPOCHS": 1, "EVAL_SAMPLES": 16, "STACK_SAMPLES": 128,
                                                        "STACK_EPOCHS": 1},
    "chapter15/chapter15_language_models_gemma.ipynb": {"TRAIN_EXAMPLES": 4, "HELD_OUT_EXAMPLES": 4,
                                                         "EVAL_EXAMPLES": 2, "LORA_EPOCHS": 1},
}

# Seconds of each notebook's book path on this repository's CI machine (2 cores, the slowest backend), for the
# scheduler's longest-first order and its timeout (maintainer/matrix.py).
SECONDS: dict[str, float] = {
    "chapter02/chapter02_mathematical_building_blocks.ipynb": 20.0,
    "chapter03/chapter03_regression.ipynb": 35.0,
    "chapter03/chapter03_tensorflow_pytorch_jax_keras.ipynb": 45.0,
    "chapter08/chapter08_image_classification.ipynb": 150.0,
    "chapter11/chapter11_sequence_to_sequence.ipynb": 90.0,
    "chapter15/chapter15_language_models_gemma.ipynb": 90.0,
}

PROFILE_LINE = r"^Profile: book \("
BOOK_ONLY: dict[str, list[str]] = {
    "chapter02/chapter02_mathematical_building_blocks.ipynb": [r"^MNIST: [\d,]+ train / [\d,]+ test digits from .*mnist\.npz"],
    "chapter03/chapter03_regression.ipynb": [r"^House prices: California housing .* from .*california_housing\.npz"],
    "chapter03/chapter03_tensorflow_pytorch_jax_keras.ipynb": [r'^torch\.compile\(backend="inductor"\): first call'],
    "chapter08/chapter08_image_classification.ipynb": [
        r"^MNIST: [\d,]+ train / [\d,]+ test digits from .*mnist\.npz",
        r"^Dogs vs cats: the Kaggle competition's train\.zip, extracted in ",
        r"^VGG16 weights: ImageNet, from .*vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5",
    ],
    "chapter11/chapter11_sequence_to_sequence.ipynb": [r"^spa-eng: [\d,]+ English-Spanish pairs from .*spa\.txt"],
    "chapter15/chapter15_language_models_gemma.ipynb": [
        r"^Gemma: the preset gemma3_1b from .*mirror.*gemma3_1b",
        r"^Instructions: databricks-dolly-15k, of its [\d,]+ examples without a context passage",
    ],
}


def book_only_found(notebook: str, text: str) -> dict[str, str | None]:
    """Each book-only line expected of `notebook` (the profile's first), and the printed line that matched it, or None."""
    import re

    found = {}
    for pattern in [PROFILE_LINE, *BOOK_ONLY[notebook]]:
        match = re.search(pattern + r".*$", text, re.M)
        found[pattern] = match.group(0) if match else None
    return found
