"""The errors dlwp_utils raises: each says what happened and what to do next."""


class DLWPError(Exception):
    """Base class: a problem a learner can fix, explained in plain words."""


class BackendError(DLWPError):
    """KERAS_BACKEND names no backend, or Keras is already running another one."""


class ProfileError(DLWPError):
    """An unknown profile name, or a setting that is out of range."""


class DataError(DLWPError):
    """A dataset could not be fetched, read or validated."""


class KaggleError(DataError):
    """A Kaggle download failed for a reason the learner can fix (credentials, consent, network)."""


class SavedModelError(DLWPError):
    """A saved model or checkpoint is missing, truncated or corrupt."""


class WriteError(DataError):
    """A file or folder could not be written: no space, over quota, a read-only filesystem, or no permission."""
