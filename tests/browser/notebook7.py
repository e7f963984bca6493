"""A real Jupyter Notebook 7 server (the `notebook` package, built on JupyterLab's components) for
the browser tests; the same isolation as harness.jupyterlab(), whose helpers it reuses. Its process
start/stop repeats harness.jupyterlab()'s few lines: one helper there could serve both."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from harness import _free_port, _wait_ready, _write_settings


@contextmanager
def notebook7(notebooks: Path, tmp: Path):
    """Start `jupyter notebook` on a copy of `notebooks` with isolated config; yield (base url, token)."""
    root = tmp / "root"
    shutil.copytree(notebooks, root)
    config, runtime, settings, workspaces = (tmp / name for name in ("config", "runtime", "settings", "workspaces"))
    for path in (config, runtime, settings, workspaces):
        path.mkdir()
    _write_settings(settings)  # Notebook 7 reads the same user settings as JupyterLab
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(workspaces)}
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp / "notebook.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "notebook", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True",
             # Tests only, as in harness.jupyterlab(): window.jupyterapp lets a test run commands.
             "--JupyterNotebookApp.expose_app_in_browser=True"],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(proc, f"{url}/api/status?token={token}", log_path)
            yield url, token
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # SIGINT would ask "Shutdown? (y/[n])"
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
