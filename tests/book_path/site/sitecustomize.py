"""Test markup of `make test`'s book path, never on a learner's machine (only that step puts this folder on
PYTHONPATH): in its notebook kernels, the checksums the tests' fixtures have replace the published ones,
because the fixtures are small files in the real formats, not the real files. Everything else, the mirror's
own index check included, runs as it does for a learner. The unit tests check the published checksums
themselves (tests/test_data.py, tests/test_instructions.py, tests/test_images_pretrained.py)."""

import dataclasses
import json
import os


def use_fixture_checksums(fixtures: dict[str, str]) -> None:
    """The loaders' published checksums replaced by the fixtures' (tests/book_path/fixtures.py's published.json)."""
    from dlwp_utils.data import instructions, mnist, pretrained, regression

    mnist.MNIST_SHA256 = fixtures["mnist"]
    instructions.DOLLY_SHA256 = fixtures["dolly"]
    for name, spec in list(regression.DATASETS.items()):
        regression.DATASETS[name] = dataclasses.replace(spec, sha256=fixtures[f"house-prices-{name}"])
    for model, (fname, origin, _, size) in list(pretrained.IMAGENET_NO_TOP.items()):
        pretrained.IMAGENET_NO_TOP[model] = (fname, origin, fixtures[f"imagenet-{model.lower()}"], size)


if os.environ.get("DLWP_BOOK_PATH_PUBLISHED"):
    with open(os.environ["DLWP_BOOK_PATH_PUBLISHED"], encoding="utf-8") as file:
        use_fixture_checksums(json.load(file)["published"])
