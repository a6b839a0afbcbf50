"""maintainer.depsets: how the Colab and the newest dependency sets are installed."""

from __future__ import annotations

from maintainer import colab_constraints as colab
from maintainer import depsets


def test_the_sets_install_the_names_requirements_txt_pins():
    names = depsets.requirement_names()
    assert names[:2] == ["keras", "jax"] and "torch" in names and "nbval" in names
    assert all("=" not in name for name in names)


def test_colab_torch_comes_without_the_pins_of_colabs_own_cuda_build(tmp_path):
    kept = depsets.torch_constraints()
    names = {colab.normalize(line.split("==")[0]) for line in kept.splitlines() if line and not line.startswith("#")}
    assert not {n for n in names if n.startswith(("nvidia-", "cuda-")) or n in ("triton", *depsets.TORCH_FAMILY)}
    pins = colab.pins()
    dropped = set(pins) - names
    assert dropped == {n for n in pins if n.startswith(("nvidia-", "cuda-")) or n in ("triton", *depsets.TORCH_FAMILY)}
    assert {"sympy", "filelock", "numpy", "keras"} <= names  # the rest of Colab stays pinned while torch installs


def test_the_colab_plan_pins_every_step_to_colab(tmp_path):
    steps = depsets.plan("colab", tmp_path / "torch.txt")
    assert all(step[1] == "-c" for step in steps)
    torch_step, = [step for step in steps if any(arg.startswith("torch==") for arg in step)]
    assert torch_step[2] == str(tmp_path / "torch.txt") and f"torch=={colab.pins()['torch']}" in torch_step
    assert not any(arg == "torch" for step in steps for arg in step)
    assert steps[-1][-2:] == ["-e", str(depsets.REPO_ROOT)] and steps[-1][2] == str(colab.CONSTRAINTS)


def test_the_latest_plan_upgrades_everything_eagerly(tmp_path):
    steps = depsets.plan("latest", tmp_path / "unused.txt", torch="torch==9.9")
    assert ["--upgrade", "--upgrade-strategy", "eager"] == steps[1][1:4] and steps[1][-1] == "torch==9.9"
    assert "keras-hub" in steps[1] and not any("-c" in step for step in steps)
