"""Datasets the chapters use: each with its real source and an offline stand-in of the same shape."""

from dlwp_utils.data.download import cache_dir, extract_zip, fetch_file
from dlwp_utils.data.mnist import load_mnist
from dlwp_utils.data.regression import load_boston_housing
from dlwp_utils.data.spa_eng import load_spa_eng

__all__ = ["cache_dir", "extract_zip", "fetch_file", "load_boston_housing", "load_mnist", "load_spa_eng"]
