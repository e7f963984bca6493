"""The Composer as a person uses it in JupyterLab: edit the form, see the summary follow, get told
at the field about a bad value, pick a head, insert the code as a cell and run it. Elements are
found by role and label (the accessibility contract), never by CSS classes of the implementation."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TOTAL = '[aria-label="total parameters"]'
MEMORY = "Memory of the weights"  # the memory chart's figure


@pytest.fixture(scope="module")
def composer(lab_session):
    """The composer of composer_tiny.ipynb, rendered once for this module's tests."""
    lab_session.open("composer_tiny.ipynb")
    lab_session.run_all()
    return lab_session.widget(TOTAL)


def total(composer) -> str:
    return composer.locator(TOTAL).inner_text()


def commit(field, value: str) -> None:
    """Type a value and press Enter, as a person does (the form also commits on blur)."""
    field.fill(value)
    field.press("Enter")


def test_n_layers_edit_updates_the_total(lab, composer):
    before = total(composer)
    n_layers = composer.get_by_label("n_layers", exact=True)
    commit(n_layers, str(int(n_layers.input_value()) + 1))
    expect(composer.locator(TOTAL)).not_to_have_text(before)
    assert total(composer).replace(",", "").strip().isdigit()


def test_invalid_value_is_reported_at_the_field(lab, composer):
    before = total(composer)
    n_heads = composer.get_by_label("n_heads", exact=True)
    valid = n_heads.input_value()
    commit(n_heads, "5")  # dim is 64
    alert = composer.get_by_role("alert").filter(has_text="must divide")
    expect(alert).to_be_visible()
    assert total(composer) == before, "the summary must keep the last valid design"

    commit(n_heads, valid)
    expect(alert).to_have_count(0)


def test_picking_a_head_changes_the_summary(lab, composer):
    before = total(composer)
    pick(composer.get_by_label("architecture", exact=True), "DistilBertForTokenClassification")
    expect(composer.locator(TOTAL)).not_to_have_text(before)
    expect(composer).to_contain_text("DistilBertForTokenClassification")


def pick(control, option: str) -> None:
    """Choose `option` in a <select>, or click it in a radio group / listbox."""
    if control.evaluate("e => e.tagName") == "SELECT":
        control.select_option(label=option)
    else:
        control.get_by_role("radio", name=option).or_(control.get_by_role("option", name=option)).click()


def test_insert_as_a_new_cell_builds_the_model(lab, composer):
    expected = total(composer)
    cells = lab.cells()
    expect(cells).to_have_count(2)
    composer.get_by_role("button", name="Insert as a new cell").click()
    expect(cells).to_have_count(3)
    inserted = cells.nth(1).locator(".cm-content")
    expect(inserted).to_contain_text("from transformers import")
    expect(inserted).not_to_contain_text(re.compile(r"(from|import) (composer|widgets)\b"))  # plain transformers

    lab.command("notebook:run-all-below")  # the new cell is the active one; the check cell follows
    output = cells.nth(2).locator(".jp-OutputArea-output")
    expect(output).to_have_text(re.compile(rf"^DistilBertFor\w+ {expected}\s*$"), timeout=60_000)


def test_the_memory_chart_has_a_bar_per_dtype(lab, composer):
    params = int(total(composer).replace(",", ""))
    bars = composer.get_by_role("figure", name=MEMORY).get_by_role("img")
    expect(bars).to_have_count(3)
    labels = [bar.get_attribute("aria-label") for bar in bars.all()]
    assert [label.split(":")[0] for label in labels] == ["fp32", "fp16 / bf16", "int8"]
    assert labels[2] == f"int8: {params / 1024:.1f} KiB (weights {params / 1024:.1f} KiB)"  # a byte each
    widths = [bar.bounding_box()["width"] for bar in bars.locator("div").all()]
    assert widths[0] == pytest.approx(2 * widths[1], abs=1) and widths[1] == pytest.approx(2 * widths[2], abs=1)


def test_screenshots_in_light_and_dark_theme(lab, composer, artifacts):
    colours = {}
    for theme, name in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        lab.set_theme(theme)
        lab.screenshot(composer, artifacts / f"composer-{name}.png")
        lab.screenshot(composer.get_by_role("figure", name=MEMORY), artifacts / f"memory-chart-{name}.png")
        colours[name] = composer.locator(TOTAL).evaluate("e => getComputedStyle(e).color")
    assert colours["dark"] != colours["light"]  # the text follows the theme's variables


def test_the_architecture_drawing_follows_the_layer_count(lab, composer, artifacts):
    drawing = composer.get_by_role("region", name="Architecture")
    blocks = drawing.get_by_role("list", name="Architecture blocks")
    n_layers = composer.get_by_label("n_layers", exact=True)
    layers = int(n_layers.input_value())
    expect(blocks).to_contain_text(f"×{layers}")
    blocks.get_by_role("button", name=re.compile(r"^layer\b")).click()
    expect(drawing.get_by_role("list", name="Config fields of layer")).to_contain_text("config.n_layers")
    expect(drawing.get_by_role("list", name="Parts of layer")).to_contain_text("attention")

    commit(n_layers, str(layers + 1))
    expect(blocks).to_contain_text(f"×{layers + 1}")
    expect(drawing.get_by_role("list", name="Config fields of layer")).to_contain_text("config.n_heads")
    colours = {}
    for theme, name in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        lab.set_theme(theme)
        lab.screenshot(drawing, artifacts / f"architecture-{name}.png")
        colours[name] = blocks.get_by_role("button", name=re.compile(r"^layer\b")).evaluate("e => getComputedStyle(e).color")
    assert colours["dark"] != colours["light"]


def test_copy_puts_the_code_on_the_clipboard(lab, composer):
    lab.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    composer.get_by_role("button", name="Copy").click()
    expect(composer.get_by_role("status", name="code status")).to_have_text("Copied the code to the clipboard.")
    copied = lab.page.evaluate("() => navigator.clipboard.readText()")
    assert "model = DistilBertFor" in copied and copied.strip() == composer.locator("pre").inner_text().strip()


def test_save_then_verify_reloads_the_checkpoint(lab, composer, lab_root):
    expected = total(composer)
    status = composer.get_by_role("status", name="save status")
    composer.get_by_label("folder", exact=True).fill("tiny_checkpoint")
    composer.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_contain_text(f"({expected} parameters) to ", timeout=60_000)
    umask = os.umask(0)
    os.umask(umask)  # the kernel's, inherited from this process: a shared machine's readers see what mkdir gives
    saved = lab_root / "tiny_checkpoint"
    assert [(p.stat().st_mode & 0o777) for p in (saved, saved / "model.safetensors")] == [0o777 & ~umask, 0o666 & ~umask]

    composer.get_by_role("button", name="Save", exact=True).click()  # the folder exists now
    expect(status).to_contain_text("exists; tick overwrite to replace it", timeout=60_000)
    composer.get_by_label("overwrite", exact=True).check()
    composer.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_contain_text("Saved", timeout=60_000)

    composer.get_by_role("button", name="Verify").click()
    expect(status).to_contain_text(f"reloaded with {expected} parameters (as saved)", timeout=60_000)
    expect(composer.get_by_role("progressbar", name="save progress")).to_have_js_property("value", 1)


def test_panels_open_together_titled_alike_and_say_what_a_text_model_does_not_use(lab, composer):
    expect(composer.get_by_role("img", name="normalized")).to_have_count(0)  # built on first open
    tokenizer = composer.get_by_role("button", name=re.compile(r"^\W*Tokenizer"))
    image = composer.get_by_role("button", name=re.compile(r"^\W*Image processor"))
    expect(tokenizer).to_have_accessible_name(re.compile(r"^\W*Tokenizer$"))  # a text model reads tokens
    for panel in ("Image processor", "Feature extractor", "Processor"):
        expect(composer.get_by_role("button", name=re.compile(rf"^\W*{panel}"))).to_have_accessible_name(
            re.compile(rf"^\W*{panel}\W*not used by a text model \(distilbert\)$"))
    tokenizer.click()
    image.click()  # a second panel opens beside the first, which stays open
    expect(composer.get_by_role("img", name="normalized")).to_be_visible(timeout=30_000)
    expect(composer.get_by_label("image_mean", exact=True)).to_be_visible()
    expect(composer.get_by_label("training text", exact=True)).to_be_visible()
    for toggle in (tokenizer, image):
        expect(toggle).to_have_attribute("aria-expanded", "true")
    # One naming scheme: each heading starts with its panel's title.
    for heading in ("Tokenizer", "Image processor options", "Image processor preview"):
        expect(composer.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def test_a_long_training_text_is_folded_in_the_code_and_copied_whole(lab, composer):
    lab.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    corpus = "\n".join(f"line {i}: the cat sat on the mat {i} times" for i in range(120))
    panel = composer.get_by_role("heading", name="Tokenizer", exact=True).locator("xpath=..")  # its view
    panel.get_by_label("source", exact=True).select_option("train")
    panel.get_by_label("class", exact=True).fill("RobertaTokenizer")
    panel.get_by_label("vocab_size", exact=True).fill("300")
    panel.get_by_label("training text", exact=True).fill(corpus)
    panel.get_by_role("button", name="Train").click()
    fold = composer.get_by_role("button", name="show the 120 lines of training_text")
    expect(fold).to_be_visible(timeout=30_000)
    code = composer.locator("pre")
    expect(code).to_contain_text("train_new_from_iterator(training_text, vocab_size=300)")
    line = code.get_by_text('"line 60: the cat sat on the mat 60 times"')
    expect(line).to_be_hidden()  # the corpus is out of the way until opened
    fold.click()
    expect(composer.get_by_role("button", name="hide the 120 lines of training_text")).to_have_attribute(
        "aria-expanded", "true")
    expect(line).to_be_visible()
    composer.get_by_role("button", name="Copy").click()
    copied = lab.page.evaluate("() => navigator.clipboard.readText()")
    assert all(f'"line {i}: the cat sat on the mat {i} times",' in copied for i in range(120))  # runs alone


def test_a_save_shows_its_bytes_and_cancel_leaves_no_folder(lab, composer, lab_root):
    """Last in this module: it leaves the design large (150M parameters, a few seconds to build)."""
    for name, value in (("n_layers", "12"), ("dim", "1024"), ("hidden_dim", "4096")):
        before = total(composer)
        commit(composer.get_by_label(name, exact=True), value)
        expect(composer.locator(TOTAL)).not_to_have_text(before)
    composer.get_by_label("folder", exact=True).fill("big_checkpoint")
    composer.get_by_role("button", name="Save", exact=True).click()
    bar = composer.get_by_role("progressbar", name="save progress")
    expect(bar).to_have_attribute("aria-valuetext", re.compile(r"^Building the model: [\d.]+ [KMG]?i?B of [\d.]+ MiB · \d+%"))
    composer.get_by_role("button", name="Cancel").click()
    status = composer.get_by_role("status", name="save status")
    expect(status).to_have_text(f"Cancelled: nothing was written ({lab_root / 'big_checkpoint'} was not made)",
                                timeout=60_000)
    expect(composer.get_by_role("button", name="Cancel")).to_be_hidden()
    assert [p.name for p in lab_root.iterdir() if "big_checkpoint" in p.name] == []  # no folder, build or lock
