"""Every path a person gives (a spec file, a folder, a vocabulary, an output folder) checked before
any filesystem call, and files read without hanging or reading forever."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from composer.errors import SpecError, one_line, shown
from composer.limits import MAX_NAME_BYTES, MAX_PATH_BYTES


def checked_path(text, field: str) -> Path:
    """``text`` (a str or path) with ``~`` expanded, or SpecError at ``field``: not a path, empty, a
    NUL byte, ``~nouser``, longer than the system allows. Touches no file (a too-long name would make
    every later call raise "File name too long")."""
    if not isinstance(text, (str, os.PathLike)):
        raise SpecError(field, f"expected a path (a string), got {shown(text)}")
    raw = os.fspath(text)
    if not isinstance(raw, str):
        raise SpecError(field, f"expected a path as a string, got {shown(raw)}")
    if not raw:
        raise SpecError(field, "an empty path")
    if "\0" in raw:
        raise SpecError(field, f"{shown(raw)} holds a NUL character, which no file name can")
    expanded = os.path.expanduser(raw)
    if expanded.startswith("~"):  # os.path.expanduser leaves "~nouser" as it is (pathlib raises)
        user = raw[1:].split("/", 1)[0]
        raise SpecError(field, f"{shown(raw)}: " + (f"no user {shown(user)} on this system" if user
                                                   else "the home directory is unknown (HOME is not set)"))
    try:
        encoded = os.fsencode(expanded)
    except UnicodeEncodeError:
        raise SpecError(field, f"{shown(raw)} is not a valid file name (a lone surrogate)") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise SpecError(field, f"a path of {len(encoded):,} bytes; the limit is {MAX_PATH_BYTES:,} (PATH_MAX)")
    longest = max(encoded.split(b"/"), key=len)
    if len(longest) > MAX_NAME_BYTES:
        raise SpecError(field, f"a name in the path is {len(longest):,} bytes long; the limit is {MAX_NAME_BYTES} "
                               f"(NAME_MAX): {shown(os.fsdecode(longest))}")
    return Path(expanded)


def read_regular(path: Path, field: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else SpecError at ``field``. Opened
    non-blocking and checked with fstat before reading: a FIFO cannot hang the read, /dev/zero cannot
    fill memory, and a file that grows while read stops at the limit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise SpecError(field, f"cannot read {shown(str(path))}: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(field, f"{shown(str(path))} is not a regular file")
        if info.st_size > limit:
            raise SpecError(field, f"{shown(str(path))} is {info.st_size:,} bytes; the limit is {limit:,}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as err:
        raise SpecError(field, f"cannot read {shown(str(path))}: {err.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise SpecError(field, f"{shown(str(path))} is over {limit:,} bytes, the limit")
    return data


def is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder; a folder that cannot be looked at (no permission) counts as
    none, as in Python 3.12+ (3.11's pathlib raises PermissionError)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a FIFO or device: those could hang a read)."""
    try:
        return path.is_file()
    except OSError:
        return False


def read_json_object(path: Path, field: str, limit: int) -> dict[str, Any]:
    """A JSON object from a regular file of at most ``limit`` bytes, or SpecError at ``field``: not UTF-8,
    empty, not JSON (an integer too long to convert included), nested too deeply, or not an object."""
    raw = read_regular(path, field, limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(field, f"not UTF-8 text (byte {raw[err.start]:#04x} at offset {err.start})") from None
    if not text.strip():
        raise SpecError(field, "is empty; expected a JSON object")
    try:
        value = json.loads(text)
    except RecursionError:
        raise SpecError(field, "nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, or an integer too long to convert
        raise SpecError(field, f"not valid JSON: {one_line(err)}") from None
    if not isinstance(value, dict):
        raise SpecError(field, f"expected a JSON object, got {json_kind(value)}")
    return value


def json_kind(value: Any) -> str:
    """A parsed JSON value's kind, in words."""
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def stamp(value: Any) -> tuple | None:
    """What a file or folder named in a Spec looks like now (for a folder: its entries' names, sizes
    and mtimes), without opening anything; None when it is not there or not a path at all."""
    if not isinstance(value, (str, os.PathLike)):
        return None
    try:
        path = Path(os.path.expanduser(value))  # "~nouser" stays as written
        st = path.stat()
        if not stat.S_ISDIR(st.st_mode):
            return (st.st_size, st.st_mtime_ns)
        return tuple((e.name, s.st_size, s.st_mtime_ns) for e in sorted(path.iterdir()) if (s := e.stat()))
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return None
