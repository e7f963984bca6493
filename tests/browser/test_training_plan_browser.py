"""The training plan panel as a person uses it in JupyterLab: open it, read the bar of a device and the
device count, change a setting and see the figures change, get told at the field about a bad value,
and edit the design and see the plan follow. Elements are found by role and label."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CHART = "Memory per device"  # the plan's memory chart


@pytest.fixture(scope="module")
def panel(lab_session):
    """The composer of training_plan.ipynb, its training plan opened once for this module's tests."""
    lab_session.open("training_plan.ipynb")
    lab_session.run_all()
    composer = lab_session.widget('[aria-label="total parameters"]')
    toggle = composer.get_by_role("button", name=re.compile(r"^\W*Training plan"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(composer.get_by_role("figure", name=CHART)).to_have_count(0)  # built when first opened
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    return composer


def bar(panel):
    return panel.get_by_role("figure", name=CHART).get_by_role("img")


def figure(panel, name: str):
    return panel.get_by_role("table", name="plan figures").get_by_label(name, exact=True)


def commit(field, value: str) -> None:
    field.fill(value)
    field.press("Enter")


def test_the_plan_shows_a_bar_per_device_and_the_device_count(lab, panel, artifacts):
    expect(bar(panel)).to_have_count(1, timeout=60_000)
    expect(bar(panel)).to_have_attribute("aria-label", re.compile(
        r"^per device \(1 x 80 GB \(H100 SXM\)\): [\d.]+ [KM]iB \(weights .*, gradients .*, optimizer .*, activations .*\)$"))
    expect(figure(panel, "devices")).to_have_text("1 (data-parallel 1)")
    expect(figure(panel, "inference")).to_contain_text("KV cache 256 B per token")  # K and V: 2 x 2 layers x 2 heads x 16 x 2 B
    expect(panel.get_by_label("sequence_length", exact=True)).to_be_visible()  # what a decoder reads
    expect(panel.get_by_label("image_size", exact=True)).to_have_count(0)
    expect(panel.get_by_label("precision", exact=True)).to_have_value(re.compile(".+"))  # the default shown
    view = panel.get_by_role("heading", name="Training plan").locator("xpath=..")
    for theme, name in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        lab.set_theme(theme)
        lab.screenshot(view, artifacts / f"training-plan-{name}.png")


def test_a_setting_changes_the_figures_and_a_bad_one_is_told_at_its_field(lab, panel):
    expect(bar(panel)).to_have_count(1, timeout=60_000)
    before = bar(panel).get_attribute("aria-label")
    micro_batch = panel.get_by_label("micro_batch", exact=True)
    commit(micro_batch, "8")
    expect(bar(panel)).not_to_have_attribute("aria-label", before, timeout=60_000)

    commit(micro_batch, "0")
    alert = panel.get_by_role("alert")
    expect(alert).to_have_text("0 is below 1")  # one line, at its field
    expect(micro_batch).to_have_attribute("aria-invalid", "true")
    expect(panel.get_by_role("status", name="plan status")).to_have_text(
        "The plan shown is for the settings before the error.")
    commit(micro_batch, "1")
    expect(alert).to_have_count(0)
    expect(bar(panel)).to_have_attribute("aria-label", before, timeout=60_000)


def test_the_plan_follows_the_design(lab, panel):
    expect(bar(panel)).to_have_count(1, timeout=60_000)
    before = figure(panel, "compute").inner_text()
    layers = panel.get_by_label("num_hidden_layers", exact=True)
    commit(layers, "4")
    expect(figure(panel, "compute")).not_to_have_text(before, timeout=60_000)
    expect(figure(panel, "inference")).to_contain_text("KV cache 512 B per token")  # twice the layers


def test_export_launch_writes_the_folder_and_never_over_one(lab, panel, lab_root):
    folder = panel.get_by_label("launch folder", exact=True)
    folder.fill("tiny_launch")
    panel.get_by_role("button", name="Export launch").click()
    status = panel.get_by_role("status", name="launch status")
    expect(status).to_contain_text(f"Wrote the launch folder to {lab_root / 'tiny_launch'}: ", timeout=60_000)
    assert (lab_root / "tiny_launch" / "train.py").is_file()  # relative to the notebook, as a save is

    panel.get_by_role("button", name="Export launch").click()
    expect(panel.get_by_role("alert")).to_have_text(f"{lab_root / 'tiny_launch'} exists; remove it first to replace it",
                                                    timeout=60_000)
    expect(folder).to_have_attribute("aria-invalid", "true")
