"""The catalog's answers kept on disk, one file per transformers version, so that a composer can be drawn
in a fresh kernel without importing transformers or torch (~8 s): the model types, a type's config
fields, form rows and heads, whether it takes a backbone are read here, and computed (and kept) only the
first time they are asked of that version.

The file is a cache and nothing more: it is checked whole when read (its format, the versions and the
engine it was computed by, a digest of its entries) and anything else (a damaged, truncated or foreign
file, an entry that does not decode) is a miss: the answer is computed again and the file rewritten,
whole and atomically. A change of the engine's own code (a new domain, a new field rule) is a new engine
digest, so a file never outlives the code that computed it."""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.metadata
import json
import threading
from pathlib import Path
from typing import Any, Callable

from composer.limits import MAX_CATALOG_CACHE_BYTES
from composer.user_cache import cache_root, write_atomic

FORMAT = 1
ENGINE = Path(__file__).resolve().parent  # the composer package: every source file of it is in the digest
MISSING = object()
WRITE_BEHIND_SECONDS = 1.0  # new answers reach the file this long after the first of them (and at exit)


def package_version(name: str) -> str:
    """The installed version of a distribution, read from its metadata (importing it could take seconds)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.cache
def engine_digest() -> str:
    """A digest of the composer's sources: the answers kept were computed by exactly this code."""
    digest = hashlib.sha256()
    for path in sorted(ENGINE.rglob("*.py")):
        digest.update(path.relative_to(ENGINE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _entries_digest(entries: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest()


class Store:
    """One cache file: read once, checked whole; new answers are written behind, whole, at most once per
    WRITE_BEHIND_SECONDS and at exit (a sweep over 800 types asks thousands: rewriting the file for each
    was quadratic), merged with what another process added meanwhile. Thread-safe: a first render on the
    kernel's thread and a validation on the worker read and add answers at once. A file that cannot be
    written only means no cache."""

    def __init__(self, path: Path, stamp: dict[str, str]):
        self.path, self.stamp = path, stamp
        self._lock = threading.Lock()
        self._entries: dict[str, Any] | None = None
        self._new: dict[str, Any] = {}  # answers not written yet
        self._timer: threading.Timer | None = None

    def _read(self) -> dict[str, Any]:
        """The entries of the file if it is whole and of this stamp, else none."""
        try:
            with self.path.open("rb") as file:
                data = file.read(MAX_CATALOG_CACHE_BYTES + 1)
            if len(data) > MAX_CATALOG_CACHE_BYTES:
                return {}
            content = json.loads(data.decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return {}
        if not isinstance(content, dict) or content.get("format") != FORMAT or content.get("stamp") != self.stamp:
            return {}
        entries = content.get("entries")
        if not isinstance(entries, dict) or content.get("digest") != _entries_digest(entries):
            return {}
        return entries

    def get(self, key: str) -> Any:
        """The answer kept under ``key``, or MISSING."""
        with self._lock:
            if self._entries is None:
                self._entries = self._read()
            return self._entries.get(key, MISSING)

    def put(self, key: str, value: Any) -> None:
        """Keep an answer: at once in memory, in the file once the write-behind runs (``flush``)."""
        with self._lock:
            if self._entries is None:
                self._entries = self._read()
            self._entries[key] = self._new[key] = value
            if self._timer is None:
                self._timer = threading.Timer(WRITE_BEHIND_SECONDS, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write the new answers now, merged with the file as it is (another process may have added some)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._new:
                return
            entries = {**self._read(), **(self._entries or {}), **self._new}
            self._entries, self._new = entries, {}
            text = json.dumps({"format": FORMAT, "stamp": self.stamp, "digest": _entries_digest(entries),
                               "entries": entries}, sort_keys=True)
            try:
                write_atomic(self.path, text.encode("utf-8"))
            except OSError:  # a read-only or full cache folder: answers are computed each session instead
                pass


@functools.cache
def _stamp() -> dict[str, str]:
    return {"transformers": package_version("transformers"), "engine": engine_digest()}


def store() -> Store:
    """The cache file of this transformers version where $COMPOSER_CACHE points now:
    .../catalog/transformers-<version>.json."""
    return _store(cache_root() / "catalog" / f"transformers-{_stamp()['transformers']}.json")


_STORES: dict[Path, Store] = {}


def _store(path: Path) -> Store:
    return _STORES[path] if path in _STORES else _STORES.setdefault(path, Store(path, _stamp()))


def remembered(encode: Callable[[Any], Any] = lambda value: value, decode: Callable[[Any], Any] = lambda data: data,
               depends: tuple[str, ...] = ()):
    """Cache a catalog function in memory and in the cache file, by its name and arguments (JSON values)
    and the versions of the ``depends`` packages (timm's model list is timm's, not transformers'). The
    answer is kept as ``encode(value)`` (plain JSON) and read back with ``decode``, also when just computed:
    a session that computes it and one that reads it get equal values. An entry that does not decode is
    computed again; a call that raises keeps nothing. ``__wrapped__`` computes, cache aside."""

    def wrap(fn):
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        @functools.cache
        def cached(*args):
            key = json.dumps([name, list(args), {p: package_version(p) for p in depends}])
            kept = store().get(key)
            if kept is not MISSING:
                try:
                    return decode(kept)
                except (TypeError, ValueError, KeyError, AttributeError):  # an entry of another shape
                    pass
            kept = json.loads(json.dumps(encode(fn(*args))))  # as a later session reads it: tuples as lists
            store().put(key, kept)
            return decode(kept)

        return cached

    return wrap


@atexit.register
def _flush_all() -> None:
    """What a process learnt is kept when it ends (a kernel shut down, a test run, the command line)."""
    for kept in list(_STORES.values()):
        kept.flush()
