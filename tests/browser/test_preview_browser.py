"""The previews as a person uses them in JupyterLab: type text and see the token spans, change
image_mean and see the normalized image change, toggle do_normalize and see the waveform change,
upload a clip at the wrong rate and follow the fix, build a processor, save it and reload it.
Elements are found by role and label; any front-end exception fails the test."""

from __future__ import annotations

import io
import json
import math
import re
import struct
import wave

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTEBOOK = "previews.ipynb"
TOKENIZER, IMAGE, AUDIO, PROCESSOR, CHECK = 1, 2, 3, 4, 5  # cells of previews.ipynb
CTC_VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ'"]

# Times one change in the page: set a control, fire its event, and wait (in the page, no polling from
# here) until `watch` (a selector under the same output) shows a new `attribute` (or text).
TIME_CHANGE = """async (control, [value, event, watch, attribute]) => {
    const root = control.closest(".jp-OutputArea-output");
    const read = () => {
        const el = root.querySelector(watch);
        return el && (attribute ? el.getAttribute(attribute) : el.textContent);
    };
    const before = read();
    const start = performance.now();
    if (control.type === "checkbox") control.checked = value; else control.value = value;
    control.dispatchEvent(new Event(event, { bubbles: true }));
    while (read() === before) {
        if (performance.now() - start > 30000) throw new Error(`${watch} did not change`);
        await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return performance.now() - start;
}"""

# The bytes behind an <img>'s blob URL, as a short digest: "the picture changed", not just its URL.
IMAGE_DIGEST = """async (img) => {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let hash = 2166136261;
    for (const b of bytes) hash = Math.imul(hash ^ b, 16777619) >>> 0;
    return `${bytes.length}:${hash}`;
}"""


# Where a label's text wraps: [character before, character after] at each new line (client rects per character).
LINE_BREAKS = """(label) => {
    const breaks = [];
    let top = null, last = "";
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const rect = range.getClientRects()[0];
            if (!rect) continue;
            if (top !== null && rect.top > top + 1) breaks.push([last, node.data[i]]);
            top = rect.top;
            last = node.data[i];
        }
    }
    return breaks;
}"""

# Whether a control shows all of its value: nothing scrolled out of sight sideways.
FITS = "(el) => el.scrollWidth <= el.clientWidth"


@pytest.fixture(scope="module")
def previews(lab_session):
    """previews.ipynb run once for this module's tests: the four widgets rendered."""
    lab_session.open(NOTEBOOK)
    lab_session.run_all()
    for cell in (TOKENIZER, IMAGE, AUDIO, PROCESSOR):
        output(lab_session, cell).locator(".tc-view").first.wait_for(timeout=90_000)
    return lab_session


def output(lab, cell: int):
    return lab.cells().nth(cell).locator(".jp-OutputArea-output").first


def wav(seconds: float, rate: int) -> bytes:
    """A 16-bit mono tone: what a person records on a phone at the wrong sampling rate."""
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(frames)
    return out.getvalue()


# ----- tokenizer -------------------------------------------------------------------------------


def test_typing_text_shows_token_spans_with_ids(lab, previews):
    widget = output(lab, TOKENIZER)
    count = widget.get_by_label("token count")
    text = widget.get_by_label("text", exact=True)
    text.fill("Hello   world")
    expect(count).to_have_text("4")  # [CLS] hello world [SEP]
    tokens = widget.get_by_label("tokens", exact=True)  # the main view, not the backend comparison
    hello = tokens.locator('[data-token-id="7592"]')
    expect(hello).to_have_text("Hello")
    expect(hello).to_have_attribute("title", re.compile(r"^id 7592 "))
    expect(tokens.locator(".tc-gap")).to_have_text("···")  # the spaces made visible
    expect(tokens.get_by_title(re.compile(r"\(special\)"))).to_have_count(2)

    text.fill("Hello   world, [MASK] again")
    expect(count).to_have_text("7")
    expect(tokens.locator('[data-token-id="103"]')).to_have_attribute("title", re.compile(r"special"))


def test_two_thousand_characters_update_at_once(lab, previews, capsys):
    widget = output(lab, TOKENIZER)
    text = ("The quick brown fox jumps over the lazy dog, twice; naïve café. " * 40)[:2000]
    ms = widget.get_by_label("text", exact=True).evaluate(
        TIME_CHANGE, [text, "input", '[aria-label="token count"]', None])
    count = int(widget.get_by_label("token count").inner_text())
    assert count > 400 and widget.locator("[data-token-id]").count() >= count - 2
    with capsys.disabled():
        print(f"\n  token preview of 2,000 characters: {ms:.0f} ms from keystroke to spans")
    assert ms < 2000


def test_max_length_beyond_the_position_table_is_an_alert(lab, previews):
    widget = output(lab, TOKENIZER)
    widget.get_by_label("text", exact=True).fill("The quick brown fox jumps over the lazy dog. " * 30)
    max_length = widget.get_by_label("max_length", exact=True)
    max_length.fill("100")
    max_length.press("Enter")
    expect(widget.get_by_role("alert").filter(has_text="exceeds the model's max_position_embeddings (64)")) \
        .to_be_visible()
    expect(widget.get_by_label("token count")).to_have_text("100")
    expect(widget.get_by_role("table", name="batch")).to_contain_text("attention_mask")
    max_length.fill("")
    max_length.press("Enter")
    expect(widget.get_by_role("alert").filter(has_text="max_length 100 exceeds")).to_have_count(0)


def test_special_token_fields_show_their_whole_value(lab, previews):
    widget = output(lab, TOKENIZER)
    for name, value in (("unk_token", "[UNK]"), ("mask_token", "[MASK]")):
        field = widget.get_by_label(name, exact=True)
        expect(field).to_have_value(value)
        assert field.evaluate(FITS), f"{name} is clipped"
    # GPT-2's token, shown (not typed: nothing is sent) in the same field
    assert widget.get_by_label("unk_token", exact=True).evaluate(
        "(el) => { const was = el.value; el.value = '<|endoftext|>'; const fits = el.scrollWidth <= el.clientWidth;"
        " el.value = was; return fits; }"), "<|endoftext|> is clipped"


def test_training_a_tokenizer_on_typed_text(lab, previews):
    widget = output(lab, TOKENIZER)
    widget.get_by_label("source", exact=True).select_option("train")
    widget.get_by_label("class", exact=True).fill("RobertaTokenizer")
    widget.get_by_label("vocab_size", exact=True).fill("300")
    widget.get_by_label("training text", exact=True).fill("the cat sat on the mat\nthe dog ran\n" * 20)
    widget.get_by_role("button", name="Train").click()
    expect(widget.get_by_role("heading", name=re.compile(r"RobertaTokenizer \(tokenizers\)"))).to_be_visible()
    widget.get_by_label("text", exact=True).fill("the cat")
    expect(widget.get_by_label("token count")).to_have_text("4")  # <s> the Ġcat </s>


def test_retraining_on_a_long_text_kept_in_a_file(lab, previews):
    widget = output(lab, TOKENIZER)
    widget.get_by_label("source", exact=True).select_option("train")
    widget.get_by_label("class", exact=True).fill("RobertaTokenizer")
    widget.get_by_label("vocab_size", exact=True).fill("270")
    widget.get_by_label("training text", exact=True).evaluate(  # fill() takes seconds per 10,000 characters
        "(el, text) => { el.value = text; }", "the cat sat on the mat\nthe dog ran\n" * 3500)
    widget.get_by_role("button", name="Train").click()
    expect(widget.get_by_role("status", name="tokenizer status")).to_contain_text("is kept in")
    expect(widget.get_by_role("heading", name=re.compile(r"RobertaTokenizer .* 270 tokens"))).to_be_visible()
    expect(widget.get_by_label("training text", exact=True)).to_have_value("")  # the Spec holds the file
    # A second Train with a new vocab_size trains on that file again (it sent no files and failed).
    widget.get_by_label("vocab_size", exact=True).fill("275")
    widget.get_by_role("button", name="Train").click()
    expect(widget.get_by_role("heading", name=re.compile(r"RobertaTokenizer .* 275 tokens"))).to_be_visible()
    expect(widget.get_by_role("alert").filter(has_text="tokenizer.train")).to_have_count(0)


# ----- image -----------------------------------------------------------------------------------


def test_changing_image_mean_changes_the_normalized_image(lab, previews, capsys):
    widget = output(lab, IMAGE)
    normalized = widget.get_by_role("img", name="normalized")
    expect(normalized).to_be_visible()
    for alt in ("original", "resized", "channel 0", "channel 1", "channel 2"):
        expect(widget.get_by_role("img", name=alt)).to_be_visible()
    before = normalized.evaluate(IMAGE_DIGEST)
    ms = widget.get_by_label("image_mean", exact=True).evaluate(
        TIME_CHANGE, ["0.9, 0.5, 0.1", "change", 'img[alt="normalized"]', "src"])
    assert widget.get_by_role("img", name="normalized").evaluate(IMAGE_DIGEST) != before
    expect(widget.get_by_label("image_mean", exact=True).locator("xpath=..")).to_have_class(re.compile("tc-changed"))
    with capsys.disabled():
        print(f"\n  image preview: {ms:.0f} ms from editing image_mean to the new normalized image")
    assert ms < 5000


def test_the_size_field_shows_its_whole_value(lab, previews):
    size = output(lab, IMAGE).get_by_label("size", exact=True)
    expect(size).to_have_value(re.compile(r'"height": ?224, ?"width": ?224'))
    assert size.evaluate(FITS), "the size field is clipped"


def test_an_unreadable_upload_is_an_alert_and_the_photo_stays(lab, previews):
    widget = output(lab, IMAGE)
    widget.get_by_label("image file").set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"this is not a picture"})
    expect(widget.get_by_role("alert").filter(has_text="not an image this preview can read")).to_be_visible()
    expect(widget.get_by_role("img", name="original")).to_be_visible()
    widget.get_by_role("button", name="Use sample photo").click()
    expect(widget.get_by_role("alert").filter(has_text="not an image")).to_have_count(0)


def test_a_file_over_the_upload_limit_is_refused_in_the_page(lab, previews, tmp_path):
    huge = tmp_path / "huge.png"
    with huge.open("wb") as f:  # sparse: 64 MB and one byte, over the limit, written in no time
        f.truncate(64 * 2**20 + 1)
    widget = output(lab, IMAGE)
    widget.get_by_label("image file").set_input_files(huge)
    expect(widget.get_by_role("alert").filter(has_text="huge.png is 64 MB, too large to upload; load it by path")) \
        .to_be_visible()
    expect(widget.get_by_role("img", name="original")).to_be_visible()  # the last image stays


# ----- audio -----------------------------------------------------------------------------------


def test_toggling_do_normalize_changes_the_waveform(lab, previews):
    widget = output(lab, AUDIO)
    features = widget.get_by_role("img", name="features").locator("path")
    expect(widget.get_by_role("img", name="input waveform")).to_be_visible()
    before = features.get_attribute("d")
    player = widget.get_by_label("input audio")
    clip = player.get_attribute("src")
    widget.get_by_label("do_normalize", exact=True).uncheck()
    expect(features).not_to_have_attribute("d", before)
    expect(widget.get_by_role("img", name="attention mask row 2")).to_be_visible()
    widget.get_by_label("do_normalize", exact=True).check()
    expect(features).to_have_attribute("d", before)
    assert player.get_attribute("src") == clip  # the same clip: playback is not interrupted by an option


def test_labels_wrap_after_an_underscore_never_inside_a_word(lab, previews):
    label = output(lab, AUDIO).locator("label").filter(has_text=re.compile(r"^return_attention_mask$"))
    # However narrow its column (as in a Composer beside the summary), the name wraps only after a "_".
    by_width = label.evaluate("""(label, breaksOf) => {
        const out = {};
        for (let width = 60; width <= 200; width += 5) {
            label.style.width = `${width}px`;
            out[width] = eval(breaksOf)(label);
        }
        label.style.width = "";
        return out;
    }""", LINE_BREAKS)
    assert any(by_width.values()), "return_attention_mask wraps in a narrow column"
    inside = {width: breaks for width, breaks in by_width.items() if any(b not in "_." for b, _ in breaks)}
    assert not inside, f"broken inside a word at these widths: {inside}"


def test_a_clip_at_the_wrong_rate_names_the_fix(lab, previews):
    widget = output(lab, AUDIO)
    widget.get_by_label("WAV file").set_input_files(
        {"name": "phone.wav", "mimeType": "audio/wav", "buffer": wav(0.5, 8000)})
    alert = widget.get_by_role("alert").filter(has_text="sampled at 8000 Hz but Wav2Vec2FeatureExtractor expects 16000")
    expect(alert).to_be_visible()
    widget.get_by_label("resample", exact=True).check()
    expect(alert).to_have_count(0)
    expect(widget.get_by_role("alert").filter(has_text="resampled from 8000 Hz")).to_be_visible()
    expect(widget.get_by_label("audio source")).to_have_text("phone.wav")
    expect(widget.get_by_label("input audio")).to_have_js_property("duration", 0.5)  # the player has the new clip
    # The select no longer says "speech", so choosing it is a change a person can make.
    expect(widget.get_by_label("sample", exact=True)).to_have_value("")
    widget.get_by_label("sample", exact=True).select_option("speech")
    expect(widget.get_by_label("audio source")).to_contain_text("speech.wav")


def test_a_whisper_log_mel_has_axes_a_colour_scale_and_marks_where_the_padding_begins(lab, previews):
    widget = output(lab, AUDIO)
    cls = widget.get_by_label("class", exact=True)
    cls.fill("WhisperFeatureExtractor")
    cls.press("Enter")
    expect(widget.get_by_role("img", name=re.compile(r"^colour scale: input_features \(log-mel\) from -?[\d.]+ "
                                                     r"\(dark\) to -?[\d.]+ \(bright\)$"))).to_be_visible()
    expect(widget.get_by_role("img", name="features", exact=True)).to_be_visible()
    expect(widget.get_by_label("mel bin axis")).to_have_text(re.compile(r"^79\s*mel bin\s*0$"))
    expect(widget.get_by_label("time axis").last).to_have_text(re.compile(r"^0\s*5\s*10\s*15\s*20\s*25\s*30\s*time \(s\)$"))
    # The 3 s clip fills a tenth of Whisper's 30 s window: where it ends is marked, the rest is padding.
    mark = widget.get_by_text(re.compile(r"^audio ends at 3\.\d\d s · padding to 30 s →$"))
    expect(mark).to_be_visible()
    left = mark.locator("xpath=..").evaluate("e => parseFloat(e.style.left)")
    assert 9 < left < 11


# ----- processor -------------------------------------------------------------------------------


def test_build_a_processor_save_it_and_reload_it(lab, previews):
    vocab = json.dumps({token: i for i, token in enumerate(CTC_VOCAB)})
    response = lab.page.request.put(f"{lab.url}/api/contents/ctc_vocab.json?token={lab.token}",
                                    data=json.dumps({"type": "file", "format": "text", "content": vocab}))
    assert response.ok, response.text()

    widget = output(lab, PROCESSOR)
    widget.get_by_label("vocab_file", exact=True).fill("ctc_vocab.json")
    widget.get_by_role("button", name="Build processor").click()
    expect(widget.get_by_role("status", name="round trip")).to_contain_text(
        "gives back Wav2Vec2Processor with identical outputs", timeout=60_000)
    # Each waveform says what it is, over a time axis.
    clip = widget.get_by_role("figure", name=re.compile(r"^Input audio: 3\.\d\d s at 16,000 Hz$"))
    expect(clip.get_by_role("img", name="input waveform")).to_be_visible()
    expect(clip.get_by_label("time axis")).to_contain_text("time (s)")
    model_input = widget.get_by_role("figure", name="What the model receives (input_values, normalised to mean 0 and std 1)")
    expect(model_input.get_by_role("img", name="features")).to_be_visible()
    expect(model_input.get_by_label("time axis")).to_contain_text("3")
    expect(widget.get_by_label("token count")).to_have_text(re.compile(r"^\d+$"))
    # The sample sentence is mixed case; this CTC vocabulary is upper case only: said under the tokens.
    expect(widget.get_by_role("alert").filter(has_text="the vocabulary does not cover this text")).to_be_visible()

    widget.get_by_label("folder", exact=True).fill("w2v2_processor")
    widget.get_by_role("button", name="Save").click()
    expect(widget.get_by_role("status", name="processor status")).to_contain_text(
        "AutoProcessor reloaded it as Wav2Vec2Processor", timeout=60_000)
    expect(widget.get_by_role("status", name="processor status")).to_contain_text("identical outputs")

    lab.cells().nth(CHECK).locator(".jp-InputArea").click()
    lab.command("notebook:run-cell")
    expect(lab.cells().nth(CHECK).locator(".jp-OutputArea-output")).to_have_text(
        re.compile(r"^Wav2Vec2Processor Wav2Vec2CTCTokenizer \[7, 5, 6\]\s*$"), timeout=60_000)


def test_screenshots_of_the_previews_in_light_and_dark_theme(lab, previews, artifacts):
    colours = {}
    for theme, name in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        lab.set_theme(theme)
        for cell, part in ((TOKENIZER, "tokenizer"), (IMAGE, "image"), (AUDIO, "audio"), (PROCESSOR, "processor")):
            lab.screenshot(output(lab, cell), artifacts / f"preview-{part}-{name}.png")
            colours[name, part] = output(lab, cell).locator(".tc-view").first.evaluate("e => getComputedStyle(e).color")
    for part in ("tokenizer", "image", "audio", "processor"):  # the text follows the theme's variables
        assert colours["dark", part] != colours["light", part], part
