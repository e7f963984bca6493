"""`save` of generated tiny designs to odd targets, through the API and the command line: a refusal
writes and deletes nothing; a save replaces only a checkpoint folder the composer wrote, leaves a whole
folder that transformers loads, and no hidden .partial / .old folder anywhere."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import composer
from props_case import examples, assert_cli, bounded, call, case, run_main, snapshot
from strategies import TINY, dump, specs

# Targets relative to the sandbox's cwd (root/work/cwd); "~" is the sandbox's HOME. Never an absolute
# path outside the sandbox: on the old code a save with --overwrite deletes what the target names.
TARGETS = ("ck", "a/b/c/ck", "ck/", "previous_checkpoint", "user_folder", "notes.txt", "", ".", "./", "..",
           "~", "~/ck", "x" * 300, "ck\x00", "\ud800ck", "user_folder/../ck", "previous_checkpoint/inner")
# Targets that are not a checkpoint folder the composer wrote: refused whatever --overwrite says.
NEVER_REPLACED = {"user_folder", "notes.txt", "", ".", "./", "..", "~"}


def _prepare(box, pristine) -> None:
    (box.cwd / "user_folder").mkdir()
    (box.cwd / "user_folder" / "thesis.tex").write_text("years of work\n")
    shutil.copytree(pristine["distilbert"], box.cwd / "previous_checkpoint")


def _leftovers(root) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.name.endswith((".partial", ".old")) or ".partial" in p.name]


@pytest.mark.issue8("save", "inputs")
@settings(max_examples=examples(40))
@given(specs(types=tuple(TINY), tiny=True), st.sampled_from(TARGETS), st.booleans(), st.booleans())
def test_save_writes_a_whole_folder_or_nothing(pristine, spec, target, overwrite, from_cli):
    with case(spec["model_type"], spec, target, overwrite, from_cli) as box, bounded(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _prepare(box, pristine)
        spec_path = box.root / "spec.json"
        spec_path.write_text(dump(spec), encoding="utf-8")
        before = snapshot(box.root)
        if from_cli:
            code, out, err = run_main(["save", str(spec_path), target, *(["--overwrite"] if overwrite else [])])
            assert_cli(code, out, err)
            saved = out.strip() if code == 0 else None
        else:
            saved, _ = call(composer.save, spec, target, overwrite=overwrite)
        if target in NEVER_REPLACED:
            assert saved is None, f"save replaced {target!r}, which is not a checkpoint folder it wrote"
        if saved is None:
            assert snapshot(box.root) == before, "a refused save wrote or deleted files"
            return
        after = snapshot(box.root)
        saved_rel = str(Path(saved).relative_to(box.root))
        lost = [p for p in before if p not in after and not (p + "/").startswith(saved_rel + "/")]
        assert not lost, f"save deleted what was not its target: {lost[:5]}"
        assert box.user_file.read_text() == "the user's own work\n"
        assert not _leftovers(box.root), f"hidden leftovers: {_leftovers(box.root)}"
        report, err = call(composer.check, saved)
        assert report is not None, f"check refuses what save wrote: {err}"
