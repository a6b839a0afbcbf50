"""Every generated input of the embedded profile is the same, byte for byte, on every machine (issue 24).

Each dataset the notebooks generate offline (the MNIST stand-in, the house-price districts, the
drawn cats and dogs, the striped pictures, the English-Spanish corpus, the sums, the VGG16
stand-in's source pictures) is made here at the size the notebooks use in the embedded profile,
reduced to one SHA-256 in a canonical way, and compared with the hash committed in
tests/results/generated_hashes.json:

    arrays   "array <name> <dtype> <shape>" then the C-contiguous little-endian bytes
    files    "file <relative path> <size>" then the bytes, in sorted path order (no timestamps)
    text     the UTF-8 bytes (files), or JSON with sorted keys (the instruction lists, in their order)

A hash that changes means the notebooks' inputs changed, and with them every recorded metric. If
that was deliberate (a generator was changed on purpose), write the hashes again:

    .venv/bin/python -m tests.test_generated_data write [NAME ...]        # add --slow for the slow ones
    .venv/bin/python -m tests.test_generated_data hashes [NAME ...]       # print them as JSON (no writing)
    .venv/bin/python -m tests.test_generated_data check [NAME ...]        # compare, one line per dataset

If it was not, the generation follows the machine (its CPU features, or a library version): see
issue 24. The house-price districts once did, through NumPy's AVX-512 exp and power and the C
library's exp; every generator now takes exp, powers, sin and cos from dlwp_utils.data.exact.
The cheap datasets are also made again in subprocesses with some of this CPU's kernels off
(NumPy's AVX-512 ones; glibc's FMA/AVX variants of exp, log, sin...), as on another x86-64 machine.

Each dataset is made in a temporary DLWP_CACHE_DIR: the user's cache is never read or written.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
HASHES = Path(__file__).resolve().parent / "results" / "generated_hashes.json"
REGENERATE = ".venv/bin/python -m tests.test_generated_data write"
SLOW_ENV = "DLWP_SLOW_HASHES"  # =1: the test also checks the slow datasets


# --- canonical hashing -------------------------------------------------------------------------

class Digest:
    """A SHA-256 fed with arrays, files and text in one canonical layout (see the module's docstring)."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()

    def array(self, name: str, value) -> Digest:
        value = np.asarray(value)
        little = np.ascontiguousarray(value.astype(value.dtype.newbyteorder("<"), copy=False))
        self._sha.update(f"array {name} {value.dtype.name} {value.shape}\n".encode())
        self._sha.update(little.tobytes())
        return self

    def file(self, name: str, data: bytes) -> Digest:
        self._sha.update(f"file {name} {len(data)}\n".encode())
        self._sha.update(data)
        return self

    def folder(self, folder: Path) -> Digest:
        """Every file under `folder` by relative path, sorted; store manifests (paths and times) left out."""
        paths = sorted((p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith(".dlwp-")),
                       key=lambda p: p.relative_to(folder).as_posix())
        for path in paths:
            self.file(path.relative_to(folder).as_posix(), path.read_bytes())
        return self

    def text(self, name: str, text: str) -> Digest:
        return self.file(name, text.encode("utf-8"))

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


# --- the generated datasets, at the notebooks' embedded sizes ----------------------------------

# The embedded-profile settings of the notebooks that size a generated dataset (checked against
# the parameters cells by test_the_hashed_sizes_are_the_notebooks_embedded_settings).
NOTEBOOK_SETTINGS = {
    "chapter08/chapter08_image_classification.ipynb": {"COMPACT_XCEPTION_PICTURES": 1000, "COMPACT_XCEPTION_SIZE": 32,
                                                        "SEED": 42},
    "chapter15/chapter15_language_models_gemma.ipynb": {"TRAIN_EXAMPLES": 80, "HELD_OUT_EXAMPLES": 20},
}
CH08 = NOTEBOOK_SETTINGS["chapter08/chapter08_image_classification.ipynb"]
CH15 = NOTEBOOK_SETTINGS["chapter15/chapter15_language_models_gemma.ipynb"]


def _mnist() -> str:
    from dlwp_utils.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist("embedded")
    return (Digest().array("x_train", x_train).array("y_train", y_train).array("x_test", x_test)
            .array("y_test", y_test).hexdigest())


def _house_prices(dataset: str) -> Callable[[], str]:
    def make() -> str:
        from dlwp_utils.data import load_house_prices

        (x_train, y_train), (x_test, y_test) = load_house_prices("embedded", dataset)
        return (Digest().array("x_train", x_train).array("y_train", y_train).array("x_test", x_test)
                .array("y_test", y_test).hexdigest())

    return make


def _dogs_vs_cats() -> str:
    from dlwp_utils.data import dogs_vs_cats_train

    return Digest().folder(dogs_vs_cats_train("embedded")).hexdigest()


def _stripes() -> str:
    from dlwp_utils.data import striped_pictures

    pictures, labels = striped_pictures(CH08["COMPACT_XCEPTION_PICTURES"], size=CH08["COMPACT_XCEPTION_SIZE"],
                                        classes=100, seed=CH08["SEED"])
    return Digest().array("pictures", pictures).array("labels", labels).hexdigest()


def _spa_eng() -> str:
    from dlwp_utils.data import load_spa_eng
    from dlwp_utils.data.spa_eng import TEXT_FILE

    return Digest().file(TEXT_FILE.as_posix(), load_spa_eng("embedded").read_bytes()).hexdigest()


def _instructions() -> str:
    from dlwp_utils.data import load_instructions

    train, held_out = load_instructions("embedded", train=CH15["TRAIN_EXAMPLES"], held_out=CH15["HELD_OUT_EXAMPLES"])
    text = json.dumps({"train": train, "held_out": held_out}, ensure_ascii=False, sort_keys=True)
    return Digest().text("instructions.json", text).hexdigest()


def _vgg16_validation() -> str:
    from dlwp_utils.data.vgg16_standin import validation_pictures

    pictures, labels = validation_pictures()
    return Digest().array("pictures", pictures).array("labels", labels).hexdigest()


def _vgg16_source(count: int | None) -> Callable[[], str]:
    def make() -> str:
        from dlwp_utils.data.vgg16_standin import RECIPE, source_pictures

        n = count or RECIPE["steps"] * RECIPE["batch_size"]
        pictures, labels = source_pictures(n, RECIPE["image_size"], RECIPE["seed"])
        return Digest().array("pictures", pictures).array("labels", labels).hexdigest()

    return make


@dataclass(frozen=True)
class Dataset:
    what: str  # the call, as the notebooks (or the maintainer's build) make it
    make: Callable[[], str]  # its hash
    cheap: bool = False  # a few seconds at most: also made in subprocesses with some of this CPU's kernels off
    slow: bool = False  # checked only with DLWP_SLOW_HASHES=1 (or --slow on the command line)


DATASETS = {
    "mnist": Dataset('load_mnist("embedded") (chapters 2 and 8)', _mnist, cheap=True),
    "house_prices_california": Dataset('load_house_prices("embedded", "california") (chapter 3)',
                                       _house_prices("california"), cheap=True),
    "house_prices_boston": Dataset('load_house_prices("embedded", "boston") (chapter 3, HOUSE_PRICES = "boston")',
                                   _house_prices("boston"), cheap=True),
    "dogs_vs_cats_train": Dataset('dogs_vs_cats_train("embedded"): the files of the drawn train.zip, '
                                  'EMBEDDED_PER_CLASS = 1000 (chapter 8)', _dogs_vs_cats),
    "striped_pictures": Dataset("striped_pictures(1000, size=32, classes=100, seed=42) (chapter 8's compact Xception)",
                                _stripes, cheap=True),
    "spa_eng": Dataset('load_spa_eng("embedded"): spa-eng/spa.txt, 4,000 pairs (chapter 11)', _spa_eng, cheap=True),
    "instructions": Dataset('load_instructions("embedded", train=80, held_out=20) (chapter 15)', _instructions,
                            cheap=True),
    "vgg16_validation_pictures": Dataset("vgg16_standin.validation_pictures(): the 720 held-out source pictures "
                                         "the stand-in's accuracy is checked on", _vgg16_validation, cheap=True),
    # The stand-in's build draws steps x batch_size = 19,200 training pictures (about a minute):
    # the unit test hashes 1,024 of the same kind, through the same code (source_pictures with a
    # smaller count: the same per-picture seeds [8016, 0, i], classes dealt out over 1,024).
    "vgg16_source_pictures_1024": Dataset("vgg16_standin.source_pictures(1024, 32, seed=0): the build's "
                                          "source_pictures, 1,024 pictures instead of 19,200", _vgg16_source(1024)),
    "vgg16_source_pictures": Dataset("vgg16_standin.source_pictures(19200, 32, seed=0): the pictures the "
                                     "stand-in's build (make standin) trains on", _vgg16_source(None), slow=True),
}


def library_versions() -> str:
    """The libraries, Python, architecture and NumPy kernels a hash was made with (what it may depend on)."""
    from importlib.metadata import version

    libraries = ", ".join(f"{name} {version(name)}" for name in ("numpy", "pillow", "scikit-learn"))
    targets, usable = numpy_cpu_dispatch()
    kernels = "+".join(t for t in targets if usable.get(t)) or "baseline only"
    return (f"{libraries}, python {platform.python_version()}, {platform.machine()}, "
            f"{'-'.join(platform.libc_ver()) or 'no glibc'}, NumPy kernels {kernels}")


def compute(name: str) -> tuple[str, float]:
    """(hash, seconds) of one dataset, made in a fresh temporary DLWP_CACHE_DIR; the loaders' lines are swallowed."""
    with tempfile.TemporaryDirectory(prefix="dlwp-hash-") as folder:
        saved = os.environ.get("DLWP_CACHE_DIR")
        os.environ["DLWP_CACHE_DIR"] = str(Path(folder) / "cache")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                started = time.perf_counter()
                digest = DATASETS[name].make()
                return digest, time.perf_counter() - started
        finally:
            if saved is None:
                del os.environ["DLWP_CACHE_DIR"]
            else:
                os.environ["DLWP_CACHE_DIR"] = saved


def committed() -> dict[str, str]:
    """name -> the committed SHA-256."""
    if not HASHES.is_file():
        return {}
    return {name: entry["sha256"] for name, entry in json.loads(HASHES.read_text())["datasets"].items()}


def changed_message(name: str, digest: str, expected: str | None, made_with: str | None = None) -> str:
    if expected is None:
        return (f"The generated dataset {name!r} ({DATASETS[name].what}) has no committed hash in "
                f"{HASHES.relative_to(ROOT)}: write it with `{REGENERATE} {name}`.")
    return (f"The generated dataset {name!r} ({DATASETS[name].what}) changed: SHA-256 {digest}, committed "
            f"{expected} ({HASHES.relative_to(ROOT)}). The notebooks' inputs, and every metric recorded from them, "
            f"are no longer the recorded ones. If a generator was changed on purpose, write the hash again with "
            f"`{REGENERATE} {name}` (and record the metrics again). If not, its generation follows this machine "
            f"(CPU features, or a library version: it was made with {made_with or library_versions()}): see issue 24.")


# --- the tests ---------------------------------------------------------------------------------

def check(name: str, digest: str, expected: str | None, how: str = "", made_with: str | None = None) -> None:
    """Fail unless `digest` is the committed hash."""
    if digest != expected:
        pytest.fail(how + changed_message(name, digest, expected, made_with), pytrace=False)


def test_every_dataset_has_a_committed_hash():
    missing = sorted(set(DATASETS) - set(committed()))
    assert not missing, f"No committed hash for {', '.join(missing)}: write them with `{REGENERATE} --slow`."


@pytest.mark.parametrize("name", list(DATASETS))
def test_generated_dataset_matches_its_committed_hash(name, cache):
    dataset = DATASETS[name]
    if dataset.slow and os.environ.get(SLOW_ENV) != "1":
        pytest.skip(f"slow (about 30 s): {SLOW_ENV}=1 checks it")
    with contextlib.redirect_stdout(io.StringIO()):
        digest = dataset.make()  # in the `cache` fixture's temporary DLWP_CACHE_DIR
    check(name, digest, committed().get(name))


def numpy_cpu_dispatch() -> tuple[list[str], dict[str, bool]]:
    """(NumPy's dispatch targets, which CPU features it found usable): NumPy 2 or 1."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy 1.x
        from numpy.core import _multiarray_umath as umath
    return list(umath.__cpu_dispatch__), dict(umath.__cpu_features__)


def avx512_targets() -> list[str]:
    """NumPy's AVX-512 dispatch targets that this CPU can run (NumPy 2: X86_V4, AVX512_ICL...; 1.x: AVX512F...).

    NumPy 2 ignores, with an ImportWarning, NPY_DISABLE_CPU_FEATURES names that are not its dispatch
    targets (AVX512F, AVX512_SKX...): the targets are read from NumPy itself.
    """
    targets, usable = numpy_cpu_dispatch()
    return [t for t in targets if ("512" in t or t == "X86_V4") and usable.get(t)]


def _glibc_with_tunables() -> bool:
    libc, version = platform.libc_ver()
    parts = tuple(int(v) for v in version.split(".")[:2] if v.isdigit()) if libc == "glibc" else ()
    return platform.machine() == "x86_64" and len(parts) == 2 and parts >= (2, 33)


# What another x86-64 machine changes, made here: each variant makes the cheap datasets again in a
# subprocess. name -> (what, the environment it adds or None where it cannot be made here, why not).
def cpu_variants() -> dict[str, tuple[str, dict[str, str] | None, str]]:
    off = avx512_targets()
    return {
        "numpy_without_avx512": (
            "NumPy's AVX-512 kernels off", {"NPY_DISABLE_CPU_FEATURES": " ".join(off)} if off else None,
            "this CPU (or this NumPy) has no AVX-512 kernels to turn off"),
        "libm_without_fma": (
            "glibc's AVX, AVX2, AVX-512 and FMA variants of exp, log, sin... off",
            {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F,-AVX"} if _glibc_with_tunables() else None,
            "not glibc 2.33+ on x86-64: no GLIBC_TUNABLES hwcaps to turn off"),
    }


CHEAP = [n for n, d in DATASETS.items() if d.cheap]


@pytest.fixture(scope="module", params=["numpy_without_avx512", "libm_without_fma"])
def variant_hashes(request, tmp_path_factory):
    """(what the variant turns off, its environment, the report of the cheap datasets made in a subprocess under it)."""
    what, env, why_not = cpu_variants()[request.param]
    if env is None:
        pytest.skip(why_not)
    full = dict(os.environ, **env, DLWP_CACHE_DIR=str(tmp_path_factory.mktemp("variant") / "cache"))
    run = subprocess.run([sys.executable, "-m", "tests.test_generated_data", "hashes", *CHEAP], cwd=ROOT, env=full,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    if request.param == "numpy_without_avx512":
        still_on = sorted(set(env["NPY_DISABLE_CPU_FEATURES"].split()) & set(report["numpy_dispatch"]))
        assert not still_on, f"NPY_DISABLE_CPU_FEATURES left NumPy's {still_on} on: the check would check nothing"
    return what, env, report


@pytest.mark.parametrize("name", CHEAP)
def test_the_same_dataset_without_this_cpus_kernels(name, variant_hashes):
    """A cheap dataset, made in a subprocess with some of this CPU's SIMD kernels off, is the committed one.

    NumPy picks its kernels for sin, cos, exp, log, power... on float arrays by the CPU it runs
    on (NPY_DISABLE_CPU_FEATURES turns the AVX-512 ones off); glibc picks its exp, log, sin...
    (which NumPy's random generators and Python's math module call) likewise (GLIBC_TUNABLES).
    """
    what, env, report = variant_hashes
    settings = " ".join(f"{k}={v!r}" for k, v in env.items())
    check(name, report["hashes"][name], committed().get(name), how=f"With {what} ({settings}): ",
          made_with=report["versions"])


def test_the_hashed_sizes_are_the_notebooks_embedded_settings():
    """The sizes hashed here are the ones the notebooks' parameters cells set for the embedded profile."""
    from maintainer import hygiene

    for notebook, expected in NOTEBOOK_SETTINGS.items():
        nb = json.loads((ROOT / notebook).read_text(encoding="utf-8"))
        embedded = {name: value for name, value, _, _ in hygiene.settings(hygiene.source(hygiene.parameters_cell(nb)))}
        found = {name: _literal(embedded.get(name)) for name in expected}
        assert found == expected, (f"{notebook}'s embedded settings are now {found}, and the hashes in "
                                   f"{HASHES.relative_to(ROOT)} were written for {expected}: update NOTEBOOK_SETTINGS "
                                   f"in {Path(__file__).name} (and the calls) and write them again: `{REGENERATE}`.")


def _literal(text: str | None):
    """A setting's value as written (`1000`), as a Python value where it is a literal, else the text."""
    try:
        return None if text is None else ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


# --- writing the hashes again, and checking them from the command line ------------------------

def _chosen(names: list[str], slow: bool) -> list[str]:
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise SystemExit(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}")
    return names or [n for n, d in DATASETS.items() if slow or not d.slow]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.test_generated_data",
                                     description="Hash the embedded profile's generated datasets.")
    parser.add_argument("command", choices=["write", "hashes", "check"],
                        help=f"write: into {HASHES.relative_to(ROOT)}; hashes: print them as JSON; check: compare")
    parser.add_argument("names", nargs="*", help=f"datasets (default: all but the slow ones): {', '.join(DATASETS)}")
    parser.add_argument("--slow", action="store_true", help="include the slow ones (about a minute more)")
    args = parser.parse_args(argv)
    names = _chosen(args.names, args.slow)
    results = {}
    for name in names:
        results[name] = compute(name)
        print(f"{name}: {results[name][0]} ({results[name][1]:.1f} s)", file=sys.stderr, flush=True)
    if args.command == "hashes":
        targets, usable = numpy_cpu_dispatch()
        print(json.dumps({"hashes": {n: h for n, (h, _) in results.items()},
                          "seconds": {n: round(s, 2) for n, (_, s) in results.items()},
                          "numpy_dispatch": [t for t in targets if usable.get(t)],
                          "imported": sorted(m for m in ("keras", "tensorflow", "torch", "jax", "scipy")
                                             if m in sys.modules),
                          "versions": library_versions()}, indent=1))
        return 0
    if args.command == "check":
        expected = committed()
        for name, (digest, seconds) in results.items():
            print(f"{name:<28} {'same' if digest == expected.get(name) else 'DIFFERENT'} ({seconds:.1f} s)")
        return 0 if all(digest == expected.get(name) for name, (digest, _) in results.items()) else 1
    record = json.loads(HASHES.read_text()) if HASHES.is_file() else {}
    entries = record.get("datasets", {})
    for name, (digest, _) in results.items():
        entries[name] = {"sha256": digest, "what": DATASETS[name].what, "written_with": library_versions()}
    record = {"about": "SHA-256 of each generated dataset of the embedded profile, made canonically (see "
                       f"tests/{Path(__file__).name}); written by `{REGENERATE} [NAME ...] [--slow]`.",
              "datasets": {name: entries[name] for name in DATASETS if name in entries}}
    HASHES.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"Wrote {len(results)} hash(es) into {HASHES}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
