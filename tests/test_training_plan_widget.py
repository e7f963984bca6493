"""The training plan panel on the Python side (issue 11, item 3), as a notebook user and the front end
drive it: built when first opened, the engine's plan of the design and settings shown with its bar, a
setting checked at its field as it is typed, plans made one at a time off the event loop with the newest
edit winning, and the plan following the design. On a clock the test moves by hand: nothing sleeps."""

from __future__ import annotations

import pytest

from composer import SpecError, summarize
from composer.training.plan import plan
from composer.training.settings import SIZE_SETTINGS, Settings, settings_fields
from widgets import Composer, TrainingPlan
from widgets._design import Design

from manual_clock import ManualClock
from test_widgets import TINY, front_end, with_config

TINY_LLAMA = {"model_type": "llama", "architecture": "LlamaForCausalLM",
              "config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "vocab_size": 100,
                         "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 64}}


def settle(clock: ManualClock) -> None:
    """Let the kernel's loop run until no work is left: rebuilds, then the plans they call for."""
    clock.advance(0)
    while clock.jobs:
        clock.finish_all()
        clock.advance(0)


def planned(clock: ManualClock) -> TrainingPlan:
    """A panel of TINY on `clock`, its first plan made."""
    panel = TrainingPlan(design=Design(TINY, clock=clock))
    settle(clock)
    return panel


def test_the_composer_builds_the_plan_when_it_is_first_opened():
    composer = Composer(spec=TINY)
    assert composer.plan_toggle.title == "Training plan" and not composer.plan_body.children
    panel = composer.training_plan()
    assert isinstance(panel, TrainingPlan) and composer.plan_toggle.expanded
    assert composer.training_plan() is panel  # opened again, not rebuilt
    engine = plan(TINY)
    assert panel.current and panel.plan["peak"] == engine.peak and panel.plan["devices"] == 1
    (bar,) = panel.plan["chart"]["bars"]
    assert bar["bytes"] == engine.peak and [s["name"] for s in bar["segments"]] == [s["name"] for s in engine.segments()]
    marker = panel.plan["chart"]["marker"]
    assert marker["bytes"] == engine.device_memory and marker["headroom"] == engine.device_memory - engine.usable_memory
    assert [f["name"] for f in panel.plan["figures"]][:3] == ["devices", "compute", "time"]


def test_a_closed_panel_plans_nothing_until_it_is_opened_again():
    composer = Composer(spec=TINY)
    panel = composer.training_plan()
    composer.plan_toggle.expanded = False
    composer.edit("config.n_layers", 3)
    assert panel.plan["params"] == summarize(TINY)["total"] and not panel.current  # no plan for nobody
    composer.plan_toggle.expanded = True
    assert panel.plan["params"] == summarize(with_config(TINY, n_layers=3))["total"] and panel.current


def test_the_form_is_the_engines_and_names_the_size_the_design_reads():
    clock = ManualClock()
    text = TrainingPlan(design=Design(TINY_LLAMA, clock=clock))
    names = lambda panel: [f["name"] for f in panel.fields]  # noqa: E731
    assert "sequence_length" not in names(text)  # not yet known: the worker says
    clock.finish_all()
    assert {"sequence_length", "context_length"} <= set(names(text)) and "image_size" not in names(text)
    assert "device_memory_gb" not in names(text)
    text.configure(device="custom")  # its memory and peak are asked for, at their fields
    assert "device_memory_gb" in names(text) and text.setting_errors == {"plan.device_memory_gb": "required for a custom device"}
    device = next(f for f in text.fields if f["name"] == "device")
    assert [c["value"] for c in device["choices"]] == ["24", "40", "80", "141", "192", "custom"]
    micro = next(f for f in text.fields if f["name"] == "micro_batch")
    assert (micro["type"], micro["default"], micro["minimum"]) == ("int", 1, 1)
    # Every setting is described once, in the panel's order.
    every = settings_fields(SIZE_SETTINGS, {"device": "custom"})
    assert sorted(f["name"] for f in every) == sorted(Settings.__dataclass_fields__)


def test_a_bad_setting_is_one_line_at_its_field_at_once_and_the_last_plan_stays():
    clock = ManualClock()
    panel = planned(clock)
    before = panel.plan
    front_end(panel, {"setting": {"micro_batch": 0}})
    assert panel.setting_errors == {"plan.micro_batch": "0 is below 1"}
    assert clock.jobs == [] and panel.plan == before and not panel.current  # nothing planned for it
    front_end(panel, {"setting": {"micro_batch": 3}})
    assert panel.setting_errors == {} and panel.planning
    settle(clock)
    assert panel.current and panel.plan["settings"]["micro_batch"] == 3
    assert panel.plan["per_device"]["activations"] > before["per_device"]["activations"]
    front_end(panel, {"reset_setting": ["micro_batch"]})
    assert panel.settings == {}


def test_a_design_no_device_holds_gets_the_setting_to_change():
    panel = TrainingPlan(spec=TINY, settings={"device": "custom", "device_memory_gb": 0.0001, "peak_tflops": 100})
    (first, *_) = panel.plan["figures"]
    assert first["name"] == "does not fit" and first["words"].startswith("on any count: plan.")
    assert panel.plan["chart"]["bars"][0]["bytes"] > panel.plan["usable_memory"] and panel.current


def test_a_setting_the_plan_refuses_is_shown_at_its_field():
    clock = ManualClock()
    panel = planned(clock)
    panel.configure(sequence_length=64)  # the config allows 32 positions: only the plan can tell
    settle(clock)
    assert list(panel.setting_errors) == ["plan.sequence_length"] and "max_position_embeddings" in \
        panel.setting_errors["plan.sequence_length"]
    assert not panel.current and panel.plan["settings"]["sequence_length"] is None  # the last plan stays
    with pytest.raises(SpecError, match="plan.sequence_length"):
        panel.refresh()
    panel.configure(sequence_length=16)
    assert panel.setting_errors == {}
    assert panel.refresh().settings["sequence_length"] == 16 and panel.current


def test_edits_while_a_plan_is_made_fold_into_one_plan_of_the_newest():
    clock = ManualClock()
    panel = planned(clock)
    panel.configure(micro_batch=2)
    clock.advance(0)
    assert len(clock.jobs) == 1 and panel.planning
    for n in range(3, 9):  # the person keeps typing while that plan is made
        panel.configure(micro_batch=n)
        clock.advance(0.02)
    assert len(clock.jobs) == 1  # one plan at a time: they never pile up in the worker
    clock.finish()  # for micro-batch 2: dropped, never shown, and the newest starts
    assert panel.plan["settings"]["micro_batch"] == 1 and len(clock.jobs) == 1 and not panel.current
    clock.finish()
    assert panel.plan["settings"]["micro_batch"] == 8 and panel.current and not panel.planning


def test_the_plan_follows_the_design():
    clock = ManualClock()
    panel = planned(clock)
    panel.edit("config.n_layers", 3)
    settle(clock)  # the rebuild, then the plan of the new design
    assert panel.plan["params"] == summarize(with_config(TINY, n_layers=3))["total"] and panel.current
    panel.edit("config.n_layers", "three")  # an error in the design: the last valid design's plan stays
    assert panel.plan["params"] == summarize(with_config(TINY, n_layers=3))["total"] and clock.jobs == []


def test_export_writes_the_launch_folder_where_the_save_panel_would(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the kernel's working folder: a relative folder lands there
    clock = ManualClock()
    panel = TrainingPlan(design=Design(TINY_LLAMA, clock=clock))
    panel.folder = "my_launch"
    front_end(panel, {"action": "export"})
    assert panel.exporting and panel.launch_status == ""  # written on the worker, the kernel free
    settle(clock)
    assert not panel.exporting and panel.launch_errors == {}
    assert panel.launch_status.startswith(f"Wrote the launch folder to {tmp_path / 'my_launch'}: ")
    assert {"train.py", "launch.sh", "README.md"} <= {p.name for p in (tmp_path / "my_launch").iterdir()}

    front_end(panel, {"action": "export"})  # never over a folder already there
    settle(clock)
    assert panel.launch_errors == {"DIR": f"{tmp_path / 'my_launch'} exists; remove it first to replace it"}
    panel.folder = "other"
    assert panel.launch_errors == {}  # a new folder: the error about the old one goes


def test_export_refuses_at_the_field_what_the_launch_cannot_run(tmp_path):
    clock = ManualClock()
    panel = TrainingPlan(design=Design(TINY_LLAMA, clock=clock), settings={"optimizer": "adamw-8bit"})
    panel.folder = str(tmp_path / "launch")
    front_end(panel, {"action": "export"})
    settle(clock)
    assert list(panel.launch_errors) == ["plan.optimizer"] and not (tmp_path / "launch").exists()
    panel.configure(optimizer="adamw")  # the setting changed: its export error goes
    assert panel.launch_errors == {}
    panel.configure(micro_batch=0)
    front_end(panel, {"action": "export"})  # a setting in error: refused before anything runs
    assert panel.launch_errors == {"plan.micro_batch": "0 is below 1"} and clock.jobs == []
    panel.reset_settings("micro_batch")
    panel.edit("config.hidden_size", "wide")
    with pytest.raises(SpecError, match="the design has an error at hidden_size in Config"):
        panel.export_launch()
