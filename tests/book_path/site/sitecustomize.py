"""Test markup of `make test`'s book path, never on a learner's machine (only that step puts this folder on
PYTHONPATH): in its notebook kernels, the checksums the tests' fixtures have replace the published ones,
because the fixtures are small files in the real formats, not the real files. Everything else, the mirror's
own index check included, runs as it does for a learner. The unit tests check the published checksums
themselves (tests/test_data.py, tests/test_instructions.py, tests/test_images_pretrained.py)."""

import dataclasses
import json
import os

_PUBLISHED = os.environ.get("DLWP_BOOK_PATH_PUBLISHED")
if _PUBLISHED:
    with open(_PUBLISHED, encoding="utf-8") as _file:
        _fixtures = json.load(_file)["published"]
    from dlwp_utils.data import instructions, mnist, pretrained, regression

    mnist.MNIST_SHA256 = _fixtures["mnist"]
    instructions.DOLLY_SHA256 = _fixtures["dolly"]
    for _name, _spec in list(regression.DATASETS.items()):
        regression.DATASETS[_name] = dataclasses.replace(_spec, sha256=_fixtures[f"house-prices-{_name}"])
    for _model, (_fname, _origin, _md5, _size) in list(pretrained.IMAGENET_NO_TOP.items()):
        pretrained.IMAGENET_NO_TOP[_model] = (_fname, _origin, _fixtures[f"imagenet-{_model.lower()}"], _size)
