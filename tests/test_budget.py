"""A parameter budget as a person asks it: "which n_layers gives me 10 M parameters?". Every answer is
checked by counting its neighbours directly (summarize, validation), the search's property holds for
any target (hypothesis), and what the search cannot answer is refused in one line; from Python and the
command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer import SpecError, summarize
from composer.budget import budget, budget_fields, parse_target
from composer.validation import ready

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DISTILBERT = EXAMPLES / "distilbert.json"
LLAMA70B = EXAMPLES / "llama70b.json"
TINY = {"model_type": "distilbert",
        "config": {"dim": 32, "n_heads": 4, "hidden_dim": 64, "n_layers": 2, "vocab_size": 100,
                   "max_position_embeddings": 32}}


def at(spec, name: str, value: int) -> dict:
    spec = json.loads(Path(spec).read_text()) if isinstance(spec, Path) else spec
    return {**spec, "config": {**spec["config"], name: value}}


def total(spec, name: str, value: int) -> int | None:
    """The count of the design with ``name`` at ``value``, or None where validation refuses it."""
    try:
        return summarize(ready(at(spec, name, value)))["total"]
    except SpecError:
        return None


def assert_neighbours(spec, result: dict, name: str) -> None:
    """below <= target <= above, each count what summarize gives, and no valid value between them."""
    below, above, target = result["below"], result["above"], result["target"]
    assert below["count"] == total(spec, name, below["value"]) <= target
    assert above["count"] == total(spec, name, above["value"]) >= target
    assert all(total(spec, name, v) is None for v in range(below["value"] + 1, above["value"]))


def test_distilbert_layers_for_a_target_between_two_layer_counts():
    result = budget(DISTILBERT, 60_000_000, "n_layers")
    assert (result["below"]["value"], result["above"]["value"]) == (5, 6)
    assert_neighbours(DISTILBERT, result, "n_layers")
    assert result["field"] == "config.n_layers" and result["current"] == {"value": 2, "count": 38_604_291}
    assert result["counts"] <= 8  # 2, 3, 4, 6 doubling, then halving: a few steps, not a scan


def test_distilbert_hidden_size_keeps_to_what_its_heads_divide():
    result = budget(DISTILBERT, "50M", "hidden_size")  # the alias of dim
    assert result["field"] == "config.dim"
    assert_neighbours(DISTILBERT, result, "dim")
    assert result["below"]["value"] % 12 == 0 and result["above"]["value"] - result["below"]["value"] == 12
    assert result["below"]["followed"] == []  # no other field moves with dim


def test_llama70b_layers_for_30b():
    result = budget(LLAMA70B, "30B", "num_hidden_layers")
    assert (result["below"]["value"], result["above"]["value"]) == (32, 33)
    assert_neighbours(LLAMA70B, result, "num_hidden_layers")
    assert result["counts"] <= 16


def test_a_derived_field_follows_and_is_named():
    result = budget(LLAMA70B, "30B", "hidden_size")
    below, above = result["below"], result["above"]
    assert below["value"] % 128 == 0 and above["value"] == below["value"] + 128  # 64 heads, an even rotary dim
    assert below["followed"] == [{"field": "config.head_dim", "from": 128, "to": below["value"] // 64}]
    assert below["count"] == total(LLAMA70B, "hidden_size", below["value"]) <= 30e9 <= above["count"]


def test_memory_at_a_dtype_and_an_exact_hit():
    result = budget(DISTILBERT, "100MiB", "n_layers", measure="memory", dtype="bf16")
    assert result["below"]["count"] == 2 * total(DISTILBERT, "n_layers", result["below"]["value"]) <= 100 * 2**20
    assert result["above"]["count"] >= 100 * 2**20
    exact = budget(DISTILBERT, 38_604_291, "n_layers")
    assert exact["below"] == exact["above"] and exact["below"]["value"] == 2


def test_the_bounds_of_the_field_end_the_search():
    low = budget(DISTILBERT, "10M", "n_layers")
    assert low["below"] is None and low["above"]["value"] == 1  # even one layer has more
    high = budget(TINY, "1T", "n_layers")
    assert high["above"] is None and high["below"]["value"] == 1000  # composer.limits.MAX_LAYERS
    assert high["bounds"] == [1, 1000]


@settings(max_examples=12, derandomize=True, database=None, deadline=None)
@given(target=st.integers(min_value=20_000, max_value=400_000))
def test_any_target_lies_between_the_two_answers_with_no_closer_value_between(target):
    result = budget(TINY, target, "dim")  # dim: a multiple of the 4 heads
    assert_neighbours(TINY, result, "dim")


def test_budget_fields_are_the_designs_integer_sizes_with_their_values():
    rows = {f["name"]: f for f in budget_fields(LLAMA70B)}
    assert {"num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size", "head_dim"} <= set(rows)
    assert rows["num_hidden_layers"] == {"name": "num_hidden_layers", "value": 80, "minimum": 1, "maximum": 1000}
    assert "rms_norm_eps" not in rows and "pad_token_id" not in rows


@pytest.mark.parametrize("text, value", [("10M", 10_000_000), ("7B", 7_000_000_000), ("1.5e9", 1_500_000_000),
                                         ("350,000,000", 350_000_000), ("16GiB", 16 * 2**30), (" 2.5k ", 2500)])
def test_targets_as_people_write_them(text, value):
    assert parse_target(text) == value


@pytest.mark.parametrize("field, target, message", [
    ("max_position_embeddings", "30B", r"^config\.max_position_embeddings: every value tried .* gives the same "
                                       r"parameter count"),
    ("num_attention_heads", "30B", r"^config\.num_attention_heads: the parameter count is not monotone in it"),
    ("rms_norm_eps", "30B", r"^field: 'rms_norm_eps' is not an integer size or count of this llama design"),
    ("num_hidden_layers", "ten", r"^target: expected a count such as 10M"),
    ("num_hidden_layers", "0", r"^target: expected a count from 1"),
])
def test_what_a_budget_cannot_answer_is_refused_at_its_field(field, target, message):
    with pytest.raises(SpecError, match=message):
        budget(LLAMA70B, target, field)


# ----- the command line -----------------------------------------------------------------------------


def test_budget_on_the_command_line(cli_here):
    out = cli_here("budget", LLAMA70B, "--field", "num_hidden_layers", "--target", "30B")
    assert out.returncode == 0 and out.stderr == ""
    lines = out.stdout.splitlines()
    assert lines[0] == "config.num_hidden_layers for 30,000,000,000 parameters (now 80: 70,553,706,496 (70.6B))"
    assert lines[1].split()[:3] == ["below", "32", "29,482,295,296"]
    assert lines[2].split()[:3] == ["above", "33", "30,337,949,696"]
    data = json.loads(cli_here("budget", DISTILBERT, "--field", "n_layers", "--target", "100MiB", "--measure",
                               "memory", "--dtype", "fp16", "--json").stdout)
    assert data["measure"] == "memory" and data["dtype"] == "fp16" and data["below"]["count"] <= 100 * 2**20


def test_budget_errors_are_one_line_and_exit_2(cli_here):
    for args, line in (
            (["--field", "n_layers", "--target", "10 apples"],
             "error: target: expected a count such as 10M, 7B, 1.5e9 or 350,000,000; got '10 apples'\n"),
            (["--field", "n_layers", "--target", "10M", "--measure", "flops"],
             "error: measure: 'flops' is not one of parameters, memory\n")):
        out = cli_here("budget", DISTILBERT, *args)
        assert (out.returncode, out.stdout, out.stderr) == (2, "", line)
