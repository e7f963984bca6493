"""The prebuilt "insert as a new cell" JupyterLab extension, driven by a stand-in widget that
dispatches the same DOM event as the composer's button (so it is tested apart from the widgets)."""

from __future__ import annotations

import filecmp
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "labextension"
INSTALLED = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "transformers-composer"


def test_installed_extension_matches_source():
    """Editable installs copy the extension (hatch shared-data), so an edit needs a reinstall."""
    for name in ("package.json", "install.json", "static/remoteEntry.js"):
        assert filecmp.cmp(SOURCE / name, INSTALLED / name, shallow=False), \
            f"{INSTALLED / name} is stale: run `pip install -e .` (or `make`)"


@pytest.mark.browser
def test_insert_event_adds_cell_below_the_widget(lab):
    lab.open("insert_probe.ipynb")
    lab.run_all()
    probe = lab.widget("button:text('Insert probe')")
    cells = lab.cells()
    expect(cells).to_have_count(2)

    probe.get_by_role("button", name="Insert probe").click()
    expect(probe.get_by_role("status")).to_have_text("handled")
    expect(cells).to_have_count(3)
    expect(cells.nth(1).locator(".cm-content")).to_have_text("x = 6 * 7\nprint('inserted', x)", use_inner_text=True)
    expect(cells.nth(2).locator(".cm-content")).to_have_text('print("the cell after")')

    lab.command("notebook:run-cell")  # the extension made the new cell the active one
    expect(cells.nth(1).locator(".jp-OutputArea-output")).to_have_text("inserted 42")


@pytest.mark.browser
def test_insert_event_outside_a_notebook_is_left_to_the_fallback(lab):
    handled = lab.page.evaluate("""() => {
        const detail = { code: "1" };
        document.body.dispatchEvent(new CustomEvent("composer:insert-cell", { bubbles: true, detail }));
        return detail.handled === true;
    }""")
    assert handled is False
