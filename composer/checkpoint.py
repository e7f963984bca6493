"""A design saved as a ``save_pretrained`` folder (plus composer.spec.json and the list of what was
written, composer.files.json), atomically, and read back with transformers alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from composer.errors import SpecError
from composer.safe_folder import admit, target_path, writing
from composer.spec import Spec

SPEC_FILE = "composer.spec.json"


def save(spec: Spec | dict, directory: str | Path, overwrite: bool = False,
         progress: Callable[[str, float], None] | None = None) -> Path:
    """Build on CPU and write the folder. The build goes to a hidden folder beside the target that then
    replaces it atomically (composer.safe_folder): an interrupted or failed save leaves the old folder
    or nothing, and a folder the composer did not write is never replaced, whatever ``overwrite`` says."""
    from composer.api import ready
    from composer.build import build_model, build_processors
    from composer.codegen import SAVED
    from composer.sizes import check_fits

    report = progress or (lambda stage, fraction: None)
    target = target_path(directory)
    admit(target, overwrite)  # a refused folder costs no build
    spec = ready(spec)
    check_fits(spec)  # before anything is written
    with writing(target, overwrite, report) as tmp:
        report("building the model", 0.05)
        model = build_model(spec, device="cpu")
        parts = build_processors(spec)
        report("writing the weights", 0.5)
        model.save_pretrained(tmp)
        report("writing the processors", 0.85)
        if "processor" in parts:
            parts["processor"].save_pretrained(tmp)
        else:
            for name in SAVED:
                if name in parts:
                    parts[name].save_pretrained(tmp)
        (tmp / SPEC_FILE).write_text(spec.to_json(), encoding="utf-8")
    report("saved", 1.0)
    return target


def check(directory: str | Path) -> dict[str, Any]:
    """Reload a checkpoint folder with transformers alone and report what it holds."""
    import transformers
    from transformers import AutoConfig

    folder = Path(directory)
    if not (folder / "config.json").is_file():
        raise SpecError("DIR", f"{folder} has no config.json; not a save_pretrained folder")
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    architecture = (config.architectures or [None])[0]
    model_cls = getattr(transformers, architecture) if architecture else transformers.AutoModel
    model = model_cls.from_pretrained(folder, use_safetensors=True, local_files_only=True)
    params = {id(p): p for p in model.parameters()}
    report: dict[str, Any] = {
        "folder": str(folder),
        "model_type": config.model_type,
        "architecture": type(model).__name__,
        "parameters": sum(p.numel() for p in params.values()),
        "dtype": str(next(iter(params.values())).dtype).removeprefix("torch.") if params else None,
        "files": sorted(p.name for p in folder.iterdir()),
        "spec": (folder / SPEC_FILE).is_file(),
    }
    loaders = {
        "tokenizer": ("AutoTokenizer", "tokenizer_config.json"),
        "image_processor": ("AutoImageProcessor", "preprocessor_config.json"),
        "feature_extractor": ("AutoFeatureExtractor", "preprocessor_config.json"),
        "processor": ("AutoProcessor", "processor_config.json"),
    }
    preprocessor = _json(folder / "preprocessor_config.json")
    # A processor's save_pretrained (5.x) keeps its image processor / feature extractor inside
    # processor_config.json; the Auto classes read them from there.
    nested = _json(folder / "processor_config.json")
    for name, (auto, marker) in loaders.items():
        if name in ("image_processor", "feature_extractor"):
            if f"{name}_type" not in preprocessor and f"{name}_type" not in nested.get(name, {}):
                continue
        elif not (folder / marker).is_file():
            continue
        obj = getattr(transformers, auto).from_pretrained(folder, local_files_only=True)
        report[name] = type(obj).__name__
        if name == "tokenizer":
            report["vocab_size"] = len(obj)
    return report


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def format_check(report: dict[str, Any]) -> str:
    lines = [f"{report['folder']}: loads with transformers",
             f"  {report['architecture']} ({report['model_type']}), {report['parameters']:,} parameters, "
             f"{report['dtype']}"]
    for name in ("tokenizer", "image_processor", "feature_extractor", "processor"):
        if name in report:
            extra = f", {report['vocab_size']:,} tokens" if name == "tokenizer" else ""
            lines.append(f"  {name}: {report[name]}{extra}")
    lines.append(f"  files: {', '.join(report['files'])}")
    return "\n".join(lines) + "\n"
