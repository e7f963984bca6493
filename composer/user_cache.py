"""The composer's folder in the user's cache, shared by what it keeps between sessions (trained
tokenizers, the catalog's answers), and the one way a file is put there: whole, then renamed into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Where the composer keeps what it learnt in an earlier session (COMPOSER_CACHE overrides the default).
CACHE_ENV = "COMPOSER_CACHE"


def cache_root() -> Path:
    """$COMPOSER_CACHE, else $XDG_CACHE_HOME/transformers-composer (~/.cache/transformers-composer)."""
    root = os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "transformers-composer"
    return Path(root).expanduser()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole: a reader (another kernel) sees the old file or the new one, never half of one.
    OSError if the folder cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
