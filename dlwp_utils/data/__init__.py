"""Datasets the chapters use: each with its real source and an offline stand-in of the same shape."""

from dlwp_utils.data.cats_vs_dogs import dogs_vs_cats_train, make_subsets
from dlwp_utils.data.download import cache_dir, extract_zip, fetch_file
from dlwp_utils.data.images import count_images, find_bad_images
from dlwp_utils.data.instructions import load_instructions
from dlwp_utils.data.mnist import load_mnist
from dlwp_utils.data.pretrained import imagenet_weights
from dlwp_utils.data.regression import load_boston_housing
from dlwp_utils.data.spa_eng import load_spa_eng
from dlwp_utils.data.stripes import striped_pictures

__all__ = [
    "cache_dir",
    "count_images",
    "dogs_vs_cats_train",
    "extract_zip",
    "fetch_file",
    "find_bad_images",
    "imagenet_weights",
    "load_boston_housing",
    "load_instructions",
    "load_mnist",
    "load_spa_eng",
    "make_subsets",
    "striped_pictures",
]
