"""The composer's "Insert as a new cell" in Jupyter Notebook 7, not only JupyterLab: the same prebuilt
extension (labextension/) must load there and insert the code below the widget's cell. Notebook 7 has
no JupyterLab status bar, so the kernel state is read from the page's session (window.jupyterapp,
exposed by harness.jupyter(app="notebook") for tests only); cells and outputs are JupyterLab's own widgets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from harness import jupyter

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
TOTAL = '[aria-label="total parameters"]'
CELLS = ".jp-NotebookPanel .jp-Notebook .jp-Cell"
PLUGIN = "transformers-composer:insert-cell"
# "Python 3 (ipykernel) | Idle" in JupyterLab's status bar: the same test, on the current notebook.
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    return panel?.sessionContext?.session?.kernel != null && panel.sessionContext.kernelDisplayStatus === "idle";
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with jupyter(HERE / "notebooks", tmp_path_factory.mktemp("notebook7"), app="notebook") as server:
        yield server


@pytest.fixture
def page(browser):
    """A tab of the session's browser; fails the test on any front-end error but Notebook 7's own."""
    page, errors = browser.new_page(), []

    def record(exc):
        if not upstream_race(exc):
            errors.append(f"{exc.name}: {exc.message}\n{exc.stack}")

    page.on("pageerror", record)
    yield page
    page.close()
    assert not errors, "front-end exceptions:\n" + "\n".join(errors)


def test_insert_as_a_new_cell_builds_the_model(server, page):
    url, token = server
    page.goto(f"{url}/notebooks/composer_tiny.ipynb?token={token}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    assert page.evaluate(f"() => window.jupyterapp.isPluginActivated('{PLUGIN}')"), \
        f"{PLUGIN} did not load in Notebook 7"
    cells = page.locator(CELLS)
    expect(cells).to_have_count(2, timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)

    run(page, "notebook:run-all-cells")
    composer = page.locator(".jp-OutputArea-output").filter(has=page.locator(TOTAL)).first
    composer.wait_for(timeout=60_000)
    expected = composer.locator(TOTAL).inner_text()
    composer.get_by_role("button", name="Insert as a new cell").click()
    expect(composer.get_by_role("status", name="code status")).to_have_text("Inserted the code as a new cell below.")
    expect(cells).to_have_count(3)
    inserted = cells.nth(1)
    expect(inserted).to_have_class(re.compile(r"\bjp-CodeCell\b"))
    expect(inserted.locator(".cm-content")).to_contain_text("from transformers import")
    expect(inserted.locator(".cm-content")).not_to_contain_text(re.compile(r"(from|import) (composer|widgets)\b"))
    expect(cells.nth(2).locator(".cm-content")).to_contain_text('if "model" in globals()')  # the check cell

    run(page, "notebook:run-all-below")  # the new cell is the active one; the check cell follows
    output = cells.nth(2).locator(".jp-OutputArea-output")
    expect(output).to_have_text(re.compile(rf"^DistilBertFor\w+ {expected}\s*$"), timeout=60_000)


def run(page, command: str) -> None:
    page.evaluate("c => { window.jupyterapp.commands.execute(c); }", command)


def upstream_race(error) -> bool:
    """Notebook 7's own shortcuts plugin can throw while settings load (jupyter/notebook#7862, open):
    "can't access property "schema", registry.plugins[shortcuts.id] is undefined". Only that one."""
    frames = [line for line in (error.stack or "").splitlines() if " at " in line]
    return (error.message == "Cannot read properties of undefined (reading 'schema')"
            and bool(frames) and "/static/notebook/notebook_core." in frames[0])
