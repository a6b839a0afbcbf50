"""The job's process in chapter 15's offline Kinetic test: Kinetic's own remote_runner.py, the file its
image runs as /app/remote_runner.py, with Cloud Storage reads and writes going to a local folder (the
functions Kinetic's remote_runner_test patches). Run by tests/kinetic_offline.py under .venv's Python.

    python tests/kinetic_pod.py BUCKET_FOLDER RUNNER_FILE RUNNER_ARGUMENTS...
"""

import importlib.util
import shutil
import sys
from pathlib import Path
from unittest import mock

bucket_folder, runner_file, *runner_arguments = sys.argv[1:]


def local(uri: str) -> Path:
    assert uri.startswith("gs://"), uri
    return Path(bucket_folder) / uri[len("gs://"):]


def download(client, gcs_path, local_path):
    shutil.copyfile(local(gcs_path), local_path)


def upload(client, local_path, gcs_path):
    local(gcs_path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(local_path, local(gcs_path))


spec = importlib.util.spec_from_file_location("remote_runner", runner_file)
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
sys.argv = [runner_file, *runner_arguments]
with mock.patch.object(runner, "_download_from_gcs", download), mock.patch.object(runner, "_upload_to_gcs", upload), \
        mock.patch.object(runner.storage, "Client"):
    runner.main()
