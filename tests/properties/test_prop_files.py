"""Spec files of any bytes through the command line (in this process) and the Python API: exit 0 or 2,
never a traceback, one error line naming a field, no hang, bounded memory, nothing written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import composer
from composer.spec import Spec
from props_case import examples, assert_cli, assert_compiles, bounded, call, case, run_main, snapshot
from strategies import spec_file_bytes

COMMANDS = (["summary"], ["summary", "--json"], ["code"], ["code", "--output-dir", "out"])


@pytest.mark.issue8("inputs", "sizes")
@settings(max_examples=examples(150))
@given(spec_file_bytes(), st.sampled_from(COMMANDS))
def test_spec_files_through_the_command_line(data, command):
    with case("<spec file>", data, command) as box, bounded():
        path = box.root / "spec.json"
        path.write_bytes(data)
        before = snapshot(box.root)
        code, out, err = run_main([command[0], str(path), *command[1:]])
        assert_cli(code, out, err)
        if code == 0 and command[0] == "code":
            assert_compiles(out)
        assert snapshot(box.root) == before, f"{command[0]} wrote or deleted files"


@pytest.mark.issue8("inputs")
@settings(max_examples=examples(60))
@given(spec_file_bytes())
def test_spec_files_through_the_api(data):
    with case("<spec file>", data) as box, bounded():
        path = box.root / "spec.json"
        path.write_bytes(data)
        spec, err = call(Spec.load, path)
        if spec is not None:
            call(composer.summarize, path)
            code, _ = call(composer.to_code, path)
            if code is not None:
                assert_compiles(code)
