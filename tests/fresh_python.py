"""Run a test's code in a fresh Python on one Keras backend, and read back the JSON it printed last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap


def json_on(backend: str, code: str, cleared: str, **env: str) -> dict:
    """Run `code` (dedented) in a fresh Python with KERAS_BACKEND=`backend`, without the setting `cleared` unless
    `env` gives it; the JSON it printed last."""
    environment = dict({k: v for k, v in os.environ.items() if k != cleared}, KERAS_BACKEND=backend, **env)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=environment, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
