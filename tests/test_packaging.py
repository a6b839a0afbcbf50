"""What a learner installs: the helper package alone, never the maintainer's runner, linter or bench."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from maintainer.layout import REPO_ROOT


def test_the_wheel_colab_installs_holds_only_the_helper(tmp_path):
    # `%pip install "dlwp-utils @ git+<repository>"` builds this same wheel from the repository.
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                           "-w", str(tmp_path), str(REPO_ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel, = tmp_path.glob("dlwp_utils-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.startswith("dlwp_utils-")}
    assert packages == {"dlwp_utils"}, packages
    assert "dlwp_utils/data/tiny_gemma.py" in names and "dlwp_utils/backend.py" in names
    assert {"dlwp_utils/data/assets/vgg16_standin.weights.h5", "dlwp_utils/data/assets/vgg16_standin.json"} <= set(names)
    from dlwp_utils.data import tiny_gemma  # every file of the committed tiny Gemma, and its record

    record = json.loads(tiny_gemma.RECORD.read_text())
    assert {f"dlwp_utils/data/assets/tiny_gemma/{name}" for name in record["files"]} | {
        "dlwp_utils/data/assets/tiny_gemma.json"} <= set(names)
    assert not [n for n in names if any(part in n for part in ("maintainer", "hygiene", "bench", "matrix", "run.py"))]
