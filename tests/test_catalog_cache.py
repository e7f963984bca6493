"""The catalog cache (composer.catalog_cache): what it answers is what the engine computes, a damaged
file is never believed (the answer is computed again and the file rebuilt), and a file of another
transformers version is not read."""

from __future__ import annotations

import functools
import json
import math

import transformers
from hypothesis import given, settings
from hypothesis import strategies as st

from composer import catalog, fields
from composer.catalog_cache import MISSING, Store, engine_digest, store
from composer.sections import backbone as backbone_section
from composer.sections import config as config_section

def through_json(value):
    """What a value is once written to the cache file and read back."""
    return json.loads(json.dumps(value))


STAMP = {"transformers": transformers.__version__, "engine": engine_digest()}


@functools.cache
def entries() -> dict:
    """Real answers, as kept: a form's rows and a field list holding an infinite default (Mamba2's
    time_step_limit). Computed in a test, once the session's own cache folder is set."""
    return through_json({"rows": config_section.offered.__wrapped__("distilbert"),
                         "fields": fields._field_rows(fields.config_fields.__wrapped__("mamba2"))})


def test_kept_answers_read_back_as_the_engine_computes_them():
    for model_type in ("distilbert", "mamba2", "maskformer"):
        computed = fields.config_fields.__wrapped__(model_type)
        assert fields._from_field_rows(through_json(fields._field_rows(computed))) == computed
        heads = catalog.heads.__wrapped__(model_type)
        assert catalog._from_head_rows(through_json(catalog._head_rows(heads))) == heads
        assert config_section.offered(model_type) == tuple(through_json(config_section.offered.__wrapped__(model_type)))
    limit = fields.fields_by_name("mamba2")["time_step_limit"].default
    assert limit[1] == math.inf  # kept as JSON's Infinity, read back as the number it is
    assert backbone_section.offered("resnet") == tuple(through_json(backbone_section._rows.__wrapped__("resnet")))


def test_the_file_is_named_by_the_transformers_version_and_stamped_with_the_engine():
    catalog.model_types()  # an answer kept in this session's cache
    store().flush()  # written behind: within WRITE_BEHIND_SECONDS, and at exit
    kept = json.loads(store().path.read_text(encoding="utf-8"))
    assert store().path.name == f"transformers-{transformers.__version__}.json"
    assert kept["stamp"] == STAMP and any("model_types" in key for key in kept["entries"])


def test_a_file_of_another_transformers_version_is_not_read_and_is_rebuilt(tmp_path):
    path = tmp_path / "catalog.json"
    other = Store(path, {**STAMP, "transformers": "4.57.0"})
    other.put("rows", ["an answer of another version"])
    other.flush()
    now = Store(path, STAMP)
    assert now.get("rows") is MISSING
    now.put("rows", entries()["rows"])
    now.flush()
    assert Store(path, STAMP).get("rows") == entries()["rows"]
    assert Store(path, {**STAMP, "transformers": "4.57.0"}).get("rows") is MISSING


def test_new_answers_are_written_together_not_one_file_each(tmp_path):
    """A sweep over every type asks thousands of answers: they reach the file in one write, not one
    rewrite of a growing file each."""
    path = tmp_path / "catalog.json"
    kept = Store(path, STAMP)
    for n in range(500):
        kept.put(f"answer {n}", n)
    assert not path.exists() and kept.get("answer 499") == 499  # in memory at once
    kept.flush()
    assert Store(path, STAMP).get("answer 0") == 0 and Store(path, STAMP).get("answer 499") == 499


def test_an_answer_kept_by_another_process_meanwhile_is_kept_too(tmp_path):
    path = tmp_path / "catalog.json"
    first, second = Store(path, STAMP), Store(path, STAMP)
    assert first.get("rows") is MISSING and second.get("fields") is MISSING  # both read the empty file
    first.put("rows", entries()["rows"])
    first.flush()
    second.put("fields", entries()["fields"])
    second.flush()  # merged with what the first wrote meanwhile
    assert Store(path, STAMP).get("rows") == entries()["rows"]
    assert Store(path, STAMP).get("fields") == entries()["fields"]


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_a_damaged_file_is_never_believed_and_is_rebuilt(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("damaged") / "catalog.json"
    whole = Store(path, STAMP)
    for key, value in entries().items():
        whole.put(key, value)
    whole.flush()
    good = path.read_bytes()
    kind = data.draw(st.sampled_from(["truncate", "overwrite", "insert"]))
    at = data.draw(st.integers(0, len(good) - 1))
    if kind == "truncate":
        damaged = good[:at]
    else:
        junk = data.draw(st.binary(min_size=1, max_size=8))
        damaged = good[:at] + junk + good[at + (len(junk) if kind == "overwrite" else 0):]
    path.write_bytes(damaged)
    read = Store(path, STAMP)
    for key, value in entries().items():
        kept = read.get(key)  # never raises
        assert kept is MISSING or kept == value, f"{kind} at {at} gave a wrong {key}"
    read.put("rows", entries()["rows"])  # the answer computed again: the file is whole after it
    read.flush()
    assert Store(path, STAMP).get("rows") == entries()["rows"]
