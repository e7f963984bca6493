"""Generated Specs through the Python API: only SpecError escapes (one short line naming a field), no
hang, bounded memory, nothing written, and the code of every accepted design compiles (and, for tiny
designs, runs and builds the model the summary describes)."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import composer
from composer.validation import ready
from props_case import examples, assert_compiles, bounded, call, case, snapshot
from strategies import ALL_TYPES, TINY, json_values, python_values, specs


def _kind(spec) -> str:
    model_type = spec.get("model_type") if isinstance(spec, dict) else None
    return model_type if model_type in ALL_TYPES else "<other input>"


def _through_api(spec) -> tuple:
    """ready, summarize and to_code on one input; the summary and code when accepted."""
    valid, err = call(ready, spec)
    summary, err_summary = call(composer.summarize, spec)
    code, err_code = call(composer.to_code, spec)
    if valid is not None:
        assert err_summary is None, f"ready accepts but summarize refuses: {err_summary}"
        assert err_code is None, f"ready accepts but to_code refuses: {err_code}"
        assert_compiles(code)
    return summary, code


@pytest.mark.issue8("inputs", "sizes")
@settings(max_examples=examples(250))
@given(specs())
# The issue's own examples, always among the cases.
@example({"model_type": "bert", "pretrained": "org/"})
@example({"model_type": "bert", "pretrained": "bad name!!"})
@example({"model_type": "bert", "pretrained": "~nouser/x"})
@example({"model_type": "bert", "pretrained": "a" * 300})
@example({"model_type": "bert", "config": {"layer_norm_eps": "\ud800"}})
@example({"model_type": "distilbert", "config": {"n_heads": [12]}})
@example({"model_type": "bert", "config": {"num_hidden_layers": 10**12}})
@example({"model_type": "bert", "config": {"num_labels": 2**40}})
@example({"model_type": "vit", "image_processor": {"class": "ViTImageProcessor",
                                                   "options": {"size": {"height": 30_000, "width": 30_000}}}})
def test_generated_specs_through_the_api(spec):
    with case(_kind(spec), spec) as box, bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = snapshot(box.root)
        _through_api(spec)
        assert snapshot(box.root) == before, "summarize / to_code wrote or deleted files"


@pytest.mark.issue8("inputs")
@settings(max_examples=examples(100))
@given(st.one_of(specs(python=True), python_values(), json_values(3)))
@example({"model_type": "bert", "config": [1]})
@example([{"model_type": "bert"}])
@example({"model_type": "bert", "config": {1: 2}})
@example({"model_type": "bert", "config": {"hidden_act": ("gelu",)}})
def test_python_values_through_the_api(spec):
    """What only a Python caller can pass: tuples, sets, bytes, non-string keys, a config that is not
    a dict, a list or a number instead of a Spec."""
    with case(_kind(spec), spec) as box, bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = snapshot(box.root)
        _through_api(spec)
        assert snapshot(box.root) == before


def _unique_parameters(model) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


@pytest.mark.issue8("inputs")
@settings(max_examples=examples(30))
@given(specs(types=tuple(TINY), tiny=True))
@example({"model_type": "bert", "config": {**TINY["bert"]["config"], "layer_norm_eps": float("inf")}})
@example({"model_type": "bert", "config": {**TINY["bert"]["config"], "layer_norm_eps": float("nan")}})
def test_tiny_designs_export_code_that_runs(spec):
    """The exported code of a small accepted design runs as written and builds what the summary counts
    (NaN and infinity become `layer_norm_eps=inf` today: a NameError when run)."""
    with case(spec["model_type"], spec) as box, bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary, _ = call(composer.summarize, spec)
        code, _ = call(composer.to_code, spec, output_dir=None)
        if summary is None or code is None or summary["total"] > 5_000_000:
            return
        assert_compiles(code)
        names = {"__name__": "__exported__"}
        exec(compile(code, "<exported>", "exec"), names)  # noqa: S102 - the code the user is handed
        assert _unique_parameters(names["model"]) == summary["total"]
        assert [p.name for p in box.cwd.iterdir()] == ["notes.txt"]
