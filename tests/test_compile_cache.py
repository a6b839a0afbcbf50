"""maintainer.compile_cache: JAX's persistent compilation cache in build/compile-cache, and the removal
of entries a killed kernel left half-written (JAX would warn about them on every later run)."""

from __future__ import annotations

import os
import subprocess
import sys

from maintainer import compile_cache, layout

# A jitted function in a fresh process, with the cache of the folder given as argv[1].
COMPILE = r"""
import sys, warnings
warnings.simplefilter("always")
import jax, jax.numpy as jnp
print(float(jax.jit(lambda x: jnp.sin(x) * 2.0 + x ** 3)(jnp.arange(8.0)).sum()))
"""


def run_jax(folder) -> subprocess.CompletedProcess:
    env = {**os.environ, **compile_cache.environment(folder), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
           "JAX_PLATFORMS": "cpu"}
    return subprocess.run([sys.executable, "-c", COMPILE], env=env, capture_output=True, text=True, timeout=300)


def test_the_environment_points_jax_at_the_build_folder():
    env = compile_cache.environment()
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(layout.BUILD / "compile-cache" / "jax")
    assert float(env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) < 1.0  # JAX's default leaves small steps out


def test_no_folder_or_an_empty_one_prunes_nothing(tmp_path, capsys):
    assert compile_cache.prune(tmp_path / "missing") == []
    assert compile_cache.prune(tmp_path) == []
    assert capsys.readouterr().out == ""


def test_a_half_written_entry_is_removed_and_jax_compiles_again_without_a_warning(tmp_path, capsys):
    first = run_jax(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    entries = sorted(tmp_path.glob("*-cache"))
    assert entries, "JAX wrote no cache entry"
    sound, broken = entries[0], tmp_path / ("jit_broken-" + "0" * 64 + "-cache")
    broken.write_bytes(sound.read_bytes()[: len(sound.read_bytes()) // 2])  # what a kill mid-write leaves
    (tmp_path / broken.name.replace("-cache", "-atime")).write_bytes(b"\0" * 8)
    sound_bytes = {p: p.read_bytes() for p in entries}

    assert compile_cache.prune(tmp_path) == [broken]
    assert "Removed 1 unreadable entries of JAX's compilation cache" in capsys.readouterr().out
    assert not broken.exists() and not (tmp_path / broken.name.replace("-cache", "-atime")).exists()
    assert {p: p.read_bytes() for p in sorted(tmp_path.glob("*-cache"))} == sound_bytes  # the sound ones stay

    again = run_jax(tmp_path)  # a warm run: the same result, nothing on stderr about the cache
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "compilation cache" not in again.stderr


def test_without_pruning_jax_warns_about_a_truncated_entry(tmp_path):
    """The reason prune() exists: JAX never overwrites a bad entry, and warns each time it reads it."""
    assert run_jax(tmp_path).returncode == 0
    for entry in tmp_path.glob("*-cache"):
        entry.write_bytes(entry.read_bytes()[:20])
    again = run_jax(tmp_path)
    assert again.returncode == 0
    assert "Error reading persistent compilation cache entry" in again.stderr


def test_without_a_reader_in_jax_the_whole_folder_goes(tmp_path, monkeypatch, capsys):
    (tmp_path / ("jit_f-" + "1" * 64 + "-cache")).write_bytes(b"whatever")
    monkeypatch.setitem(sys.modules, "jax._src.compilation_cache", None)  # an import of it now fails
    assert len(compile_cache.prune(tmp_path)) == 1
    assert not tmp_path.exists() and "Emptied JAX's compilation cache" in capsys.readouterr().out


def test_every_kernel_of_make_run_and_make_test_gets_the_cache_unless_told_otherwise():
    from maintainer.run import kernel_environment

    env = kernel_environment({"PATH": "/bin"})
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(compile_cache.JAX_CACHE) and env["OMP_WAIT_POLICY"] == "passive"
    mine = kernel_environment({"JAX_COMPILATION_CACHE_DIR": "/elsewhere", "OMP_WAIT_POLICY": "active"})
    assert mine["JAX_COMPILATION_CACHE_DIR"] == "/elsewhere" and mine["OMP_WAIT_POLICY"] == "active"
