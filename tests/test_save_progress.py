"""A save that tells (issue 10, item 5): bytes made and written of the total, time left from the rate
so far (an injected clock), a cancel that leaves nothing on disk, the same weights as save_pretrained
byte for byte, the user's permissions, and the command line's progress on a terminal only."""

from __future__ import annotations

import os
import pty
import stat
import sys
import threading

import pytest
from safetensors.torch import load_file

from composer import Spec, limits, save
from composer.build import build_model
from composer.cli import main
from composer.progress import Cancelled

TINY = {"model_type": "distilbert", "architecture": "DistilBertForMaskedLM",  # tied: vocab_projector
        "config": {"n_layers": 1, "dim": 16, "n_heads": 2, "hidden_dim": 32, "vocab_size": 50,
                   "max_position_embeddings": 16}, "seed": 3}
STAGES = ["checking the design", "building the model", "building the processors", "writing the weights", "writing the processors",
          "replacing the folder", "saved"]


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(limits, "SAVE_CHUNK_BYTES", 1024)  # several chunks per tensor: steps to see and cancel at


def snapshot(folder):
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_progress_counts_bytes_to_the_total_and_time_left_from_the_clock(tmp_path, small_chunks):
    reports = []
    target = save(TINY, tmp_path / "ck", progress=reports.append, clock=Ticks())
    assert list(dict.fromkeys(r.stage for r in reports)) == STAGES
    done = [r.done for r in reports]
    assert done == sorted(done) and done[0] == 0 and done[-1] == reports[-1].total
    assert len({r.total for r in reports[1:]}) == 1  # the total is known once the design is checked
    writing = [r for r in reports if r.stage == "writing the weights"]
    assert len(writing) > 10 and writing[-1].stage_done == (target / "model.safetensors").stat().st_size - \
        int.from_bytes((target / "model.safetensors").read_bytes()[:8], "little") - 8  # every data byte, counted
    building = [r for r in reports if r.stage == "building the model"]
    assert len(building) > 5 and building[-1].stage_done == building[-1].stage_total
    # Time left: the bytes still to do at the rate since the first byte was counted, so the seconds that
    # rate implies have been counting trail the seconds since the start by the same lead-in every time.
    assert all(r.left is None for r in reports if not r.done)
    counting = [r for r in reports if 0 < r.done < r.total]
    lead_in = {round(r.elapsed - r.left * r.done / (r.total - r.done), 6) for r in counting}
    assert len(lead_in) == 1 and 0 < lead_in.pop() < counting[0].elapsed
    middle = writing[len(writing) // 2]
    assert middle.line() == (f"Writing the weights: {middle.stage_done / 1024:.1f} KiB of "
                             f"{middle.stage_total / 1024:.1f} KiB · {100 * middle.fraction:.0f}% · "
                             f"{round(middle.left)} s left")


def test_the_weights_are_save_pretrained_s_byte_for_byte(tmp_path, small_chunks):
    ours = save(TINY, tmp_path / "ck") / "model.safetensors"
    build_model(Spec.from_dict(TINY), device="cpu").save_pretrained(tmp_path / "plain")  # transformers alone
    assert ours.read_bytes() == (tmp_path / "plain" / "model.safetensors").read_bytes()
    loaded = load_file(ours)
    assert "distilbert.embeddings.word_embeddings.weight" in loaded and "vocab_projector.weight" not in loaded


def cancelled_at(stage, tmp_path, **kwargs):
    """Save, pressing Cancel when ``stage`` is reached (halfway through its bytes if it has any)."""
    cancel = threading.Event()

    def progress(report):
        if report.stage == stage and report.stage_done >= report.stage_total / 2:
            cancel.set()

    return save(TINY, tmp_path / "ck", progress=progress, cancel=cancel, **kwargs)


@pytest.mark.parametrize("stage", STAGES[:5])  # a cancel in the last is taken as the replace begins
def test_a_cancelled_save_leaves_nothing(tmp_path, small_chunks, stage):
    with pytest.raises(Cancelled, match=rf"^save: cancelled; nothing was written \({tmp_path / 'ck'} was not made\)$"):
        cancelled_at(stage, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no folder, no hidden build, no lock


@pytest.mark.parametrize("stage", ["building the model", "writing the weights", "writing the processors"])
def test_a_cancelled_overwrite_leaves_the_old_folder_untouched(tmp_path, small_chunks, stage):
    before = snapshot(save({**TINY, "seed": 9}, tmp_path / "ck"))
    with pytest.raises(Cancelled, match=f"is as it was$"):
        cancelled_at(stage, tmp_path, overwrite=True)
    assert snapshot(tmp_path / "ck") == before and [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_a_cancel_once_the_folder_is_being_replaced_lets_the_save_finish(tmp_path):
    save({**TINY, "seed": 9}, tmp_path / "ck")
    target = cancelled_at("replacing the folder", tmp_path, overwrite=True)
    assert Spec.load(target / "composer.spec.json").seed == 3 and [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_folders_and_files_get_the_permissions_of_a_normal_mkdir(tmp_path):
    umask = os.umask(0o022)
    try:
        target = save(TINY, tmp_path / "made" / "ck")
    finally:
        os.umask(umask)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [target.parent, target, *target.iterdir()]}
    assert modes.pop("made") == modes.pop("ck") == 0o755
    assert set(modes.values()) == {0o644} and "model.safetensors" in modes


def drain(fd: int, chunks: list[bytes]) -> None:
    """Read a terminal until its last writer has closed it."""
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    except OSError:  # EIO: the other end closed
        pass
    finally:
        os.close(fd)


def test_the_command_line_shows_progress_on_a_terminal_only(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "spec.json"
    Spec.from_dict(TINY).save(spec)
    leader, follower = pty.openpty()
    chunks = []
    reader = threading.Thread(target=drain, args=(leader, chunks))  # a full terminal would block the save
    reader.start()
    with open(follower, "w", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(["save", str(spec), str(tmp_path / "a")]) == 0
    reader.join()
    seen = b"".join(chunks).decode()
    assert "\rBuilding the model: " in seen and "\rWriting the weights: " in seen and " KiB · " in seen
    assert seen.endswith("\r\x1b[K")  # the progress line is cleared at the end
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["save", str(spec), str(tmp_path / "b")]) == 0
    out = capsys.readouterr()
    assert out.err == "" and out.out == f"{tmp_path / 'b'}\n"  # a log or a pipe gets the result only
