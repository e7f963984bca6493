"""Three cases as a user meets them: `python -m composer` in a real process, stdin attached, in a
real cwd. Exit 0 or 2, never a traceback, one error line; nothing runs from a folder even when the
user answers "y"; a refused save leaves the cwd as it was."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from props_case import apply_damage, assert_cli, case, copy_folder, markers, snapshot


def _run(args, cwd, stdin: str = "") -> subprocess.CompletedProcess:
    # timeout: a hang detector for the whole process (start-up included), not a timing assertion.
    return subprocess.run([sys.executable, "-m", "composer", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=180)


@pytest.mark.slow
@pytest.mark.issue8("folders")
def test_check_of_a_folder_with_auto_map_runs_nothing_even_on_yes(pristine):
    with case("<subprocess>") as box:
        folder = copy_folder(pristine["distilbert"], box.root / "work" / "folder")
        apply_damage(folder, [("remote", "unknown_type")], box.root)
        out = _run(["check", str(folder)], box.cwd, stdin="y\ny\ny\n")
        assert_cli(out.returncode, out.stdout, out.stderr)
        assert out.returncode == 2 and not markers(box.root)


@pytest.mark.slow
@pytest.mark.issue8("save")
def test_save_to_the_empty_name_keeps_the_current_folder():
    with case("<subprocess>") as box:
        spec = box.root / "spec.json"
        spec.write_text('{"model_type": "bert", "config": {"num_hidden_layers": 1, "hidden_size": 32, '
                        '"num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 100}}')
        before = snapshot(box.root)
        out = _run(["save", str(spec), "", "--overwrite"], box.cwd)
        assert_cli(out.returncode, out.stdout, out.stderr)
        assert out.returncode == 2 and snapshot(box.root) == before


@pytest.mark.slow
@pytest.mark.issue8("inputs")
def test_a_spec_file_that_is_not_utf8():
    with case("<subprocess>") as box:
        (box.root / "latin1.json").write_bytes(b'{"model_type": "bert\xe9"}')
        out = _run(["summary", str(box.root / "latin1.json")], box.cwd)
        assert_cli(out.returncode, out.stdout, out.stderr)
        assert out.returncode == 2
