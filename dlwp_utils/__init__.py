"""Plumbing for the Deep Learning with Python (Keras 3) companion notebooks.

Everything that gives a notebook data or weights (datasets, their offline stand-ins, pretrained
weights, model presets) is reached through `dlwp.data`, e.g. `dlwp.data.load_mnist(profile)` or
`dlwp.data.gemma_preset(profile)`. Everything else is at the top level: the backend and its
devices (`dlwp.check_backend`), profiles and settings (`dlwp.use_profile`, `dlwp.by_profile`),
seeds, plots, metrics and saved models. Every error class is in `dlwp_utils.errors`.

Importing this package never imports Keras, so the backend can still be chosen afterwards.

    backend    the backend and its devices: check it before Keras is imported, list devices,
               the dtype they suit, simulated devices for keras.distribution, seeds, Colab
    profile    "embedded" or "book", and the settings that differ between them
    data/      one module per dataset or pretrained model, each with its real source and its
               offline stand-in; store.py: the cache, and every file written and checked one way
    kaggle     Kaggle credentials and downloads through kagglehub, with clear refusals
    metrics    record a notebook's key results for the run report and the tests
    plots      training curves (live during training: LivePlot), image grids, decision lines,
               fitted lines, weights
    saving     load a saved model with one clear error if it is missing or damaged
    errors     the errors a learner can meet, each saying what to do (and where TROUBLESHOOTING.md helps)
    environment  environment_report(): the block a learner pastes into an issue
    out_of_memory  one message for an out-of-memory error on any backend (check_backend installs it)
    kinetic    chapter 15's Keras Kinetic job: what it would submit, the checks before, its errors, its output
"""

from dlwp_utils import data, kinetic
from dlwp_utils.backend import BACKENDS, check_backend, in_colab, preferred_dtype, run_on_simulated_devices, set_seed
from dlwp_utils.environment import environment_report
from dlwp_utils.errors import BackendError, DataError, DLWPError, KaggleError, ProfileError, SavedModelError, WriteError
from dlwp_utils.metrics import record_metric, with_error
from dlwp_utils.plots import plot_decision_boundary, plot_fitted_line, plot_history, plot_images, plot_weights
from dlwp_utils.profile import Profile, by_profile, require_available, use_profile
from dlwp_utils.saving import load_model

__version__ = "0.1.0"


def __getattr__(name: str):
    """`dlwp.LivePlot`, the Keras callback, is defined on first use (it imports Keras)."""
    if name == "LivePlot":
        from dlwp_utils import plots

        return plots.LivePlot
    raise AttributeError(f"module 'dlwp_utils' has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "BackendError",
    "DLWPError",
    "DataError",
    "KaggleError",
    "LivePlot",
    "Profile",
    "ProfileError",
    "SavedModelError",
    "WriteError",
    "by_profile",
    "check_backend",
    "data",
    "environment_report",
    "in_colab",
    "kinetic",
    "load_model",
    "plot_decision_boundary",
    "plot_fitted_line",
    "plot_history",
    "plot_images",
    "plot_weights",
    "preferred_dtype",
    "record_metric",
    "require_available",
    "run_on_simulated_devices",
    "set_seed",
    "use_profile",
    "with_error",
]
