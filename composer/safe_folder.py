"""Writing a checkpoint folder so that no data is ever lost.

A save builds into a hidden sibling ``.NAME.XXXXXXXX.partial``, records every file it wrote in
``composer.files.json`` (name, size, modification time), then swaps the new folder and the old one in
one atomic ``renameat2(RENAME_EXCHANGE)`` (two renames where the filesystem refuses the exchange; an
interruption between them is undone by the next save or ``repair``). Only a folder whose every file is
listed in its ``composer.files.json``, unchanged, is ever replaced or deleted, so a file a person added
or edited is never removed; an empty folder holds nothing to lose. A lock beside the target
(``.NAME.composer.lock``, removed when released) serialises saves to one target, and leftovers of
killed saves (hidden ``.NAME.XXXXXXXX.partial`` and ``.old`` folders) are cleaned up by the next one,
under that lock. The names are the composer's: a person's folder is never named like that.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from composer import limits
from composer.errors import ComposerWarning, SpecError, one_line, shown
from composer.paths import checked_path, read_regular
from composer.progress import Meter

MANIFEST = "composer.files.json"
_TAG = "transformers-composer"  # what a manifest says wrote the folder
_HEX = 8  # random hex digits in a leftover's name
_SIBLING_EXTRA = len(f"..{'0' * _HEX}.partial")  # what a hidden sibling adds to the target's name


class FolderExists(SpecError):
    """The target exists and overwrite was not asked for; ``told(how)`` says how to ask, in the words of
    the caller (``pass --overwrite`` on the command line, ``tick overwrite`` in the save panel)."""

    def __init__(self, folder: Path, appeared: bool = False, how: str = "pass overwrite=True"):
        self.folder, self.appeared = folder, appeared
        when = " (it appeared during the save and is kept)" if appeared else ""
        super().__init__("DIR", f"{folder} exists{when}; {how} to replace it")

    def told(self, how: str) -> FolderExists:
        return FolderExists(self.folder, self.appeared, how)


# ----- the target ---------------------------------------------------------------------------------


def target_path(directory: str | os.PathLike) -> Path:
    """The absolute folder a save may write, or the one-line reason it may not (before any change)."""
    if isinstance(directory, str) and not directory.strip():
        raise SpecError("DIR", "no folder given (an empty name is the current folder); name a new folder, "
                               "e.g. my_model")
    path = checked_path(directory, "DIR")
    name_room = limits.MAX_NAME_BYTES - _SIBLING_EXTRA
    if len(os.fsencode(path.name)) > name_room:
        raise SpecError("DIR", f"a folder name of {len(os.fsencode(path.name)):,} bytes; at most {name_room} (a save "
                               "needs room for its hidden .NAME.*.partial sibling)")
    try:
        target = path.resolve()
    except (OSError, RuntimeError, ValueError) as err:
        raise SpecError("DIR", f"{shown(str(path))}: {one_line(err)}") from None
    if target.parent == target:
        raise SpecError("DIR", f"{target} is the filesystem root; name a new folder")
    for what, place in (("your home folder", _place(Path.home)), ("the current folder", _place(Path.cwd))):
        if place is not None and (target == place or target in place.parents):
            where = "is" if target == place else "holds"
            raise SpecError("DIR", f"{target} {where} {what}; a save replaces its folder whole: name a new "
                                   "folder, e.g. my_model")
    if target.exists() and not target.is_dir():
        raise SpecError("DIR", f"{target} is a file, not a folder")
    return target


def _place(where: Callable[[], Path]) -> Path | None:
    try:
        return where().resolve()
    except (OSError, RuntimeError):  # no home (HOME unset, no passwd entry), or a deleted cwd
        return None


def admit(target: Path, overwrite: bool, appeared: bool = False) -> None:
    """Refuse a target a save may not replace: an existing one without overwrite, and whatever the
    overwrite any folder holding something the composer did not write."""
    if not os.path.lexists(target):
        return
    if not target.is_dir() or target.is_symlink():
        raise SpecError("DIR", f"{target} is a file, not a folder")
    reason = _not_ours(target)
    if reason:
        raise SpecError("DIR", f"{target} {reason}; a save never replaces it, even with overwrite: name another "
                               "folder or move it away")
    if not overwrite:
        raise FolderExists(target, appeared)


# ----- what a save wrote --------------------------------------------------------------------------


def _entries(folder: Path) -> tuple[dict[str, os.stat_result], list[str]]:
    """The regular files under a folder by relative path, and anything else (links, sockets, …)."""
    files, other = {}, []
    for root, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            path = Path(root, name)
            rel = path.relative_to(folder).as_posix()
            st = path.lstat()
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                other.append(rel)
            elif path.is_file():
                files[rel] = st
    return files, other


def _seal(folder: Path) -> None:
    """Flush a finished build to disk and record what it wrote: the manifest, written last, is what
    makes a folder complete."""
    files, _ = _entries(folder)
    for rel in files:
        _fsync(folder / rel)
    listed = {rel: [st.st_size, st.st_mtime_ns] for rel, st in sorted(files.items())}
    (folder / MANIFEST).write_text(json.dumps({"written_by": _TAG, "files": listed}, indent=1), encoding="utf-8")
    _fsync(folder / MANIFEST)
    _fsync(folder)


def _manifest(folder: Path) -> dict[str, list[int]] | None:
    try:
        data = json.loads(read_regular(folder / MANIFEST, MANIFEST, limits.MAX_FOLDER_JSON_BYTES))
        files = data["files"]
        if data.get("written_by") != _TAG or not isinstance(files, dict):
            return None
        for rel, entry in files.items():
            size, mtime = entry
            if rel == MANIFEST or Path(rel).is_absolute() or ".." in Path(rel).parts or \
                    not isinstance(size, int) or not isinstance(mtime, int):
                return None
        return files
    except (SpecError, ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return None  # SpecError: missing, unreadable, too large, or not a regular file (a FIFO would hang a read)


def _not_ours(folder: Path) -> str | None:
    """Why a save may not delete this folder (None: everything in it is a file a save wrote, unchanged,
    or it is empty)."""
    files, other = _entries(folder)
    if not files and not other:
        return None
    listed = _manifest(folder)
    if listed is None:
        return f"was not written by the composer (no valid {MANIFEST})"
    files.pop(MANIFEST, None)
    added = sorted(other + [rel for rel in files if rel not in listed])
    if added:
        return f"holds files the composer did not write ({_few(added)})"
    changed = sorted(rel for rel, st in files.items() if [st.st_size, st.st_mtime_ns] != listed[rel])
    if changed:
        return f"holds files changed since the composer wrote them ({_few(changed)})"
    return None


def _complete(folder: Path) -> bool:
    """A folder a save finished: a manifest and every file it lists, unchanged."""
    listed = _manifest(folder)
    if listed is None:
        return False
    files, _ = _entries(folder)
    return all(rel in files and [files[rel].st_size, files[rel].st_mtime_ns] == entry
               for rel, entry in listed.items())


def _discard(folder: Path) -> list[str]:
    """Delete what a save wrote in a folder (its listed files, then the manifest, then the emptied
    folders) and nothing else; returns what is left, i.e. what the folder is kept for."""
    listed = _manifest(folder)
    if listed is not None:
        files, _ = _entries(folder)
        for rel, entry in listed.items():
            if rel in files and [files[rel].st_size, files[rel].st_mtime_ns] == entry:
                (folder / rel).unlink()
        (folder / MANIFEST).unlink()
    for root, dirs, _names in os.walk(folder, topdown=False):
        for name in dirs:
            with _quiet(errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                os.rmdir(Path(root, name))
    with _quiet(errno.ENOTEMPTY, errno.EEXIST):
        os.rmdir(folder)
    if not folder.exists():
        return []
    files, other = _entries(folder)
    return sorted([*files, *other])


def _few(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


@contextmanager
def _quiet(*codes: int) -> Iterator[None]:
    try:
        yield
    except OSError as err:
        if err.errno not in codes:
            raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ----- atomic renames -----------------------------------------------------------------------------

_RENAME_NOREPLACE, _RENAME_EXCHANGE, _AT_FDCWD = 1, 2, -100


def _load_renameat2():
    """glibc's renameat2 (2.28+), or None (another libc or system: the fallbacks apply)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def _rename2(src: Path, dst: Path, flags: int) -> bool:
    """renameat2 with flags; False when this system or filesystem does not do them."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(dst))


def _move_in(src: Path, dst: Path) -> None:
    """Rename src to dst, never over anything that is at dst (a plain rename would replace an empty
    folder there)."""
    if not _rename2(src, dst, _RENAME_NOREPLACE):
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
        os.rename(src, dst)


# ----- the save -----------------------------------------------------------------------------------


@contextmanager
def writing(target: Path, overwrite: bool, meter: Meter) -> Iterator[Path]:
    """The hidden folder to build in; when the block ends it replaces the target (or, on any error,
    it and the parent folders made for it are removed). ``target`` comes from ``target_path``. A
    cancel is taken until the replace starts (``meter.final``)."""
    admit(target, overwrite)  # before building: a refusal costs nothing
    existed = os.path.lexists(target)
    made = _make_parents(target.parent)
    try:
        with _locked(target):
            restored = _restore(target)
            _warn([restored] if restored else [])
            _warn(_repair(target, final=False))
            existed = existed or bool(restored)
            admit(target, overwrite, appeared=not existed)
            tmp = _new_partial(target)
            try:
                yield tmp
                try:
                    _seal(tmp)
                    admit(target, overwrite, appeared=not existed)  # under the lock, right before the replace
                    _replace(tmp, target, meter)
                    _fsync(target.parent)
                except FileExistsError:  # a folder arrived in the instant before the rename
                    raise _changed(target) from None
                except OSError as err:
                    raise SpecError("DIR", f"cannot write {target}: {err.strerror or one_line(err)}") from None
            except BaseException:
                if tmp.exists():
                    _remove_build(tmp)
                raise
            _warn(_repair(target, final=True))
    except BaseException:
        for folder in reversed(made):  # deepest first; only folders this save made, only if empty
            with _quiet(errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                os.rmdir(folder)
        raise


def _make_parents(parent: Path) -> list[Path]:
    missing = []
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    if not parent.is_dir():
        raise SpecError("DIR", f"{parent} is a file, not a folder")
    made = []
    try:
        for folder in reversed(missing):
            os.mkdir(folder)  # mode 0o777 less the umask: the user's normal permissions
            made.append(folder)
    except OSError as err:
        for folder in reversed(made):
            with _quiet(errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                os.rmdir(folder)
        raise SpecError("DIR", f"cannot create {err.filename or folder}: {err.strerror}") from None
    return made


def _new_partial(target: Path) -> Path:
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(_HEX // 2)}.partial")
        try:
            os.mkdir(tmp)  # not tempfile.mkdtemp: that makes drwx------
            return tmp
        except FileExistsError:
            continue
        except OSError as err:
            raise SpecError("DIR", f"cannot write in {target.parent}: {err.strerror}") from None


def _remove_build(tmp: Path) -> None:
    """Remove this save's own build folder: whole while it has no manifest (only the build wrote in it),
    by its manifest once it has one."""
    if (tmp / MANIFEST).exists():
        _discard(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace(tmp: Path, target: Path, meter: Meter) -> None:
    """Put the sealed build at the target; at every instant the old or the new folder is there (but
    for the fallback's two renames, which ``repair`` undoes if this process dies between them)."""
    meter.final("replacing the folder")
    if not os.path.lexists(target):
        _move_in(tmp, target)
        return
    if not any(target.iterdir()):  # an empty folder: nothing to keep; rmdir fails if a file arrived
        try:
            os.rmdir(target)
        except OSError:
            raise _changed(target) from None
        _move_in(tmp, target)
        return
    if _rename2(tmp, target, _RENAME_EXCHANGE):
        old = tmp  # the old folder is now where the build was
        if _not_ours(old):  # something was added in the instant before the swap: swap back
            _rename2(tmp, target, _RENAME_EXCHANGE)
            raise _changed(target)
    else:
        old = target.with_name(tmp.name.removesuffix(".partial") + ".old")
        os.rename(target, old)
        try:
            if _not_ours(old):
                raise _changed(target)
            meter.begin("moving the new folder in")
            _move_in(tmp, target)
        except BaseException:
            if not os.path.lexists(target):
                os.rename(old, target)
            raise
    meter.begin("removing the old folder")
    rest = _discard(old)
    if rest:
        _warn([f"kept {old}: it holds files a save did not write ({_few(rest)})"])


def _changed(target: Path) -> SpecError:
    return SpecError("DIR", f"{target} was created or changed during the save and is kept as it is")


# ----- leftovers and repair -----------------------------------------------------------------------


def _leftovers(target: Path) -> list[Path]:
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{{_HEX}}}\.(partial|old)")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return sorted(target.parent / name for name in names if pattern.fullmatch(name))


def repair(target: str | os.PathLike) -> list[str]:
    """Finish what interrupted saves of this target left: restore the old folder when a save was
    killed between its two renames, remove the hidden copies of killed saves. Returns one line per
    thing done or kept (empty: nothing to do). ``check`` calls this before it reads a folder."""
    try:
        folder = checked_path(target, "DIR").resolve()
    except (OSError, RuntimeError, ValueError) as err:
        raise SpecError("DIR", f"{shown(os.fspath(target))}: {one_line(err)}") from None
    if not _leftovers(folder):
        return []
    with _locked(folder):
        restored = _restore(folder)
        return [restored] * bool(restored) + _repair(folder, final=True)


def _restore(target: Path) -> str | None:
    """Under the lock: a save killed between the fallback's two renames left no target and the old
    folder complete under ``.NAME.*.old``; move it back."""
    if os.path.lexists(target):
        return None
    olds = [p for p in _leftovers(target) if p.name.endswith(".old") and _complete(p)]
    if len(olds) > 1:
        raise SpecError("DIR", f"{target} is missing and {len(olds)} complete copies of it are beside it "
                               f"({_few([p.name for p in olds])}); all kept: rename one to {target.name}")
    if not olds:
        return None
    _move_in(olds[0], target)
    return f"restored {target} from {olds[0].name} (a save was interrupted while replacing it)"


def _repair(target: Path, final: bool) -> list[str]:
    """Under the lock. A complete leftover is deleted only while a complete folder is at the target
    (it may be the only copy otherwise); the first pass of a save leaves those to its last."""
    lines = []
    leftovers = _leftovers(target)
    target_whole = target.is_dir() and _complete(target) and not _not_ours(target)
    for path in leftovers:
        if not path.is_dir() or path.is_symlink():
            continue
        if _manifest(path) is None:
            if path.name.endswith(".partial"):  # a build that never finished: only the build wrote there
                shutil.rmtree(path, ignore_errors=True)
                lines.append(f"removed {path.name}, left by a killed save")
            elif final:
                lines.append(f"kept {path}: not written by the composer")
        elif _complete(path) and not target_whole:
            if final:
                lines.append(f"kept {path}: a complete copy, and {target} is not a complete checkpoint folder")
        else:
            rest = _discard(path)
            lines.append(f"kept {path}: it holds files a save did not write ({_few(rest)})" if rest
                         else f"removed {path.name}, left by an interrupted save")
    return lines


def _warn(lines: list[str]) -> None:
    for line in lines:
        warnings.warn(f"DIR: {line}", ComposerWarning, stacklevel=4)


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """One save (or repair) of a target at a time; a second waits a bounded time, then is refused. The
    lock file is removed while still held (filelock retries on an unlinked file)."""
    from filelock import FileLock, Timeout

    path = target.with_name(f".{target.name}.composer.lock")
    lock = FileLock(path, timeout=limits.SAVE_LOCK_WAIT_SECONDS)
    try:
        lock.acquire()
    except Timeout:
        raise SpecError("DIR", f"another save to {target} is running (waited {limits.SAVE_LOCK_WAIT_SECONDS:g} s); "
                               "try again when it has finished") from None
    except OSError as err:
        raise SpecError("DIR", f"cannot lock {target}: {err.strerror or one_line(err)}") from None
    try:
        yield
    finally:
        with _quiet(errno.ENOENT):
            path.unlink()
        lock.release()
