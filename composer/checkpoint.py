"""A design saved as a ``save_pretrained`` folder (plus composer.spec.json and the list of what was
written, composer.files.json), atomically, and read back with transformers alone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from composer import catalog, folder_check
from composer.build import build_meta_model, build_model, build_processors, check_fits, meta_model
from composer.codegen import saved_parts
from composer.counting import weight_bytes
from composer.errors import SpecError, one_line
from composer.hub import NO_REMOTE_CODE
from composer.paths import checked_path, is_dir
from composer.progress import Cancelled, Flag, Meter, Progress, counting_build, parameter_bytes
from composer.safe_folder import admit, repair, target_path, writing
from composer.spec import Spec
from composer.validation import ready
from composer.weights_file import streaming

SPEC_FILE = "composer.spec.json"


def save(spec: Spec | dict, directory: str | Path, overwrite: bool = False,
         progress: Callable[[Progress], None] | None = None, cancel: Flag | None = None,
         clock: Callable[[], float] = time.monotonic) -> Path:
    """Build on CPU and write the folder. The build goes to a hidden folder beside the target that then
    replaces it atomically (composer.safe_folder): an interrupted, failed or cancelled save leaves the
    old folder or nothing, and a folder the composer did not write is never replaced, whatever
    ``overwrite`` says. ``progress`` gets the bytes made and written of the total and the time left
    (composer.progress, timed by ``clock``); once ``cancel`` is set the save stops at the next parameter
    or chunk (Cancelled) until the folder is being replaced."""
    meter = Meter(progress or (lambda report: None), cancel, clock)
    target = target_path(directory)
    admit(target, overwrite)  # a refused folder costs no build
    existed = target.exists()
    try:  # a Cancel may come at any step, the first included: the message says the same
        meter.begin("checking the design")
        spec = ready(spec)
        check_fits(spec)  # before anything is written
        meta = build_meta_model(spec)
        meter.plan(building=parameter_bytes(meta), writing=weight_bytes(meta))
        meter.check()
        with writing(target, overwrite, meter) as tmp:
            meter.begin("building the model", "building")
            with counting_build(meter):
                model = build_model(spec, device="cpu")
            meter.begin("building the processors")
            parts = build_processors(spec)
            meter.begin("writing the weights", "writing")
            with streaming(meter):
                model.save_pretrained(tmp)
            meter.begin("writing the processors")
            for name in saved_parts(parts):
                parts[name].save_pretrained(tmp)
            (tmp / SPEC_FILE).write_text(spec.to_json(), encoding="utf-8")
    except Cancelled:
        raise Cancelled(f"nothing was written, {target} is as it was" if existed else
                        f"nothing was written ({target} was not made)") from None
    meter.begin("saved")
    return target


def check(directory: str | Path) -> dict[str, Any]:
    """Read the folder whole (composer.folder_check: configs, safetensors headers, weight names against
    a meta model of its architecture), then reload it with transformers alone and report what it holds.
    Every problem is one SpecError naming the file; nothing in the folder runs and nothing asks."""
    import transformers

    folder = checked_path(directory, "DIR")
    repaired = repair(folder)  # a save interrupted while replacing this folder is finished first
    if not is_dir(folder):
        raise SpecError("DIR", f"{folder} is not a folder")
    found = folder_check.read(folder)
    load = {**NO_REMOTE_CODE, "local_files_only": True}
    arch = found.architecture
    config = _reloaded(folder_check.CONFIG, arch, catalog.config_class(found.model_type).from_pretrained, folder,
                       **load)
    provenance = folder_check.trusted(found, _reloaded(folder_check.CONFIG, arch, meta_model, arch, config))
    model = _reloaded(found.weights_file, arch, getattr(transformers, arch).from_pretrained, folder,
                      use_safetensors=True, **load)
    params = {id(p): p for p in model.parameters()}
    report: dict[str, Any] = {
        "folder": str(folder),
        "model_type": found.model_type,
        "architecture": type(model).__name__,
        "parameters": sum(p.numel() for p in params.values()),
        "dtype": str(next(iter(params.values())).dtype).removeprefix("torch.") if params else None,
        "weights": {status: provenance.named(status) for status in ("loaded", "tied", "new")},
        "unused": provenance.named("unused"),
        "files": sorted(p.name for p in folder.iterdir()),
        "spec": (folder / SPEC_FILE).is_file(),
        "repaired": repaired,
    }
    loaders = {
        "tokenizer": ("AutoTokenizer", "tokenizer_config.json"),
        "image_processor": ("AutoImageProcessor", "preprocessor_config.json"),
        "feature_extractor": ("AutoFeatureExtractor", "preprocessor_config.json"),
        "processor": ("AutoProcessor", "processor_config.json"),
    }
    preprocessor = found.json.get("preprocessor_config.json", {})
    nested = found.json.get("processor_config.json", {})
    for name, (auto, marker) in loaders.items():
        if name in folder_check.NESTED:
            inner = nested.get(name)
            if f"{name}_type" not in preprocessor and not (isinstance(inner, dict) and f"{name}_type" in inner):
                continue
        elif marker not in found.json:
            continue
        obj = _reloaded(marker, auto, getattr(transformers, auto).from_pretrained, folder, **load)
        report[name] = type(obj).__name__
        if name == "tokenizer":
            report["vocab_size"] = len(obj)
    return report


def _reloaded(file: str, what: str, fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)``; what transformers still raises after the folder was read whole is one
    line naming the file it was reading."""
    try:
        return fn(*args, **kwargs)
    except SpecError:
        raise
    except Exception as err:
        raise SpecError(file, f"transformers cannot load {what} from it: {one_line(err)}") from None


def format_check(report: dict[str, Any]) -> str:
    missing = report["weights"]["new"]
    lines = [*report["repaired"],
             f"{report['folder']}: loads with transformers" +
             (f", but {len(missing):,} weights are not in the checkpoint and start random" if missing else ""),
             f"  {report['architecture']} ({report['model_type']}), {report['parameters']:,} parameters, "
             f"{report['dtype']}"]
    for name in ("tokenizer", "image_processor", "feature_extractor", "processor"):
        if name in report:
            extra = f", {report['vocab_size']:,} tokens" if name == "tokenizer" else ""
            lines.append(f"  {name}: {report[name]}{extra}")
    weights = report["weights"]
    lines.append(f"  weights: {len(weights['loaded']):,} loaded" +
                 (f", {len(weights['tied']):,} tied" if weights["tied"] else "") +
                 (f"; {len(weights['new']):,} new (random): {_names(weights['new'])}"
                  if weights["new"] else ""))
    if report["unused"]:
        lines.append(f"  unused in the checkpoint: {_names(report['unused'])}")
    lines.append(f"  files: {', '.join(report['files'])}")
    return "\n".join(lines) + "\n"


def _names(names: list[str], shown: int = 4) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown:,} more" if len(names) > shown else "")
