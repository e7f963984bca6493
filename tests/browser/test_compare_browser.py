"""Compare and budget in the composer, as a person uses them in JupyterLab: save the design, change it,
compare it with what was saved and read the field that differs and the delta; ask for a parameter
target, and put the value found into the design. Elements are found by role and label."""

from __future__ import annotations

import ast
import json
import re

import pytest
from playwright.sync_api import expect

from composer import summarize

pytestmark = pytest.mark.browser

TOTAL = '[aria-label="total parameters"]'
NOTEBOOK = "compare_tiny.ipynb"


def tiny(lab_root, **config) -> dict:
    """The notebook's design, with ``config`` changed."""
    source = "".join(json.loads((lab_root / NOTEBOOK).read_text())["cells"][0]["source"])
    spec = ast.literal_eval(re.search(r"Composer\(spec=(\{.*\})\)", source, re.S).group(1))
    return {**spec, "config": {**spec["config"], **config}}


@pytest.fixture(scope="module")
def composer(lab_session):
    lab_session.open(NOTEBOOK)
    lab_session.run_all()
    widget = lab_session.widget(TOTAL)
    widget.get_by_role("button", name=re.compile("Compare and budget")).click()
    return widget


def commit(field, value: str) -> None:
    field.fill(value)
    field.press("Enter")


def test_compare_with_the_last_saved_design_shows_the_field_and_the_delta(lab, composer, lab_root, artifacts):
    status = composer.get_by_role("status", name="save status")
    composer.get_by_label("folder", exact=True).fill("compare_saved")
    composer.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_contain_text("Saved", timeout=60_000)

    before = composer.locator(TOTAL).inner_text()
    commit(composer.get_by_label("num_hidden_layers", exact=True), "3")
    expect(composer.locator(TOTAL)).not_to_have_text(before)

    panel = composer.get_by_role("region", name="Compare with…")
    panel.get_by_role("radio", name=re.compile(r"^the last saved design \(.*compare_saved\)$")).check()
    panel.get_by_role("button", name="Compare", exact=True).click()
    fields = panel.get_by_role("table", name="Fields that differ")
    row = fields.get_by_role("row", name=re.compile(r"config\.num_hidden_layers"))
    expect(row).to_have_text(re.compile(r"config\.num_hidden_layers\s*3\s*2"))
    delta = summarize(tiny(lab_root, num_hidden_layers=3))["total"] - summarize(tiny(lab_root))["total"]
    total = panel.get_by_role("table", name="Deltas").get_by_role("row", name=re.compile("^total parameters"))
    expect(total).to_contain_text(f"−{delta:,}")  # A, this design, has the layer more
    trees = panel.get_by_role("group", name="Module trees")
    expect(trees.get_by_label(re.compile(r"^2: only in A$"))).to_be_visible()
    lab.screenshot(panel.locator("xpath=.."), artifacts / "compare.png")

    commit(composer.get_by_label("num_hidden_layers", exact=True), "2")  # the comparison follows the design
    expect(panel.get_by_text("The designs are the same: no field, count or module differs.")).to_be_visible()


def test_a_budget_finds_the_layers_for_a_target_and_uses_them(lab, composer, lab_root, artifacts):
    target = summarize(tiny(lab_root, num_hidden_layers=4))["total"] - 1  # just under four layers' count
    budget = composer.get_by_role("region", name="Parameter budget")
    budget.get_by_label("field", exact=True).select_option("num_hidden_layers")
    commit(budget.get_by_label("target", exact=True), str(target))
    answer = budget.get_by_role("list", name="budget answer")
    expect(answer).to_contain_text("below: num_hidden_layers 3 gives")
    use = answer.get_by_role("button", name="Use this value: 4")
    expect(use).to_be_visible()
    lab.screenshot(budget, artifacts / "budget.png")
    use.click()
    expect(composer.get_by_label("num_hidden_layers", exact=True)).to_have_value("4")
    expect(composer.locator(TOTAL)).to_have_text(f"{summarize(tiny(lab_root, num_hidden_layers=4))['total']:,}")
