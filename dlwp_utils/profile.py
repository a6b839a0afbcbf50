"""Profiles: "embedded" (offline stand-in data, small, minutes on a CPU) or "book" (real data, book sizes).

A notebook's parameters cell states each setting once. A setting that differs between the
profiles is written `NAME = dlwp.by_profile(book=30, embedded=12)`; the same in both, it is a
plain constant. `dlwp.use_profile(PROFILE, settings=globals())` then picks each setting's value
for the active profile and checks them all. A papermill `-p NAME value` replaces the whole
setting, so it wins in either profile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Generic, MutableMapping, TypeVar

from dlwp_utils.backend import in_colab
from dlwp_utils.errors import ProfileError

PROFILES = {
    "embedded": "offline stand-in data the project generates, small sizes: minutes on a CPU",
    "book": "the real datasets and weights at the book's sizes (needs the network)",
}
PROFILE_ENV = "DLWP_PROFILE"

T = TypeVar("T")
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Profile:
    """The active profile."""

    name: str

    @property
    def embedded(self) -> bool:
        """True in the embedded (offline) profile."""
        return self.name == "embedded"


@dataclass(frozen=True)
class ByProfile(Generic[T]):
    """A setting with one value per profile, until use_profile picks one."""

    book: T
    embedded: T

    def value(self, profile: Profile) -> T:
        """This setting's value in `profile`."""
        return self.embedded if profile.embedded else self.book


def by_profile(*, book: T, embedded: T) -> ByProfile[T]:
    """A setting whose value depends on the profile, e.g. `EPOCHS = dlwp.by_profile(book=30, embedded=12)`."""
    return ByProfile(book=book, embedded=embedded)


def default_profile_name() -> str:
    """$DLWP_PROFILE if set, else "book" on Colab and "embedded" everywhere else."""
    return os.environ.get(PROFILE_ENV) or ("book" if in_colab() else "embedded")


def use_profile(name: str | None = None, settings: MutableMapping[str, Any] | None = None) -> Profile:
    """Validate and announce the profile (None: see default_profile_name) in one printed line.

    With `settings` (a notebook passes `globals()`), every UPPER_CASE setting written with
    `by_profile` is replaced by its value for this profile, and every numeric setting is checked.
    """
    chosen = name if name is not None else default_profile_name()
    key = str(chosen).strip().lower()
    if key not in PROFILES:
        valid = " or ".join(f'"{p}"' for p in PROFILES)
        raise ProfileError(
            f"Unknown profile {chosen!r}. Use {valid}: set PROFILE in the notebook's parameters "
            f"cell (papermill: -p PROFILE embedded), or the {PROFILE_ENV} environment variable."
        )
    profile = Profile(key)
    if settings is not None:
        resolve_settings(profile, settings)
    other = "book" if key == "embedded" else "embedded"
    print(f'Profile: {key} ({PROFILES[key]}). Set PROFILE = "{other}" in the parameters cell to switch.')
    return profile


_PARAMETER_NAMES: list[str] = []  # the parameters cell's settings, as use_profile last found them


def parameter_names() -> list[str]:
    """The UPPER_CASE settings of the notebook's parameters cell (recorded by use_profile); [] before it ran."""
    return list(_PARAMETER_NAMES)


def resolve_settings(profile: Profile, settings: MutableMapping[str, Any]) -> None:
    """Pick each by_profile setting's value for `profile` in place, then check every numeric setting."""
    _PARAMETER_NAMES[:] = [n for n in settings if n.isupper() and not n.startswith("_")]
    for name in list(_PARAMETER_NAMES):
        value = settings[name]
        if isinstance(value, ByProfile):
            value = settings[name] = value.value(profile)
        check_setting(name, value)


def check_setting(name: str, value: Any) -> None:
    """A number must be above zero (a seed: a whole number of 0 or more); other values pass."""
    if name.endswith("SEED"):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ProfileError(
                f"{name} must be a whole number of 0 or more, but it is {value!r}. Change {name} in the "
                f"notebook's parameters cell (papermill: -p {name} 42)."
            )
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        require_positive(name, value)


def require_positive(setting: str, value: N) -> N:
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
            f"Set {setting} to {available:,} or less in the parameters cell."
        )
    return value
