"""Damaged checkpoint folders (real folders saved by composer.save and the real MiniLM, then broken)
through `check` and as `pretrained`: only SpecError, no hang, bounded memory, no code from the folder
ever runs and no pickle is opened, the folder is only read, and a folder whose weights do not match is
never reported as loading."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import composer
from composer.checkpoint import format_check
from props_case import (examples, apply_damage, assert_cli, bounded, call, case, copy_folder, markers, run_main,
                        snapshot)
from strategies import damages, field_value, editable_fields

# MiniLM (22M parameters) costs a real load per case: drawn less often than the tiny folders.
BASES = st.sampled_from(("distilbert", "distilbert", "vit", "wav2vec2", "minilm"))
MODEL_TYPE = {"distilbert": "distilbert", "vit": "vit", "wav2vec2": "wav2vec2", "minilm": "bert"}


def _damaged(box, pristine, base, recipe):
    outside = box.root / "work"
    folder = copy_folder(pristine[base], box.root / "work" / "folder")
    return folder, apply_damage(folder, recipe, outside)


def _assert_trustworthy(report, err, implied, box) -> None:
    assert not markers(box.root), "code from the folder ran, or a pickle was opened"
    if implied["remote"]:
        assert report is None, "a folder with auto_map was accepted"
        # Another file the recipe left unreadable (config.json gone, not JSON) is as good a reason.
        if implied["readable"]:
            assert "auto_map" in str(err) or "remote code" in str(err), f"refusal does not say why: {err}"
    if report is not None and implied["unmatched"]:
        assert "loads with transformers" not in format_check(report), \
            "no weight name matched, yet the folder is reported as loading"


@pytest.mark.issue8("folders", "sizes")
@settings(max_examples=examples(100))
@given(BASES, damages())
def test_check_on_damaged_folders(pristine, base, recipe):
    with case(f"<folder {base}>", base, recipe) as box, bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder, implied = _damaged(box, pristine, base, recipe)
        before = snapshot(box.root)
        report, err = call(composer.check, folder)
        if report is not None:
            format_check(report)
        _assert_trustworthy(report, err, implied, box)
        assert snapshot(box.root) == before, "check wrote or deleted files"


@pytest.mark.issue8("folders")
@settings(max_examples=examples(30))
@given(BASES, damages())
def test_check_on_damaged_folders_from_the_command_line(pristine, base, recipe):
    with case(f"<folder {base}>", base, recipe) as box, bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder, implied = _damaged(box, pristine, base, recipe)
        code, out, err = run_main(["check", str(folder), "--json"])
        assert_cli(code, out, err)
        assert not markers(box.root), "code from the folder ran, or a pickle was opened"
        if implied["remote"]:
            assert code == 2, "a folder with auto_map was accepted"


@st.composite
def overrides(draw, base):
    fields = editable_fields(MODEL_TYPE[base])
    picked = draw(st.lists(st.sampled_from(fields), max_size=2, unique_by=lambda f: f.name))
    return {f.name: draw(field_value(f)) for f in picked}


@pytest.mark.issue8("folders", "sizes")
@settings(max_examples=examples(40))
@given(st.sampled_from(("distilbert", "vit", "wav2vec2")).flatmap(
    lambda base: st.tuples(st.just(base), damages(), overrides(base))), st.booleans())
def test_damaged_folders_as_pretrained(pristine, drawn, also_save):
    """summary / code / save of {"pretrained": damaged folder} plus a few overrides: the folder is read
    fully before it is trusted, and a save never keeps random weights as if pretrained."""
    base, recipe, config = drawn
    with case(f"<pretrained {base}>", base, recipe, config, also_save) as box, bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder, implied = _damaged(box, pristine, base, recipe)
        spec = {"model_type": MODEL_TYPE[base], "pretrained": str(folder), "config": config}
        before = snapshot(box.root)
        call(composer.summarize, spec)
        call(composer.to_code, spec)
        assert snapshot(box.root) == before, "summary / code wrote or deleted files"
        if also_save:
            saved, err = call(composer.save, spec, box.cwd / "ck")
            if saved is None:
                assert snapshot(box.root) == before, "a refused save wrote or deleted files"
            assert not (implied["unmatched"] and saved is not None), "saved random weights as if pretrained"
            assert not (implied["remote"] and saved is not None), "saved from a folder with auto_map"
        assert not markers(box.root), "code from the folder ran, or a pickle was opened"
