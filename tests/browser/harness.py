"""A real JupyterLab server and headless Debian Chromium, shared by the browser tests and the
browser benchmark. Follows the measured facts in shared/notes/jupyterlab-testing.md."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
# "Python 3 (ipykernel) | Idle": the kernel exists and is idle (the execution indicator alone lies).
KERNEL_IDLE = re.compile(r"\) \| Idle$")
CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings: Path) -> None:
    """Block the news/update toast, which would cover the page offline."""
    path = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


# Per app: the flags that keep it offline and quiet, and (tests only) expose window.jupyterapp so a
# test can run commands; product code never relies on it.
APP_FLAGS = {
    "jupyterlab": ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True"],
    "notebook": ["--JupyterNotebookApp.expose_app_in_browser=True"],  # Notebook 7, on JupyterLab's components
}


def served(tmp: Path) -> Path:
    """The folder ``jupyter(notebooks, tmp)`` serves (its kernels' working directory)."""
    return tmp / "root"


@contextmanager
def jupyter(notebooks: Path, tmp: Path, app: str = "jupyterlab", env: dict[str, str] | None = None):
    """Start JupyterLab (or Notebook 7: ``app="notebook"``) on a copy of `notebooks` with isolated
    config, its kernels seeing ``env`` on top of this process's environment (a benchmark points
    PYTHONPATH at another checkout); yield (base url, token)."""
    root = served(tmp)
    shutil.copytree(notebooks, root)
    dirs = {name: tmp / name for name in ("config", "runtime", "settings", "workspaces")}
    for path in dirs.values():
        path.mkdir()
    _write_settings(dirs["settings"])  # Notebook 7 reads the same user settings
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTER_CONFIG_DIR": str(dirs["config"]),
           "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
           "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]), **(env or {})}
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", app, "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True", *APP_FLAGS[app]]
    log = (tmp / f"{app}.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, f"{url}/api/status?token={token}", tmp / f"{app}.log")
        yield url, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # SIGINT would ask "Shutdown? (y/[n])"
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait_ready(proc: subprocess.Popen, status_url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(status_url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"JupyterLab not ready after {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def chromium(profile: Path):
    """Headless Debian Chromium driven by Playwright; yields the persistent browser context."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


class Lab:
    """One JupyterLab page, reused across tests: notebooks are opened with `docmanager:open`."""

    def __init__(self, page, url: str, token: str):
        self.page, self.url, self.token = page, url, token
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"{exc.name}: {exc.message}\n{exc.stack}"))
        page.goto(f"{url}/lab?reset&token={token}")
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
        page.evaluate("() => window.jupyterapp.restored.then(() => true)")

    def command(self, command: str, args: dict | None = None) -> None:
        """Run a JupyterLab command without awaiting or returning its result (see the notes)."""
        self.page.evaluate("([c, a]) => { window.jupyterapp.commands.execute(c, a); }", [command, args or {}])

    def open(self, path: str, timeout: float = 60_000) -> None:
        """Close every open document, open `path`, and wait until its kernel is idle."""
        self.page.evaluate("""() => {
            for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
                if (w.context) w.context.model.dirty = false;  // no "save changes?" dialog
                if (w.sessionContext) w.sessionContext.shutdown();
                w.close();
            }
        }""")
        self.command("docmanager:open", {"path": path, "factory": "Notebook"})
        self.page.locator(f"{CURRENT} .jp-Cell").first.wait_for(timeout=timeout)
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 60_000) -> None:
        status = self.page.locator("#jp-main-statusbar .jp-StatusBar-TextItem", has_text=KERNEL_IDLE)
        status.first.wait_for(timeout=timeout)

    def run_all(self) -> None:
        self.command("notebook:run-all-cells")

    def cells(self):
        return self.page.locator(f"{CURRENT} .jp-Notebook .jp-Cell")

    def widget(self, selector: str, timeout: float = 60_000):
        """The current notebook's output that contains `selector`, once it is visible."""
        output = self.page.locator(f"{CURRENT} .jp-OutputArea-output").filter(
            has=self.page.locator(selector)).first
        output.wait_for(timeout=timeout)
        return output

    def screenshot(self, locator, path: Path) -> None:
        """The whole of `locator`: the notebook scrolls inside the page, so grow the page to fit it."""
        size = self.page.viewport_size
        height = int(locator.bounding_box()["height"])
        self.page.set_viewport_size({"width": size["width"], "height": max(size["height"], height + 400)})
        try:
            locator.scroll_into_view_if_needed()
            locator.screenshot(path=path)
        finally:
            self.page.set_viewport_size(size)

    def set_theme(self, theme: str) -> None:
        light = "true" if "Light" in theme else "false"
        self.command("apputils:change-theme", {"theme": theme})
        self.page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
