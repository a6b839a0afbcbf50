"""Plumbing for the Deep Learning with Python (Keras 3) companion notebooks.

Importing this package never imports Keras, so the backend can still be chosen afterwards.
"""

from dlwp_utils.backend import BACKENDS, check_backend, in_colab, set_seed
from dlwp_utils.data import load_boston_housing, load_instructions, load_mnist, load_spa_eng
from dlwp_utils.gemma import gemma_preset, preferred_dtype, run_on_simulated_devices, tiny_gemma_preset
from dlwp_utils.errors import BackendError, DataError, DLWPError, ProfileError
from dlwp_utils.metrics import record_metric
from dlwp_utils.plots import plot_decision_boundary, plot_fitted_line, plot_history, plot_images, plot_weights
from dlwp_utils.profile import Profile, require_available, use_profile
from dlwp_utils.saving import SavedModelError, load_model

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "BackendError",
    "DLWPError",
    "DataError",
    "Profile",
    "ProfileError",
    "SavedModelError",
    "check_backend",
    "gemma_preset",
    "in_colab",
    "load_boston_housing",
    "load_instructions",
    "load_mnist",
    "load_model",
    "load_spa_eng",
    "plot_decision_boundary",
    "plot_fitted_line",
    "plot_history",
    "plot_images",
    "plot_weights",
    "preferred_dtype",
    "record_metric",
    "run_on_simulated_devices",
    "require_available",
    "set_seed",
    "tiny_gemma_preset",
    "use_profile",
]
