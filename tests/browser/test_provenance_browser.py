"""A design pretrained on the real MiniLM checkpoint, in JupyterLab (issue 12): the summary's module tree and
the architecture drawing mark where each block's weights come from (loaded, new, resized, unused), with a
legend, and follow an edit of the layer count. Found by role and label, never by CSS class."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LEGEND = '[aria-label="Weight provenance legend"]'


@pytest.fixture(scope="module")
def composer(lab_session):
    """pretrained_minilm.ipynb: MiniLM with 3 of its 6 layers and a new 4-label head."""
    lab_session.open("pretrained_minilm.ipynb")
    lab_session.run_all()
    return lab_session.widget(LEGEND, timeout=120_000)


def test_the_module_tree_marks_where_each_weight_comes_from(lab, composer, artifacts):
    summary = composer.get_by_role("region", name="Summary")
    expect(summary.get_by_label("weights", exact=True)).to_have_text("55 loaded, 2 new, 48 unused")
    expect(summary.get_by_role("list", name="Weight provenance legend")).to_contain_text(
        "new not in the checkpoint: initialised afresh")
    expect(summary.get_by_role("group", name="weights of classifier")).to_have_text("2 new")
    bert = summary.get_by_role("group", name="weights of bert", exact=True)
    expect(bert).to_contain_text("55 loaded")
    expect(bert).to_contain_text("48 unused")  # the three dropped layers were bert's
    expect(summary.get_by_role("note", name="unused checkpoint weights")).to_contain_text("encoder.layer.3–5 (48)")
    lab.screenshot(summary, artifacts / "provenance-summary.png")


def test_the_architecture_drawing_marks_each_block_and_follows_an_edit(lab, composer, artifacts):
    drawing = composer.get_by_role("region", name="Architecture")
    expect(drawing.get_by_role("list", name="Weight provenance legend")).to_be_visible()
    expect(drawing.get_by_role("group", name="weights of classifier")).to_have_text("2 new")
    expect(drawing.get_by_role("group", name="weights of layer", exact=True)).to_have_text("48 loaded")
    expect(drawing.get_by_role("note", name="unused checkpoint weights")).to_contain_text("encoder.layer.3–5 (48)")

    layers = composer.get_by_label("num_hidden_layers", exact=True)
    layers.fill("8")
    layers.press("Enter")  # two more layers than MiniLM has: new ones, drawn apart from the loaded six
    expect(drawing.get_by_role("group", name="weights of layer 0–5")).to_have_text("96 loaded")
    expect(drawing.get_by_role("group", name="weights of layer 6–7")).to_have_text("32 new")
    expect(drawing.get_by_role("note", name="unused checkpoint weights")).to_have_count(0)
    summary = composer.get_by_role("region", name="Summary")
    expect(summary.get_by_label("weights", exact=True)).to_have_text("103 loaded, 34 new")
    lab.screenshot(drawing, artifacts / "provenance-architecture.png")
