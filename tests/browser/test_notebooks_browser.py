"""Every notebook of notebooks/ opened in the real JupyterLab and run as a person runs it (Run All):
each cell finishes without an error output, every widget it displays renders its view (and every summary
fills in), and the front end neither raises (the `lab` fixture fails on any page error) nor logs an error to its console.
The notebooks are uploaded through the server's contents API next to a copy of examples/, so the
session's server and page are reused and `../examples/` resolves as it does in the checkout."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
FOLDER = "project"  # on the server: project/notebooks/*.ipynb beside project/examples/*.json
OUTPUT = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output"

# "done" once every code cell of the current notebook has an execution count, "error" as soon as a cell
# shows an error (Run All stops there), else false.
RUN_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model) return false;
    let done = true;
    for (const cell of panel.content.model.cells) {
        if (cell.type !== "code") continue;
        for (let i = 0; i < cell.outputs.length; i++) {
            if (cell.outputs.get(i).type === "error") return "error";
        }
        if (cell.executionCount === null) done = false;
    }
    return done ? "done" : false;
}"""

# What the notebook model holds after the run: errors (name, value) and the widget views displayed.
OUTPUTS = """() => {
    const errors = [];
    let widgets = 0;
    for (const cell of window.jupyterapp.shell.currentWidget.content.model.cells) {
        if (cell.type !== "code") continue;
        for (let i = 0; i < cell.outputs.length; i++) {
            const output = cell.outputs.get(i).toJSON();
            if (output.output_type === "error") errors.push(`${output.ename}: ${output.evalue}`);
            if (output.data && output.data["application/vnd.jupyter.widget-view+json"]) widgets += 1;
        }
    }
    return { errors, widgets };
}"""


def _put(url: str, token: str, path: str, model: dict) -> None:
    request = urllib.request.Request(f"{url}/api/contents/{path}", data=json.dumps(model).encode(), method="PUT",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30):
        pass


@pytest.fixture(scope="module")
def project(lab_server):
    """notebooks/ (with workshop.py) and examples/ uploaded to the session's server."""
    url, token = lab_server
    for folder in (FOLDER, f"{FOLDER}/notebooks", f"{FOLDER}/examples"):
        _put(url, token, folder, {"type": "directory"})
    for path in sorted((ROOT / "notebooks").glob("*.py")) + sorted((ROOT / "examples").glob("*.json")):
        _put(url, token, f"{FOLDER}/{path.parent.name}/{path.name}",
             {"type": "file", "format": "text", "content": path.read_text(encoding="utf-8")})
    for name in NOTEBOOKS:
        content = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
        _put(url, token, f"{FOLDER}/notebooks/{name}", {"type": "notebook", "format": "json", "content": content})
    return f"{FOLDER}/notebooks"


@pytest.fixture
def console_errors(lab):
    """Errors the page logs to its console while the test runs (a widget that fails to render logs one)."""
    seen: list[str] = []

    def listen(message):
        if message.type == "error":
            seen.append(message.text)

    lab.page.on("console", listen)
    yield seen
    lab.page.remove_listener("console", listen)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(lab, project, console_errors, name):
    lab.open(f"{project}/{name}")
    lab.run_all()
    state = lab.page.wait_for_function(RUN_STATE, timeout=120_000, polling=200).json_value()
    lab.wait_idle()
    outputs = lab.page.evaluate(OUTPUTS)
    assert state == "done" and not outputs["errors"], f"{name}: {outputs['errors']}"

    assert outputs["widgets"] >= 1, f"{name} displays no widget"
    # Each widget output renders its view: the composer's views all draw a .tc-view root.
    lab.page.wait_for_function("([selector, n]) => document.querySelectorAll(selector).length >= n",
                               arg=[f"{OUTPUT}:has(.tc-view)", outputs["widgets"]], timeout=60_000)
    # Every summary fills in: a Composer's is computed in the background after its form is drawn.
    lab.page.wait_for_function("""(selector) => [...document.querySelectorAll(selector)].every(
        (summary) => summary.querySelector('[aria-label="total parameters"]')?.textContent)""",
                               arg=f"{OUTPUT} .tc-summary", timeout=120_000)
    text = " ".join(lab.page.locator(OUTPUT).all_inner_texts())
    assert "Error displaying widget" not in text and "Loading widget" not in text
    assert not console_errors, "console errors:\n" + "\n".join(console_errors)
