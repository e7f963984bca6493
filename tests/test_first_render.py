"""A composer drawn before torch is imported: in a kernel (an event loop runs) the model-type picker, the
head picker and the config form come from the catalog cache, and the summary and code fill in when the
design's validation on the worker ends; that validation still stands between the design and a save."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from composer import SpecError, summarize
from composer.catalog_cache import store
from widgets import Composer, ConfigForm, ModelSummary, SavePanel
from widgets._design import Design

from manual_clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "distilbert.json"
TINY = {"model_type": "distilbert",
        "config": {"dim": 32, "n_heads": 2, "hidden_dim": 64, "n_layers": 1, "vocab_size": 100,
                   "max_position_embeddings": 32}}

# In a fresh interpreter with a running event loop, as in a kernel cell: the worker is held until the
# first state has been read, so that what the worker imports meanwhile cannot blur what the cell did.
FIRST_STATE = """
import asyncio, json, sys, threading

async def cell():
    from widgets import _clock
    held = threading.Event()
    _clock._WORKER.submit(held.wait)
    from widgets import Composer
    composer = Composer.from_file(sys.argv[1])
    first = {"imported": sorted(m for m in ("torch", "transformers") if m in sys.modules),
             "fields": [f["name"] for f in composer.config_form.fields],
             "types": sum(len(group) for group in composer.type_picker.types.values()),
             "heads": [h["name"] for h in composer.head_picker.heads],
             "summary": composer.model_summary.summary, "code": composer.code_view.code,
             "pending": composer.pending}
    held.set()
    composer.flush()
    first["total"] = composer.model_summary.summary["total"]
    print(json.dumps(first))

asyncio.run(cell())
"""


def test_a_composer_in_a_kernel_is_drawn_before_torch_is_imported():
    Composer(spec=EXAMPLE)  # this session's catalog cache now holds what a first render reads ...
    store().flush()  # ... on disk now, not a second later
    done = subprocess.run([sys.executable, "-c", FIRST_STATE, str(EXAMPLE)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)
    assert first["imported"] == []
    assert {"n_layers", "dim", "n_heads", "activation"} <= set(first["fields"]) and first["types"] > 800
    assert first["heads"][0] == "DistilBertModel" and "DistilBertForSequenceClassification" in first["heads"]
    assert first["summary"] == {} and first["code"] == "" and first["pending"]  # the page says they are coming
    assert first["total"] == 38_604_291  # filled in by the validation on the worker


def test_the_summary_and_code_fill_in_when_the_background_validation_ends():
    clock = ManualClock()
    design = Design(TINY, clock=clock, background=True)
    form, summary = ConfigForm(design=design), ModelSummary(design=design)
    assert "n_layers" in {f["name"] for f in form.fields} and summary.summary == {}
    assert design.pending and not design.checked and clock.jobs == []  # the views went out first
    clock.advance(0)
    assert len(clock.jobs) == 1
    clock.finish_all()
    assert summary.summary["total"] == summarize(TINY)["total"] and design.code and not design.pending


def test_an_edit_before_the_first_validation_ends_is_the_one_validated():
    clock = ManualClock()
    design = Design(TINY, clock=clock, background=True)
    summary = ModelSummary(design=design)
    clock.advance(0)  # the first validation runs ...
    design.edit("config.n_layers", 2)  # ... when an edit comes
    clock.advance(0)
    assert len(clock.jobs) == 1 and design.pending  # one rebuild at a time: the edit's waits for it
    clock.finish_all()  # the first validation's result (one layer) is dropped: the edit came after it
    assert summary.summary["total"] == summarize({**TINY, "config": {**TINY["config"], "n_layers": 2}})["total"]


def test_a_quick_error_is_refused_at_once_and_a_deep_one_at_its_field_before_any_save():
    with pytest.raises(SpecError, match="config.n_layers"):
        Design({**TINY, "config": {**TINY["config"], "n_layers": "two"}}, clock=ManualClock(), background=True)
    # n_heads 3 does not divide dim 32: only building the model finds it, on the worker.
    bad = {**TINY, "config": {**TINY["config"], "n_heads": 3}}
    with pytest.raises(SpecError) as validated_now:
        Design(bad)
    clock = ManualClock()
    design = Design(bad, clock=clock, background=True)
    save = SavePanel(design=design)
    assert design.errors == {}
    clock.advance(0)
    clock.finish_all()
    assert design.errors == {validated_now.value.field: validated_now.value.message}  # the same error, at its field
    with pytest.raises(SpecError, match="^save: the design has an error at dim in Config"):
        save.save()
    with pytest.raises(SpecError, match="^config.dim: "):
        design.valid()
