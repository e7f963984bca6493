"""transformers classes by name, and what their ``__init__`` takes: the lookups every section and
folder check shares (a Spec names classes as strings; a saved folder's configs do too)."""

from __future__ import annotations

import inspect
from typing import Any

from composer.errors import SpecError, shown


def bases(cls) -> set[str]:
    """The names of a class and all its bases (transformers marks backends by base class)."""
    return {k.__name__ for k in cls.__mro__}


def transformers_class(name: str, base: str, where: str, example: str):
    """The transformers class ``name`` if it derives from ``base``; else a SpecError at ``where``."""
    import transformers

    try:
        cls = getattr(transformers, name)
    except (AttributeError, ImportError, ModuleNotFoundError, TypeError):  # TypeError: not a string
        raise SpecError(where, f"{shown(name)} is not a transformers class; e.g. {example}") from None
    if not isinstance(cls, type) or base not in bases(cls):
        raise SpecError(where, f"{shown(name)} is not a {base} class; e.g. {example}")
    return cls


def init_defaults(cls) -> dict[str, Any]:
    """Named ``__init__`` parameters along the class hierarchy, with the default the most derived
    class gives (subclasses pass **kwargs upwards, so all of them are accepted)."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self":
                out[p.name] = p.default
    return out


def is_python_backend(cls) -> bool:
    return "PythonBackend" in bases(cls)


def python_tokenizer_class(cls):
    """The pure-Python twin of a tokenizers-backed class (``BertTokenizerLegacy``), or None."""
    import transformers

    if is_python_backend(cls):
        return cls
    for klass in cls.__mro__:
        twin = getattr(transformers, f"{klass.__name__}Legacy", None)
        if twin is not None:
            return twin
    return None


def tokenizer_class_name(name: str) -> str:
    """The class AutoTokenizer loads for a saved ``tokenizer_class``: 5.x keeps most "…Fast" names as
    aliases; one it lacks falls back to the name without "Fast"."""
    import transformers

    return name if hasattr(transformers, name) else name.removesuffix("Fast")


def processor_attributes(cls) -> list[str]:
    """The parts a ProcessorMixin class combines (tokenizer, image_processor, …)."""
    getter = getattr(cls, "get_attributes", None)
    return list(getter() if callable(getter) else cls.attributes)
