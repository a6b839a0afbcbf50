"""dlwp_utils.profile: choosing, validating and announcing the profile; settings per profile."""

from __future__ import annotations

import sys

import pytest

from dlwp_utils.errors import ProfileError
from dlwp_utils.profile import (ByProfile, Profile, by_profile, default_profile_name, require_available, require_positive,
                                use_profile)


def test_default_is_embedded_locally_and_book_on_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert default_profile_name() == "embedded"
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert default_profile_name() == "book"


def test_environment_variable_wins_over_the_default(monkeypatch):
    monkeypatch.setenv("DLWP_PROFILE", "book")
    assert use_profile(None).name == "book"
    assert use_profile("embedded").name == "embedded"  # the parameters cell wins over the environment


def test_use_profile_announces_itself_in_one_line(capsys):
    profile = use_profile(" Embedded ")
    lines = capsys.readouterr().out.strip().splitlines()
    assert profile == Profile("embedded") and profile.embedded
    assert len(lines) == 1 and lines[0].startswith("Profile: embedded") and 'PROFILE = "book"' in lines[0]


@pytest.mark.parametrize("name", ["full", "smoke", "", "bok"])
def test_unknown_profile_is_one_clear_error(name):
    with pytest.raises(ProfileError) as err:
        use_profile(name)
    assert '"embedded" or "book"' in str(err.value) and "DLWP_PROFILE" in str(err.value)


def test_each_setting_gets_its_profiles_value_and_plain_constants_stay():
    settings = {"PROFILE": None, "EPOCHS": by_profile(book=30, embedded=3), "BATCH_SIZE": 128,
                "BACKEND": by_profile(book="inductor", embedded="eager"), "SEED": 0, "In": [], "lowercase": by_profile(book=1, embedded=2)}
    use_profile("embedded", settings=settings)
    assert settings["EPOCHS"] == 3 and settings["BATCH_SIZE"] == 128 and settings["BACKEND"] == "eager"
    assert isinstance(settings["lowercase"], ByProfile)  # only UPPER_CASE names are settings
    settings = {"EPOCHS": by_profile(book=30, embedded=3)}
    use_profile("book", settings=settings)
    assert settings == {"EPOCHS": 30}


def test_a_papermill_value_replaces_the_setting_in_either_profile():
    settings = {"EPOCHS": by_profile(book=30, embedded=3)}
    settings["EPOCHS"] = 7  # what papermill's injected cell does after the parameters cell
    use_profile("embedded", settings=settings)
    assert settings["EPOCHS"] == 7


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("EPOCHS", 0, "EPOCHS must be a number above zero, but it is 0"),
    ("LEARNING_RATE", by_profile(book=1e-3, embedded=-1.0), "LEARNING_RATE must be a number above zero"),
    ("SEED", -1, "SEED must be a whole number of 0 or more"),
    ("SEED", 1.5, "SEED must be a whole number"),
])
def test_a_setting_out_of_range_is_one_clear_error_naming_it(name, value, expected):
    with pytest.raises(ProfileError, match=expected) as err:
        use_profile("embedded", settings={name: value})
    assert f"-p {name}" in str(err.value)


@pytest.mark.parametrize("value", [0, -1, -0.5, "5", True, None, float("nan")])
def test_non_positive_or_non_numeric_settings_are_refused(value):
    with pytest.raises(ProfileError) as err:
        require_positive("EPOCHS", value)
    assert "EPOCHS must be a number above zero" in str(err.value) and "-p EPOCHS" in str(err.value)


def test_asking_for_more_samples_than_the_dataset_has_names_both_numbers():
    assert require_available("TRAIN_SAMPLES", 100, 1438, "the MNIST stand-in") == 100
    with pytest.raises(ProfileError) as err:
        require_available("TRAIN_SAMPLES", 5000, 1438, "the MNIST stand-in")
    assert "TRAIN_SAMPLES asks for 5,000 samples, but the MNIST stand-in has only 1,438" in str(err.value)
    with pytest.raises(ProfileError, match="above zero"):
        require_available("TRAIN_SAMPLES", 0, 1438, "x")
