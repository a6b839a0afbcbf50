"""The errors dlwp_utils raises: each says what happened and what to do next, and where
TROUBLESHOOTING.md has an entry for it, links it (help_link)."""

from __future__ import annotations

REPOSITORY = "https://github.com/dlwp-companion/dlwp-keras3-notebooks"  # pyproject.toml's [project.urls]


def repository() -> str:
    """The repository's address, from the installed package's metadata (a fork's own), else REPOSITORY."""
    import importlib.metadata

    try:
        urls = importlib.metadata.metadata("dlwp-utils").get_all("Project-URL") or []
    except importlib.metadata.PackageNotFoundError:
        urls = []
    found = [u.split(",", 1)[1].strip() for u in urls if u.split(",", 1)[0].strip() == "Repository"]
    return found[0] if found else REPOSITORY


def help_link(anchor: str) -> str:
    """"Help: <the TROUBLESHOOTING.md entry's address>." for an entry's anchor, e.g. "out-of-memory"."""
    return f"Help: {repository()}/blob/main/TROUBLESHOOTING.md#{anchor}."


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
