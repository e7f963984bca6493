"""What a user installs: the wheel carries the built front end (no Node needed to use it) and the
JupyterLab extension, though neither the bundle nor node_modules is in git."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_carries_every_built_view_and_stylesheet(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("transformers_composer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    views = {p.stem for p in (ROOT / "js" / "views").glob("*.js")}
    assert {f"widgets/static/{view}.js" for view in views} <= names
    assert {"widgets/static/composer.css", "widgets/static/preview.css"} <= names
    assert not any(name.startswith(("js/", "node_modules/")) for name in names)
    assert {f"composer/training/launch_folder/{name}" for name in ("train.py", "launch.sh", "README.md",
                                                                    "sample.txt")} <= names
    assert any(name.endswith("labextensions/transformers-composer/static/remoteEntry.js") for name in names)
