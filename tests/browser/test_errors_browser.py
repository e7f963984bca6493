"""Where an error is, as a person sees it in JupyterLab: an error is never on a hidden row, a closed
panel with an error says so in its heading, the summary says where, and Save refuses the design until
it is fixed. Elements are found by role and label; any front-end exception fails the test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MASKFORMER, BERT = 0, 1  # cells of errors.ipynb


@pytest.fixture(scope="module")
def errors_notebook(lab_session):
    lab_session.open("errors.ipynb")
    lab_session.run_all()
    for cell in (MASKFORMER, BERT):
        output(lab_session, cell).get_by_label("total parameters").wait_for(timeout=90_000)
    return lab_session


def output(lab, cell: int):
    return lab.cells().nth(cell).locator(".jp-OutputArea-output").first


def test_switching_a_maskformer_to_timm_leaves_no_hidden_error_and_save_refuses(lab, errors_notebook, tmp_path):
    composer = output(lab, MASKFORMER)
    stages = composer.get_by_label("out_features", exact=True)
    stages.fill("stage9")  # not a ResNet stage
    stages.press("Enter")
    expect(composer.get_by_role("alert").filter(has_text="stage_names")).to_be_visible()
    composer.get_by_label("backbone", exact=True).select_option(label="resnet50")  # timm
    # What was typed for the ResNet reaches the timm backbone, which takes stages by index: the error is
    # shown where it is, with the value that causes it, never on a hidden row.
    alert = composer.get_by_role("alert").filter(has_text="a timm backbone selects stages with out_indices")
    expect(alert).to_be_visible()
    expect(composer.get_by_role("alert", include_hidden=True)).to_have_count(composer.get_by_role("alert").count())
    expect(composer.get_by_label("total parameters")).to_be_visible()

    status = composer.get_by_role("status", name="save status")
    composer.get_by_label("folder", exact=True).fill(str(tmp_path / "maskformer"))
    composer.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_have_text(re.compile(r"^Failed: the design has an error at out_features in Backbone: "))
    assert not (tmp_path / "maskformer").exists()

    stages.fill("")  # cleared: the timm backbone hands on its default stages
    stages.dispatch_event("change")
    expect(alert).to_have_count(0)
    composer.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_contain_text("Saved MaskFormerForInstanceSegmentation", timeout=120_000)


def test_a_closed_tokenizer_panel_says_it_has_an_error_and_the_summary_says_where(lab, errors_notebook):
    composer = output(lab, BERT)
    composer.get_by_text("Tokenizer", exact=True).click()  # open the panel
    composer.get_by_label("source", exact=True).select_option(label="vocab file")
    composer.get_by_label("vocab_file", exact=True).fill("/no/such/vocab.txt")
    composer.get_by_role("button", name="Load", exact=True).click()
    expect(composer.get_by_role("alert").filter(has_text="does not exist")).to_be_visible()

    composer.get_by_text("Tokenizer", exact=True).click()  # close it: the error is out of sight
    expect(composer.get_by_label("vocab_file", exact=True)).to_be_hidden()
    heading = composer.get_by_role("button", name=re.compile(r"^\W*Tokenizer\W+an error at vocab_file$"))
    expect(heading).to_be_visible()
    expect(heading).to_have_attribute("aria-expanded", "false")
    expect(composer.get_by_text("Showing the last valid design: an error at vocab_file in Tokenizer.")).to_be_visible()

    heading.click()  # open again, fix it: the heading and the notice clear
    composer.get_by_label("source", exact=True).select_option(label="train on text")
    composer.get_by_role("button", name="Train", exact=True).click()
    expect(composer.get_by_role("button", name=re.compile(r"^\W*Tokenizer$"))).to_be_visible()
    expect(composer.get_by_text("Showing the last valid design")).to_have_count(0)


def test_the_model_type_search_lists_and_counts_only_matches(lab, errors_notebook):
    composer = output(lab, MASKFORMER)  # maskformer is the chosen type: it must not stay in the results
    composer.get_by_label("search model types").fill("bert")
    types = composer.get_by_label("model_type", exact=True)
    shown = types.locator("option:not([hidden])").all_inner_texts()
    assert shown and all("bert" in name for name in shown) and "maskformer" not in shown
    expect(composer.get_by_role("status", name="model types shown")).to_have_text(f"{len(shown)} matches")
    composer.get_by_label("search model types").fill("")
