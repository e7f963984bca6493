"""What the workshop notebooks share: where their files go, showing exported code as code, and
running it the way you would run it yourself, in its own folder, with nothing of the notebook in scope.

Everything a notebook writes lands under ``_out/`` next to it (ignored by git); each run starts clean."""

from __future__ import annotations

import contextlib
import shutil
import warnings
from pathlib import Path

from IPython.display import Markdown, display

HERE = Path.cwd()  # a notebook's kernel starts in the notebook's folder
OUT = HERE / "_out"
EXAMPLES = HERE.parent / "examples"

# transformers' model machinery takes a few seconds to import: here, once, rather than inside the
# first widget of a notebook.
import torch  # noqa: E402,F401
import transformers  # noqa: E402
from transformers import PreTrainedModel  # noqa: E402,F401

# The exported code saves with save_pretrained, whose progress bars would only clutter the outputs.
transformers.utils.logging.disable_progress_bar()


def folder(name: str) -> Path:
    """A fresh, empty ``_out/NAME``."""
    path = OUT / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def show_code(code: str) -> None:
    """The exported code as a highlighted Python block (what Copy / Insert as a new cell give you)."""
    display(Markdown(f"```python\n{code}```"))


def run_exported(code: str, name: str) -> Path:
    """Write ``code`` to ``_out/NAME/build.py`` and run it there in a fresh namespace (imports only
    torch and transformers); return the checkpoint folder it saved."""
    where = folder(name)
    (where / "build.py").write_text(code, encoding="utf-8")
    with contextlib.chdir(where):
        exec(compile(code, str(where / "build.py"), "exec"), {"__name__": "__main__"})
    checkpoint = where / "checkpoint"
    files = ", ".join(sorted(p.name for p in checkpoint.iterdir()))
    print(f"ran _out/{name}/build.py → checkpoint/: {files}")
    return checkpoint


@contextlib.contextmanager
def shows_warnings():
    """Print the warnings raised inside the block, one a line, as "warning: ..."."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        print(f"warning: {w.message}")


def offline() -> bool:
    """True when the hub is switched off (``HF_HUB_OFFLINE=1``, as ``make lab`` and the tests run)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)
