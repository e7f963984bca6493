"""``python -m composer``: the engine without a notebook. Errors: one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings

from composer.errors import ComposerWarning, SpecError, shown
from composer.paths import checked_path
from composer.training.settings import Settings


def _types(args) -> str:
    from composer.catalog import model_types

    return "\n".join(model_types()) + "\n"


def _heads(args) -> str:
    from composer.catalog import heads, resolve_architecture

    rows = heads(args.model_type)
    if not rows:
        resolve_architecture(args.model_type, None)  # raises the reason this type has no class
    if args.json:
        return json.dumps([h.to_dict() for h in rows], indent=2) + "\n"
    width, tasks = max(len(h.name) for h in rows), max(len(h.task) for h in rows)
    return "".join(f"{h.name:<{width}}  {h.task:<{tasks}}  {'' if h.mapped else '(no Auto class)'}".rstrip() + "\n"
                   for h in rows)


def _backbones(args) -> str:
    from composer.catalog import backbone_types, timm_models

    return "\n".join(timm_models(args.timm) if args.timm else backbone_types()) + "\n"


def _fields(args) -> str:
    from composer.fields import config_fields

    rows = config_fields(args.model_type)
    if args.json:
        return json.dumps([f.to_dict() for f in rows], indent=2) + "\n"
    lines = []
    for f in rows:
        extra = f" one of {list(f.choices)}" if f.choices else ""
        alias = f" (alias {', '.join(f.aliases)})" if f.aliases else ""
        lines.append(f"{f.name}{alias}: {f.type}{extra} = {f.default!r}  [{f.group}]\n")
    return "".join(lines)


def _summary(args) -> str:
    from composer.summary import format_summary, forward_summary, summarize

    summary = summarize(args.spec)
    text = json.dumps(summary, indent=1) + "\n" if args.json else format_summary(summary, depth=args.depth)
    return text + (forward_summary(args.spec) + "\n" if args.forward else "")


def _code(args) -> str:
    from composer.codegen import to_code

    return to_code(args.spec, output_dir=args.output_dir)


def _save(args) -> str:
    from composer.checkpoint import save
    from composer.safe_folder import FolderExists

    terminal = sys.stderr if sys.stderr.isatty() else None  # progress for a person watching, not for a log

    def show(progress) -> None:
        terminal.write(f"\r{progress.line()}\x1b[K")  # one line, rewritten in place
        terminal.flush()

    try:
        return f"{save(args.spec, args.dir, overwrite=args.overwrite, progress=show if terminal else None)}\n"
    except FolderExists as err:
        raise err.told("pass --overwrite") from None
    finally:
        if terminal:
            terminal.write("\r\x1b[K")
            terminal.flush()


def _check(args) -> str:
    from composer.checkpoint import check, format_check

    report = check(args.dir)  # check() checks the path itself
    return json.dumps(report, indent=2) + "\n" if args.json else format_check(report)


def _import(args) -> str:
    from composer.importing import spec_from_config

    spec = spec_from_config(args.path, "PATH")
    if args.output is None:
        return spec.to_json()
    spec.save(checked_path(args.output, "--output"))
    return f"{args.output}\n"


def _plan(args) -> str:
    from composer.training.plan import format_plan, plan

    result = plan(args.spec, _settings(args))
    return json.dumps(result.to_dict(), indent=1) + "\n" if args.json else format_plan(result)


def _launch(args) -> str:
    from composer.safe_folder import FolderExists
    from composer.training.launch import write_launch

    try:
        return f"{write_launch(args.spec, _settings(args), args.dir, overwrite=args.overwrite)}\n"
    except FolderExists as err:
        raise err.told("pass --overwrite") from None


def _settings(args) -> Settings:
    """The plan settings given as options (``--micro-batch 4`` …)."""
    return Settings.from_dict({name: _setting(name, getattr(args, name)) for name in Settings.__dataclass_fields__
                               if getattr(args, name, None) is not None})


def _diff(args) -> str:
    from composer.compare import diff, format_diff

    planned = args.plan or any(getattr(args, name) is not None for name in Settings.__dataclass_fields__)
    result = diff(args.a, args.b, _settings(args) if planned else None, dtype=args.dtype)
    return json.dumps(result, indent=1) + "\n" if args.json else format_diff(result, (args.a, args.b), args.depth)


def _budget(args) -> str:
    from composer.budget import budget, format_budget

    result = budget(args.spec, args.target, args.field, measure=args.measure, dtype=args.dtype)
    return json.dumps(result, indent=1) + "\n" if args.json else format_budget(result)


def _setting(name: str, text: str):
    """An option's text as its setting's type; refused at ``plan.<name>`` (Settings checks the value)."""
    kind = Settings.__dataclass_fields__[name].type.split(" ")[0]
    if kind not in ("int", "float"):
        return text
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        raise SpecError(f"plan.{name}", f"expected {'an integer' if kind == 'int' else 'a number'}, "
                        f"got {shown(text)}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m composer", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("types", help="every model type the installed transformers can compose").set_defaults(fn=_types)
    s = sub.add_parser("heads", help="base model and heads of a model type, with their task")
    s.add_argument("model_type")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_heads)
    s = sub.add_parser("backbones", help="AutoBackbone model types, or timm models matching --timm PATTERN")
    s.add_argument("--timm", metavar="PATTERN")
    s.set_defaults(fn=_backbones)
    s = sub.add_parser("fields", help="the config form of a model type")
    s.add_argument("model_type")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_fields)
    s = sub.add_parser("summary", help="parameters, memory and layers (meta device)")
    s.add_argument("spec")
    s.add_argument("--json", action="store_true")
    s.add_argument("--depth", type=int, default=2)
    s.add_argument("--forward", action="store_true", help="also a torchinfo forward pass (builds on CPU)")
    s.set_defaults(fn=_summary)
    s = sub.add_parser("code", help="reproducible Python source on stdout")
    s.add_argument("spec")
    s.add_argument("--output-dir", default="checkpoint")
    s.set_defaults(fn=_code)
    s = sub.add_parser("save", help="write the checkpoint folder")
    s.add_argument("spec")
    s.add_argument("dir")
    s.add_argument("--overwrite", action="store_true")
    s.set_defaults(fn=_save)
    s = sub.add_parser("check", help="reload a checkpoint folder with transformers alone")
    s.add_argument("dir")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_check)
    s = sub.add_parser("import", help="the Spec of a config.json (a file, a folder, or a hub id), random weights")
    s.add_argument("path", metavar="PATH")
    s.add_argument("--output", metavar="FILE", help="write the Spec there (atomically) instead of printing it")
    s.set_defaults(fn=_import)
    s = sub.add_parser("plan", help="training memory per device, fewest devices, compute time (fake tensors)")
    s.add_argument("spec")
    _setting_options(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_plan)
    s = sub.add_parser("launch", help="a folder that trains the design with PyTorch FSDP2 (torchrun, accelerate)")
    s.add_argument("spec")
    s.add_argument("dir")
    _setting_options(s)
    s.add_argument("--overwrite", action="store_true")
    s.set_defaults(fn=_launch)
    s = sub.add_parser("diff", help="two designs side by side: fields, parameters, memory, modules (and plans)")
    s.add_argument("a", metavar="A", help="a spec file or a folder the composer saved")
    s.add_argument("b", metavar="B")
    s.add_argument("--json", action="store_true")
    s.add_argument("--depth", type=int, default=2)
    s.add_argument("--dtype", default="fp32", help="of the modules' memory deltas")
    s.add_argument("--plan", action="store_true", help="also the training plans' deltas (any plan option implies it)")
    _setting_options(s)
    s.set_defaults(fn=_diff)
    s = sub.add_parser("budget", help="the values of one integer field closest to a parameter or memory target")
    s.add_argument("spec")
    s.add_argument("--field", required=True, help="e.g. n_layers, num_hidden_layers, hidden_size")
    s.add_argument("--target", required=True, help="10M, 7B, 1.5e9, 350,000,000 (or bytes: 16GiB)")
    s.add_argument("--measure", default="parameters", help="parameters or memory")
    s.add_argument("--dtype", default="bf16", help="of the memory measure")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_budget)
    return p


def _setting_options(s: argparse.ArgumentParser) -> None:
    for name in Settings.__dataclass_fields__:
        s.add_argument("--" + name.replace("_", "-"), dest=name, metavar=name.upper())


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # keep stdout for results
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", ComposerWarning)
    try:
        # Whatever transformers prints while building (some models do) must not mix with results.
        with contextlib.redirect_stdout(sys.stderr):
            text = args.fn(args)
        sys.stdout.write(text)
        sys.stdout.flush()
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; not an error of the design
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
