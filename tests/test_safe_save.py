"""Saves that cannot lose data (issue 8, item 1): refused targets, the lock, the atomic replace, saves
killed at every stage (real processes, SIGKILL), leftovers, failed builds, permissions."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from contextlib import nullcontext
from pathlib import Path

import pytest

from composer import Spec, SpecError, check, limits, safe_folder, save
from composer.safe_folder import MANIFEST, FolderExists, repair

ROOT = Path(__file__).resolve().parent.parent

TINY = {"model_type": "distilbert", "architecture": "DistilBertForSequenceClassification",
        "config": {"n_layers": 1, "dim": 16, "n_heads": 2, "hidden_dim": 32, "vocab_size": 50,
                   "max_position_embeddings": 16, "num_labels": 2}, "seed": 3}
NEW = {**TINY, "seed": 4}

# A save in its own process, overwriting TARGET with NEW, that pauses at STAGE of its progress until a
# line arrives on stdin.
PAUSED = """
import json, sys
from composer.checkpoint import save
spec, target, stage = json.loads(sys.argv[1]), *sys.argv[2:]
def progress(report):
    if report.stage == stage and not report.stage_done:
        print("paused", flush=True)
        sys.stdin.readline()
save(spec, target, overwrite=True, progress=progress)
"""

# Saves killed with SIGKILL: one process imports the composer and transformers once, then forks one
# child per job (before any tensor exists, so the fork is safe); each child overwrites its TARGET with
# NEW and kills itself at STAGE. "no-renameat2" runs the child as on a libc without renameat2 (the same
# path as a filesystem refusing the exchange): the two-rename fallback. Prints each child's signal.
KILLS = """
import json, os, signal, sys, traceback
from composer import safe_folder
from composer.checkpoint import save
import composer.validation, composer.build, composer.codegen
from transformers import DistilBertForSequenceClassification
spec, jobs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
signals = []
for target, stage, rename in jobs:
    pid = os.fork()
    if pid == 0:
        if rename == "no-renameat2":
            safe_folder._renameat2 = None
        def progress(report):
            if report.stage == stage:
                os.kill(os.getpid(), signal.SIGKILL)
        try:
            save(spec, target, overwrite=True, progress=progress)
        except BaseException:
            traceback.print_exc()
        os._exit(1)
    status = os.waitpid(pid, 0)[1]
    signals.append(os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
print(json.dumps(signals))
"""


def python(script: str, *args, **kwargs):
    env = {**os.environ, "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], env=env, text=True, **kwargs)


def seed_at(folder) -> int:
    return Spec.load(folder / "composer.spec.json").seed


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ----- targets that are refused ---------------------------------------------------------------------


def test_empty_target_with_overwrite_is_refused_and_the_cwd_untouched(cli, tmp_path):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(TINY))
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    out = cli("save", spec, "", "--overwrite", cwd=work)
    assert out.returncode == 2
    assert out.stderr.startswith("error: DIR: no folder given") and out.stderr.count("\n") == 1
    assert snapshot(work) == {"notes.txt": b"mine"}


@pytest.mark.parametrize("given", ["/", "~", "~/..", ".", "..", "{a}"])
def test_root_home_cwd_and_its_ancestors_are_refused(tmp_path, monkeypatch, given):
    home, cwd = tmp_path / "home", tmp_path / "a" / "b"
    for folder in (home, cwd):
        folder.mkdir(parents=True)
        (folder / "notes.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    before = snapshot(tmp_path)
    with pytest.raises(SpecError, match=r"^DIR: .* (is the filesystem root|(is|holds) (your home|the current) folder)"):
        save(TINY, given.format(a=tmp_path / "a"), overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_file_is_refused(tmp_path):
    (tmp_path / "ck").write_text("a file")
    with pytest.raises(SpecError, match="ck is a file, not a folder"):
        save(TINY, tmp_path / "ck", overwrite=True)
    assert (tmp_path / "ck").read_text() == "a file"


def test_a_folder_the_composer_did_not_write_is_refused_even_with_overwrite(tmp_path, cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(TINY))
    out = cli("save", spec, mine, "--overwrite")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert f"error: DIR: {mine} was not written by the composer (no valid {MANIFEST})" in out.stderr
    assert snapshot(mine) == {"thesis.tex": b"years of work"}


def test_a_folder_whose_manifest_is_a_fifo_is_refused_without_hanging(tmp_path, cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    os.mkfifo(mine / MANIFEST)  # a plain read of it would wait for a writer forever
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(TINY))
    out = cli("save", spec, mine, "--overwrite")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert f"error: DIR: {mine} was not written by the composer (no valid {MANIFEST})" in out.stderr
    assert stat.S_ISFIFO((mine / MANIFEST).lstat().st_mode)


def test_a_composer_folder_a_person_edited_is_refused(tmp_path):
    target = save(TINY, tmp_path / "ck")
    config = target / "config.json"
    config.write_text(config.read_text().replace('"dim": 16', '"dim": 16 '))  # an edit by hand
    with pytest.raises(SpecError, match=r"holds files changed since the composer wrote them \(config.json\)"):
        save(NEW, target, overwrite=True)
    assert '"dim": 16 ' in config.read_text()


def test_a_composer_folder_with_a_subfolder_a_person_added_is_refused(tmp_path):
    target = save(TINY, tmp_path / "ck")
    (target / "runs").mkdir()
    (target / "runs" / "log.txt").write_text("mine")
    with pytest.raises(SpecError, match=r"holds files the composer did not write \(runs/log.txt\)"):
        save(NEW, target, overwrite=True)
    assert (target / "runs" / "log.txt").read_text() == "mine"


def test_existing_target_says_how_to_overwrite_in_the_callers_words(tmp_path, cli):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(TINY))
    save(TINY, tmp_path / "ck")
    out = cli("save", spec, tmp_path / "ck")
    assert out.returncode == 2
    assert out.stderr == f"error: DIR: {tmp_path / 'ck'} exists; pass --overwrite to replace it\n"


def test_an_empty_folder_is_replaced_only_with_overwrite(tmp_path):
    (tmp_path / "ck").mkdir()
    with pytest.raises(FolderExists):
        save(TINY, tmp_path / "ck")
    save(TINY, tmp_path / "ck", overwrite=True)
    assert seed_at(tmp_path / "ck") == 3 and names(tmp_path) == ["ck"]


# ----- two saves, and folders that appear during a save --------------------------------------------------


def test_a_second_save_while_one_runs_is_refused_and_the_first_completes(tmp_path, monkeypatch):
    target = save(TINY, tmp_path / "ck")
    first = python(PAUSED, json.dumps(NEW), target, "writing the weights", stdin=subprocess.PIPE,
                   stdout=subprocess.PIPE)
    try:
        assert first.stdout.readline() == "paused\n"  # it holds the lock, mid-build
        monkeypatch.setattr(limits, "SAVE_LOCK_WAIT_SECONDS", 0)
        with pytest.raises(SpecError, match=f"^DIR: another save to {target} is running"):
            save({**TINY, "seed": 5}, target, overwrite=True)
        assert seed_at(target) == 3
        first.stdin.write("go\n")
        first.stdin.close()
        assert first.wait(timeout=120) == 0
    finally:
        first.kill()
    assert seed_at(target) == 4 and names(tmp_path) == ["ck"]


def test_saves_racing_in_threads_replace_one_after_the_other(tmp_path):
    target = save(TINY, tmp_path / "ck")
    start, saved, refused = threading.Barrier(3), [], []

    def run(seed):
        start.wait()
        try:
            save({**TINY, "seed": seed}, target, overwrite=True)
            saved.append(seed)
        except SpecError as err:
            refused.append(str(err))

    threads = [threading.Thread(target=run, args=(seed,)) for seed in (5, 6, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Each waited for the lock (or, on a machine too busy to finish them within the wait, was refused).
    assert saved and all(line.startswith(f"DIR: another save to {target} is running") for line in refused)
    assert seed_at(target) in saved and names(tmp_path) == ["ck"]
    assert check(target)["parameters"] > 0


def test_a_folder_that_appears_during_a_save_is_kept(tmp_path):
    target = tmp_path / "ck"

    def another_program(report):
        if report.stage == "writing the weights" and not report.stage_done:
            target.mkdir()
            (target / "data.csv").write_text("1,2,3")

    with pytest.raises(SpecError, match="was not written by the composer"):
        save(TINY, target, overwrite=True, progress=another_program)
    assert snapshot(target) == {"data.csv": b"1,2,3"} and names(tmp_path) == ["ck"]


def test_an_empty_folder_that_appears_during_a_save_without_overwrite_is_kept(tmp_path):
    target = tmp_path / "ck"

    def another_program(report):
        if report.stage == "writing the processors":
            target.mkdir()

    with pytest.raises(FolderExists, match="appeared during the save"):
        save(TINY, target, progress=another_program)
    assert names(tmp_path) == ["ck"] and names(target) == []


# ----- saves killed at every stage --------------------------------------------------------------------

STAGES = [  # where the save dies, how it renames, which folder is then at the target
    ("building the model", "renameat2", "old"),
    ("writing the weights", "renameat2", "old"),
    ("writing the processors", "renameat2", "old"),
    ("replacing the folder", "renameat2", "old"),
    ("removing the old folder", "renameat2", "new"),
    ("saved", "renameat2", "new"),
    ("replacing the folder", "no-renameat2", "old"),
    ("moving the new folder in", "no-renameat2", None),  # between the two renames: repaired
    ("removing the old folder", "no-renameat2", "new"),
]


REPAIRED = ("writing the weights", "no-renameat2")  # a killed save for repair() alone


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """Each job's target (the old folder saved, then a save of NEW killed) and the signal that ended it."""
    root = tmp_path_factory.mktemp("killed")
    jobs = [(save(TINY, root / str(i) / "ck"), stage, rename)
            for i, (stage, rename, *_) in enumerate([*STAGES, REPAIRED])]
    driver = python(KILLS, json.dumps(NEW), json.dumps([[str(t), s, r] for t, s, r in jobs]),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = driver.communicate(timeout=600)
    assert driver.returncode == 0, err
    return {(stage, rename): (target, signal) for (target, stage, rename), signal in zip(jobs, json.loads(out))}


@pytest.mark.parametrize(("stage", "rename", "expected"), STAGES)
def test_a_save_killed_leaves_the_old_or_the_new_folder_and_the_next_save_cleans_up(killed, stage, rename,
                                                                                    expected):
    target, signal = killed[stage, rename]
    assert signal == 9  # SIGKILL, at that stage
    if expected is None:
        assert not target.exists() and any(name.endswith(".old") for name in names(target.parent))
        lines = check(target)["repaired"]  # check finishes the interrupted replace, then reads the folder
        assert lines[0].startswith(f"restored {target} from .ck.") and len(lines) == 2  # and the new copy removed
        expected = "old"
    assert seed_at(target) == {"old": 3, "new": 4}[expected]
    assert not safe_folder._not_ours(target) and safe_folder._complete(target)
    with pytest.warns(UserWarning, match="DIR: removed .ck.") if len(names(target.parent)) > 1 else nullcontext():
        save({**TINY, "seed": 6}, target, overwrite=True)
    assert names(target.parent) == ["ck"]  # hidden copies and the killed save's lock file are gone
    assert seed_at(target) == 6 and check(target)["parameters"] > 0


def test_repair_removes_the_build_of_a_killed_save_and_says_so(killed):
    target, signal = killed[REPAIRED]
    assert signal == 9
    leftover = [name for name in names(target.parent) if name.endswith(".partial")]
    assert len(leftover) == 1 and seed_at(target) == 3
    assert repair(target) == [f"removed {leftover[0]}, left by a killed save"]
    assert names(target.parent) == ["ck"] and repair(target) == []


def test_a_failure_between_the_two_renames_puts_the_old_folder_back_at_once(tmp_path, monkeypatch):
    target = save(TINY, tmp_path / "ck")
    monkeypatch.setattr(safe_folder, "_renameat2", None)

    def interrupt(report):
        if report.stage == "moving the new folder in":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save(NEW, target, overwrite=True, progress=interrupt)
    assert seed_at(target) == 3 and names(tmp_path) == ["ck"]


# ----- failures and permissions -----------------------------------------------------------------------


def test_a_failing_build_leaves_no_parent_folders(tmp_path):
    def fail(report):
        if report.stage == "writing the processors":
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        save(TINY, tmp_path / "a" / "b" / "ck", progress=fail)
    assert names(tmp_path) == []


def test_folders_and_files_follow_the_umask(tmp_path):
    umask = os.umask(0o027)  # not the default 0o022, and not what tempfile.mkdtemp gives (0o077)
    try:
        target = save(TINY, tmp_path / "made" / "ck")
    finally:
        os.umask(umask)
    for folder in (target.parent, target):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert stat.S_IMODE((target / "config.json").stat().st_mode) == 0o640
