"""The errors dlwp_utils raises: each says what happened and what to do next, and where
TROUBLESHOOTING.md has an entry for it, links it (help_link)."""

from __future__ import annotations

def repository() -> str | None:
    """The repository's address, from the installed package's metadata (pyproject.toml's [project.urls]
    Repository, a fork's own after `hygiene fork`); None when the package is not installed."""
    import importlib.metadata

    try:
        urls = importlib.metadata.metadata("dlwp-utils").get_all("Project-URL") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    found = [u.split(",", 1)[1].strip() for u in urls if u.split(",", 1)[0].strip() == "Repository"]
    return found[0] if found else None


def help_link(anchor: str) -> str:
    """"Help: <the TROUBLESHOOTING.md entry's address>." for an entry's anchor, e.g. "out-of-memory"."""
    home = repository()
    where = f"{home}/blob/main/TROUBLESHOOTING.md#{anchor}" if home else f"TROUBLESHOOTING.md#{anchor} in the repository"
    return f"Help: {where}."


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
