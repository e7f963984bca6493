"""One generated case, run as a user would meet it: in a fresh sandbox (its own cwd and HOME), under a
hang detector and a memory cap, with the properties every answer of the composer must have."""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import re
import resource
import shutil
import signal
import struct
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from composer.errors import SpecError

# Generous: a hang detector, not a timing assertion (a case takes well under a second).
CASE_SECONDS = float(os.environ.get("PROPS_CASE_SECONDS", 60))
# Address space a case may add, so that a size blowup is a MemoryError here, not the machine's OOM killer.
CASE_ADDRESS_SPACE = 6 * 2**30
# Peak resident memory a case may add (the cap above bounds it too; this is what is asserted).
CASE_RSS_GROWTH = 2 * 2**30
MAX_ERROR_CHARS = 500
# PROPS_SCALE=0.1 for a quick local run; the suite's counts are for scale 1.
SCALE = float(os.environ.get("PROPS_SCALE", 1))

CASES: Counter[str] = Counter()  # model type (or kind of input) -> cases run, for the summary line
# PROPS_SURVEY=FILE: record every failing case there (one JSON line each) and go on, instead of failing
# and shrinking; a local tool for listing everything that breaks in one run.
SURVEY = os.environ.get("PROPS_SURVEY")


def examples(n: int) -> int:
    """A test's fixed number of generated examples (derandomized: the same ones every run)."""
    return max(1, round(n * SCALE))


class Hang(BaseException):
    """Raised in the main thread when a case passes CASE_SECONDS (a BaseException, so that the
    engine's ``except Exception`` cannot turn it into a SpecError)."""


def _alarm(signum, frame):
    raise Hang(f"case still running after {CASE_SECONDS:.0f} s")


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def bounded():
    """No hang (SIGALRM raises Hang; faulthandler dumps every thread if even that is stuck in C),
    no unbounded memory (RLIMIT_AS), and the peak RSS growth checked afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + CASE_ADDRESS_SPACE
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    faulthandler.dump_traceback_later(CASE_SECONDS + 30, exit=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert growth < CASE_RSS_GROWTH, f"peak memory grew by {growth / 2**30:.1f} GiB in one case"


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its kind, size and content hash-free fingerprint (mtime_ns)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            out[str(path.relative_to(root))] = (st.st_mode >> 12, st.st_size, st.st_mtime_ns)
    return out


@dataclass
class Sandbox:
    root: Path
    cwd: Path  # root/work/cwd: ".." is still inside the sandbox
    home: Path
    user_file: Path  # a file of the user's in cwd, which nothing may delete


@contextlib.contextmanager
def case(kind: str, *shown):
    """A fresh sandbox as cwd and HOME for one generated case (``shown``: its inputs, for the
    survey), removed afterwards."""
    CASES[kind] += 1
    root = Path(tempfile.mkdtemp(prefix="case-", dir=os.environ.get("PROPS_TMP")))
    cwd, home = root / "work" / "cwd", root / "home"
    cwd.mkdir(parents=True)
    home.mkdir()
    user_file = cwd / "notes.txt"
    user_file.write_text("the user's own work\n")
    old_cwd, old_home = os.getcwd(), os.environ.get("HOME")
    os.chdir(cwd)
    os.environ["HOME"] = str(home)
    try:
        yield Sandbox(root, cwd, home, user_file)
    except (AssertionError, Hang) as err:
        if not SURVEY:
            raise
        _record(kind, shown, err)
    finally:
        os.chdir(old_cwd)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home
        shutil.rmtree(root, ignore_errors=True)


def _record(kind: str, shown: tuple, err: BaseException) -> None:
    cause = err.__cause__
    line = {"test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0], "kind": kind,
            "failure": f"{type(err).__name__}: {_short(err)}",
            "cause": f"{type(cause).__name__}: {_short(cause)}" if cause else "",
            "where": _last_engine_frame(cause or err), "input": [repr(x)[:400] for x in shown]}
    with open(SURVEY, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def _last_engine_frame(err: BaseException) -> str:
    import traceback

    frames = [f for f in traceback.extract_tb(err.__traceback__) if "/composer/" in f.filename]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno} {frames[-1].name}" if frames else ""


def assert_spec_error(err: BaseException) -> None:
    """Property 1: the only error is SpecError, one short line with a non-empty field."""
    if not isinstance(err, SpecError):
        raise AssertionError(f"not a SpecError: {type(err).__name__}: {_short(err)}") from err
    text = str(err)
    assert "\n" not in text and "\r" not in text, f"SpecError is not one line: {text[:200]!r}"
    assert len(text) <= MAX_ERROR_CHARS, f"SpecError of {len(text)} chars: {text[:200]!r}..."
    assert isinstance(err.field, str) and err.field.strip(), f"SpecError without a field: {text[:200]!r}"


def _short(err: BaseException) -> str:
    return " ".join(str(err).split())[:300]


def call(fn, *args, **kwargs):
    """(result, None) or (None, SpecError); any other exception fails the property."""
    try:
        return fn(*args, **kwargs), None
    except Hang:
        raise
    except MemoryError as err:
        raise AssertionError("MemoryError: a size reached the per-case memory cap unchecked") from err
    except BaseException as err:  # noqa: BLE001 - the property is that only SpecError escapes
        assert_spec_error(err)
        return None, err


ERROR_LINE = re.compile(r"^error: (\S[^:]*?): \S")


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """``composer.cli.main`` in this process, as a shell would see it: exit code, stdout, stderr."""
    from composer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except Hang:
            raise
        except SystemExit as exit_:
            code = exit_.code
        except BaseException as exc:  # noqa: BLE001 - a traceback reaches the user
            raise AssertionError(f"traceback from the command line: {type(exc).__name__}: {_short(exc)}") from exc
    return code, out.getvalue(), err.getvalue()


def assert_cli(code: int, stdout: str, stderr: str) -> None:
    """Property 2: exit 0 or 2, no traceback; on 2 exactly one error line naming a field, nothing on stdout."""
    assert "Traceback" not in stderr, f"traceback on stderr: {stderr[-300:]!r}"
    assert code in (0, 2), f"exit {code}: {stderr[-300:]!r}"
    if code == 2:
        lines = [line for line in stderr.splitlines() if not line.startswith("warning: ")]
        assert len(lines) == 1, f"{len(lines)} lines on stderr: {stderr[:300]!r}"
        assert ERROR_LINE.match(lines[0]), f"error line does not name a field: {lines[0][:200]!r}"
        assert len(lines[0]) <= MAX_ERROR_CHARS + len("error: "), f"error line of {len(lines[0])} chars"
        assert stdout == "", f"stdout on an error: {stdout[:200]!r}"


def assert_compiles(code: str) -> None:
    """Property 6: exported code is Python."""
    compile(code, "<spec>", "exec")


# ----- damaged folders -------------------------------------------------------------------------


def apply_damage(folder: Path, damages: list[tuple], outside: Path) -> dict:
    """Carry out the recipes of ``strategies.damages`` on a copy of a checkpoint folder (every file
    replaced, never edited in place: the copy's files may be hard links to the originals). Returns
    what the damage implies, as the whole recipe left the folder (a later step can undo an earlier one):
    {"unmatched": weights renamed, "remote": an auto_map in a file transformers takes code from,
    "readable": every JSON file the composer reads is a JSON object, so a refusal can name the auto_map}."""
    from strategies import EVIL_CODE, dump

    implied = {"unmatched": False}

    def replace(name: str, data: bytes) -> None:
        path = folder / name
        if path.is_symlink() or path.exists():
            path.unlink() if not path.is_dir() or path.is_symlink() else shutil.rmtree(path)
        path.write_bytes(data)

    def read(name: str) -> bytes | None:
        path = folder / name
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None

    for op, *args in damages:
        if op in ("set", "del"):
            raw = read("config.json")
            config = _json_object(raw) if raw is not None else {}
            if config is None:  # an earlier step left no JSON object to edit
                continue
            if op == "set":
                config[args[0]] = args[1]
                if args[0] == "auto_map":
                    (folder / "evil.py").write_text(EVIL_CODE)
            else:
                config.pop(args[0], None)
            replace("config.json", dump(config).encode("utf-8", "surrogatepass"))
        elif op == "remote":  # code of the folder's own: transformers would run it for an unknown type
            raw = read("config.json")
            config = (_json_object(raw) if raw is not None else None) or {}
            config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}
            if args[0] == "unknown_type":
                config["model_type"] = "evil_type"
            elif args[0] == "no_type":
                config.pop("model_type", None)
            replace("config.json", dump(config).encode("utf-8", "surrogatepass"))
            (folder / "evil.py").write_text(EVIL_CODE)
        elif op == "config_bytes":
            replace("config.json", args[0])
        elif op == "truncate":
            data = read(args[0])
            if data is not None:
                replace(args[0], data[: int(len(data) * args[1])])
        elif op in ("flip", "header_length", "lie"):
            data = read("model.safetensors")
            if data is None or len(data) < 8:
                continue
            n = struct.unpack("<Q", data[:8])[0]
            if op == "header_length":
                data = struct.pack("<Q", args[0]) + data[8:]
            elif op == "flip":
                end = min(8 + n, len(data))  # an earlier step may have set a length past the file
                start, stop = {"header_length": (0, 8), "header": (8, end), "data": (end, len(data))}[args[0]]
                if stop > start:
                    at = start + int((stop - start - 1) * args[1])
                    data = data[:at] + bytes([data[at] ^ args[2]]) + data[at + 1:]
            else:
                header = _json_object(data[8:8 + n])
                if not header:  # an earlier step broke the header: nothing left to lie about
                    continue
                data = _lie(header, data[8 + n:], args[0], implied)
            replace("model.safetensors", data)
        elif op == "delete":
            path = folder / args[0]
            if path.is_file() or path.is_symlink():
                path.unlink()
        elif op == "pickle_only":
            path = folder / "model.safetensors"
            if path.exists():
                path.unlink()
            replace("pytorch_model.bin", _evil_pickle())
            implied["pickle"] = True
        elif op == "shard_index":
            (outside / "outside.safetensors").write_bytes(read("model.safetensors") or b"")
            weights = {"embeddings.word_embeddings.weight": args[0], "distilbert.embeddings.word_embeddings.weight":
                       args[0]}
            replace("model.safetensors.index.json", json.dumps({"metadata": {}, "weight_map": weights}).encode())
            if (folder / "model.safetensors").exists():
                (folder / "model.safetensors").unlink()
        elif op == "json_file":
            name, value = args
            if isinstance(value, dict) and "auto_map" in value:
                (folder / "evil.py").write_text(EVIL_CODE)
            replace(name, value if isinstance(value, bytes) else json.dumps(value).encode())
        elif op == "config_dir":
            replace("config.json", b"")
            (folder / "config.json").unlink()
            (folder / "config.json").mkdir()
        elif op == "symlink_config":
            path = folder / "config.json"
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            if args[0] == "../outside.json":
                (outside / "outside.json").write_text('{"model_type": "bert"}')
            path.symlink_to(args[0])
    found = {name: _json_object(read_followed(folder / name)) for name in CODE_FILES
             if read_followed(folder / name) is not None}
    implied["remote"] = any(isinstance(v, dict) and "auto_map" in v for v in found.values())
    implied["readable"] = "config.json" in found and all(isinstance(v, dict) for v in found.values())
    return implied


# The JSON files whose auto_map makes transformers import the folder's code (generation_config.json's
# auto_map names no code); the composer reads each of them whole.
CODE_FILES = ("config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json")


def read_followed(path: Path) -> bytes | None:
    """A file's bytes through any symlink, None if it is no regular file (a folder, /dev/zero, a loop)."""
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _json_object(raw: bytes) -> dict | None:
    """raw as a JSON object, else None (not UTF-8, not JSON, nested past the recursion limit, a list)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _lie(header: dict, body: bytes, how: str, implied: dict) -> bytes:
    """A safetensors file whose header says something the data or the config does not."""
    meta = header.pop("__metadata__", None)
    names = sorted(header)
    first = names[0]
    if how == "shape":
        header[first]["shape"] = [s + 1 for s in header[first]["shape"]] or [1]
    elif how == "offsets":
        header[first]["data_offsets"] = [0, len(body) * 4 + 16]
    elif how == "dtype":
        header[first]["dtype"] = "F64" if header[first]["dtype"] != "F64" else "I8"
    elif how == "names":
        header = {f"zzz.{k}": v for k, v in header.items()}
        implied["unmatched"] = True
    elif how == "drop":
        header = {k: v for k, v in header.items() if k == first}
    elif how == "extra":
        header["zzz.extra"] = dict(header[first])
    if meta is not None:
        header["__metadata__"] = meta
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


class _Marker:
    """Unpickling this writes REMOTE_CODE_RAN beside the .bin: proof that a pickle was opened."""

    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('REMOTE_CODE_RAN').write_text('pickle opened')",))


def _evil_pickle() -> bytes:
    import pickle

    return pickle.dumps({"weight": _Marker()})


def copy_folder(src: Path, dst: Path) -> Path:
    """A cheap copy: hard links (files are replaced, never edited, by apply_damage)."""
    def link(a, b):
        try:
            os.link(a, b)
        except OSError:  # another file system
            shutil.copy2(a, b)

    shutil.copytree(src, dst, copy_function=link, symlinks=True)
    return dst


def markers(root: Path) -> list[str]:
    """Every REMOTE_CODE_RAN file under root: code from a folder ran."""
    return [str(p) for p in root.rglob("REMOTE_CODE_RAN")]


def report_line() -> str:
    types = {k for k in CASES if not k.startswith("<")}
    return (f"property suite: {sum(CASES.values())} generated cases across {len(types)} model types "
            f"(+ {', '.join(f'{n} {k}' for k, n in sorted(CASES.items()) if k.startswith('<'))})")

