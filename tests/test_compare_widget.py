"""The Compare widget on the Python side, as the front end drives it (its messages) on a clock the test
moves: a comparison and a budget run off the event loop and fill in when they end, a newer request
overtakes an older one, a comparison follows the design's edits, "use this value" edits the design, and
the composer compares against the design its save panel last wrote."""

from __future__ import annotations

import json

from composer import summarize
from composer.compare import diff
from widgets import Compare, Composer, SavePanel
from widgets._design import Design

from manual_clock import ManualClock
from test_widgets import TINY, front_end, with_config

def spec_file(tmp_path, spec: dict, name: str = "b.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return str(path)


def test_compare_from_python_returns_and_shows_the_engines_comparison():
    other = with_config(TINY, n_layers=2)
    view = Compare(spec=TINY, other=other)
    result = view.compare()
    assert result == diff(TINY, other)
    assert view.comparison["names"] == ["this design", "the other design"]
    assert view.comparison["fields"] == result["fields"] and view.compare_status == ""
    assert "export{" in view._esm and "--jp-ui-font-color1" in view._css  # its bundled view, the themed styles


def test_the_compare_button_runs_off_the_loop_and_fills_in(tmp_path):
    clock = ManualClock()
    view = Compare(design=Design(TINY, clock=clock))
    path = spec_file(tmp_path, with_config(TINY, n_layers=3))
    front_end(view, {"action": "compare", "against": "path", "path": path, "plan": False})
    assert (view.compare_status, view.busy, view.comparison, len(clock.jobs)) == ("Comparing…", True, {}, 1)
    clock.finish_all()
    assert not view.busy and view.compare_status == ""
    assert [(r["field"], r["a"], r["b"]) for r in view.comparison["fields"]] == [("config.n_layers", 1, 3)]
    assert view.comparison["names"] == ["this design", path]
    assert view.comparison["plan"] is None


def test_a_newer_request_overtakes_an_older_one(tmp_path):
    clock = ManualClock()
    view = Compare(design=Design(TINY, clock=clock))
    first, second = spec_file(tmp_path, with_config(TINY, n_layers=2), "a.json"), spec_file(tmp_path, TINY)
    front_end(view, {"action": "compare", "path": first})
    front_end(view, {"action": "compare", "path": second})
    clock.finish(0)  # the first ends: its result is no longer wanted
    assert view.comparison == {} and view.busy
    clock.finish_all()
    assert view.comparison["same"] and view.comparison["names"][1] == second


def test_a_comparison_follows_the_designs_edits(tmp_path):
    clock = ManualClock()
    design = Design(TINY, clock=clock)
    view = Compare(design=design)
    front_end(view, {"action": "compare", "path": spec_file(tmp_path, TINY)})
    clock.finish_all()
    assert view.comparison["same"]
    design.edit("config.n_layers", 2)
    clock.advance(0)
    clock.finish_all()  # the rebuild, then the comparison it started
    assert [(r["field"], r["a"], r["b"]) for r in view.comparison["fields"]] == [("config.n_layers", 2, 1)]


def test_an_error_is_shown_naming_its_side(tmp_path):
    clock = ManualClock()
    view = Compare(design=Design(TINY, clock=clock))
    front_end(view, {"action": "compare", "path": str(tmp_path / "missing.json")})
    clock.finish_all()
    assert view.compare_status.startswith("Failed: B.spec: cannot read ") and not view.busy
    front_end(view, {"action": "compare", "against": "saved"})
    assert view.compare_status == "Failed: B: nothing saved yet: save the design first, or give a spec file or folder"


def test_the_budget_finds_a_value_and_use_puts_it_in_the_design():
    clock = ManualClock()
    design = Design(TINY, clock=clock)
    view = Compare(design=design)
    assert {"n_layers": 1, "dim": 32} == {f["name"]: f["value"] for f in view.budget_fields
                                          if f["name"] in ("n_layers", "dim")}
    front_end(view, {"action": "budget", "field": "n_layers", "target": "100k", "measure": "parameters"})
    assert view.budget_status == "Searching…" and len(clock.jobs) == 1
    clock.finish_all()
    below, above = view.budget_result["below"], view.budget_result["above"]
    assert below["count"] <= 100_000 <= above["count"] and above["value"] == below["value"] + 1
    front_end(view, {"action": "use", "field": "n_layers", "value": above["value"]})
    clock.advance(0)
    clock.finish_all()
    assert design.spec.config["n_layers"] == above["value"]
    assert summarize(design.spec)["total"] == above["count"]
    assert {f["name"]: f["value"] for f in view.budget_fields}["n_layers"] == above["value"]


def test_a_budget_the_engine_refuses_is_shown_at_once():
    clock = ManualClock()
    view = Compare(design=Design(TINY, clock=clock))
    front_end(view, {"action": "budget", "field": "n_layers", "target": "lots"})
    clock.finish_all()
    assert view.budget_status == "Failed: target: expected a count such as 10M, 7B, 1.5e9 or 350,000,000; got 'lots'"


def test_the_composer_compares_with_the_design_its_save_panel_last_wrote(tmp_path):
    composer = Composer(spec=TINY)
    panel = composer.compare_panel
    assert not panel.expanded and panel.saved == ""  # closed in a composer; nothing saved yet
    composer.save_panel.folder = str(tmp_path / "saved")
    composer.save_panel.save()
    assert panel.saved == str(tmp_path / "saved")
    composer.edit("config.n_layers", 2)
    front_end(panel, {"action": "compare", "against": "saved"})
    assert [(r["field"], r["a"], r["b"]) for r in panel.comparison["fields"]] == [("config.n_layers", 2, 1)]
    assert panel.comparison["names"] == ["this design", str(tmp_path / "saved")]


def test_a_save_panel_alone_knows_nothing_was_saved():
    assert SavePanel(spec=TINY).last_saved is None
