"""Profiles: "embedded" (offline stand-in data, small, minutes on a CPU) or "book" (real data, book sizes)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

from dlwp_utils.backend import in_colab
from dlwp_utils.errors import ProfileError

PROFILES = {
    "embedded": "offline stand-in data the project generates, small sizes: minutes on a CPU",
    "book": "the real datasets and weights at the book's sizes (needs the network)",
}
PROFILE_ENV = "DLWP_PROFILE"

T = TypeVar("T", int, float)


@dataclass(frozen=True)
class Profile:
    """The active profile; `pick` chooses a setting's value for it."""

    name: str

    @property
    def embedded(self) -> bool:
        """True in the embedded (offline) profile."""
        return self.name == "embedded"

    def pick(self, setting: str, value: T | None, *, embedded: T, book: T) -> T:
        """`value` if the notebook's parameters set one, else this profile's default; checked > 0."""
        chosen = value if value is not None else (embedded if self.embedded else book)
        return require_positive(setting, chosen)


def default_profile_name() -> str:
    """$DLWP_PROFILE if set, else "book" on Colab and "embedded" everywhere else."""
    return os.environ.get(PROFILE_ENV) or ("book" if in_colab() else "embedded")


def use_profile(name: str | None = None) -> Profile:
    """Validate and announce the profile (None: see default_profile_name) in one printed line."""
    chosen = name if name is not None else default_profile_name()
    key = str(chosen).strip().lower()
    if key not in PROFILES:
        valid = " or ".join(f'"{p}"' for p in PROFILES)
        raise ProfileError(
            f"Unknown profile {chosen!r}. Use {valid}: set PROFILE in the notebook's parameters "
            f"cell (papermill: -p PROFILE embedded), or the {PROFILE_ENV} environment variable."
        )
    other = "book" if key == "embedded" else "embedded"
    print(f'Profile: {key} ({PROFILES[key]}). Set PROFILE = "{other}" in the parameters cell to switch.')
    return Profile(key)


def require_positive(setting: str, value: T) -> T:
    """Return `value` if it is a number above zero, else raise a ProfileError naming the setting."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ProfileError(
            f"{setting} must be a number above zero, but it is {value!r}. "
            f"Change {setting} in the notebook's parameters cell (papermill: -p {setting} <value>)."
        )
    return value


def require_available(setting: str, value: int, available: int, dataset: str) -> int:
    """Return `value` if the dataset has that many samples; else a ProfileError naming both numbers."""
    require_positive(setting, value)
    if value > available:
        raise ProfileError(
            f"{setting} asks for {value:,} samples, but {dataset} has only {available:,}. "
            f"Set {setting} to {available:,} or less in the parameters cell (or None for the profile's default)."
        )
    return value
