"""The architecture as a paper draws it, from the design's meta model: blocks in data-flow order
(embeddings, the repeated block once with its count, the final norm, the head; or backbone, neck and
head), each with its parameters, its share, its output shape for a sample input and the config fields
that shape it.

Which modules are blocks follows from the module tree alone: every module above a stack of layers
(a numbered list as long as one of the config's layer counts) or above a backbone is opened into its
children, the rest are blocks, and a stack is drawn as its runs of identical layers, each once with
×N. A model with no stack opens its base model. Modules without parameters (dropouts, rotary tables,
a loss) are left out.

The fields of a block are read from transformers' own code: the config attributes each class's
``__init__`` reads, and those its parent's ``__init__`` passes on the line that makes it
(``self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)``), for every module of the block.

Output shapes and the data-flow order come from one forward pass on the meta device (no arithmetic,
no memory) of the model the summary was read from: for a 70B design the few-layer variant, so a
layer-count edit reuses it. A module the pass does not reach shows "—". The pass costs more than the
summary (meta kernels run through Python), so an editor can ask for the drawing without it first
(``traced=False``: registration order, shapes "…" unless that model was traced already) and fill the
shapes in after.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
import threading
import warnings
import weakref
from typing import Any, NamedTuple

from composer import limits, provenance, repeats
from composer.counting import holds_embeddings
from composer.domains import LAYER_COUNT
from composer.errors import SpecError
from composer.fields import class_fields
from composer.spec import Spec
from composer.summary import example_inputs
from composer.validation import ready

NO_SHAPE = "—"
SHAPE_PENDING = "…"  # the pass has not run yet (traced=False)
_NORM = re.compile(r"Norm")  # LayerNorm, RMSNorm, GroupNorm, BatchNorm2d, …


def architecture(spec: Spec | dict, *, traced: bool = True) -> dict[str, Any]:
    """The drawing of a design (JSON-able); SpecError at the field if the design does not build.
    ``traced=False`` leaves out the forward pass unless it ran already ("traced" in the result says)."""
    spec = ready(spec)
    return draw(spec, repeats.measured(spec), traced=traced)


def draw(spec: Spec, measured: repeats.Measured, *, traced: bool = True) -> dict[str, Any]:
    """The drawing of a validated design from what its summary was read from; a pretrained design's blocks
    with their tensors counted by where they come from (composer.provenance), and the checkpoint's unused
    blocks listed (a dropped layer has no block to mark)."""
    summary, model = provenance.marked(spec, measured.summary), measured.model
    found = _traced(model) if traced else _TRACED.get(model)
    sample, order, shapes = found or (SHAPE_PENDING, {}, {})
    fields = _Fields(spec, model.config)
    blocks = _Blocks(summary, model, measured.config, shapes, order, fields,
                     missing=NO_SHAPE if found else SHAPE_PENDING)
    drawing = {"architecture": summary["architecture"], "total": summary["total"], "input": sample,
               "traced": found is not None, "blocks": blocks.drawn()}
    if "provenance" in summary:
        weights = summary["provenance"]
        drawing["provenance"] = {"totals": weights["totals"], "unused": weights["blocks"]["unused"],
                                 "legend": weights["legend"]}
    return drawing


# ----- which modules are blocks --------------------------------------------------------------


def _layer_counts(config, seen: set[int] | None = None) -> set[int]:
    """Every layer count of a config and of its sub-configs (a backbone's, a decoder's)."""
    from transformers import PreTrainedConfig

    seen = set() if seen is None else seen
    if id(config) in seen:
        return set()
    seen.add(id(config))
    counts: set[int] = set()
    for name, value in vars(config).items():
        if isinstance(value, PreTrainedConfig):
            counts |= _layer_counts(value, seen)
        elif LAYER_COUNT.search(name) and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            counts.add(value)
    return counts


def _numbered(node: dict[str, Any]) -> bool:
    return bool(node["children"]) and all(c["name"] == str(i) for i, c in enumerate(node["children"]))


def _signature(node: dict[str, Any], memo: dict[int, tuple]) -> tuple:
    """Classes and counts (of parameters, and of a pretrained design's tensors by provenance mark: loaded
    layers and new ones are runs apart) all the way down; the summary's copies of a repeated layer share
    their children, so each distinct layer is read once."""
    key = id(node["children"])
    if key not in memo:
        memo[key] = tuple(_signature(c, memo) for c in node["children"])
    return node["class"], node["params"], tuple(node.get("weights", {}).items()), memo[key]


def _runs(node: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """A stack's layers as runs of identical ones, in order."""
    runs: list[list[dict[str, Any]]] = []
    memo: dict[int, tuple] = {}
    for child in node["children"]:
        if runs and _signature(child, memo) == _signature(runs[-1][0], memo):
            runs[-1].append(child)
        else:
            runs.append([child])
    return runs


class _Blocks:
    """The blocks of one design: the summary's tree (every layer, its parameters) walked beside the
    model the summary was read from (its classes; a few-layer variant has the same names but for the
    stacks' lengths, and every run of identical layers starts at a layer it has)."""

    def __init__(self, summary, model, config, shapes, order, fields, missing=NO_SHAPE):
        from transformers.backbone_utils import BackboneMixin

        self.missing = missing  # the shape of a module the pass did not reach, or has not run for

        self.tree, self.total = summary["tree"], summary["total"] or 1
        self.model, self.shapes, self.order, self.fields = model, shapes, order, fields
        self.backbones = {name for name, m in model.named_modules() if name and isinstance(m, BackboneMixin)}
        self.stacks = set(_stacks(self.tree, "", _layer_counts(config)))
        anchors = self.stacks | self.backbones
        self.opened = {""} | {a[:i] for a in anchors for i, ch in enumerate(a) if ch == "."}
        if not anchors and model.base_model is not model:  # no stack: the base model's parts
            self.opened.add(model.base_model_prefix)

    def drawn(self) -> list[dict[str, Any]]:
        return self._untied(self._ordered(list(self._walk(self.tree, ""))))

    def _untied(self, blocks):
        """A weight tied to one in an earlier block (an LM head's to the token embeddings) counted
        there only, as the summary counts it: the blocks add up to the total."""
        seen: dict[int, str] = {}
        for block in blocks:
            module = self.model.get_submodule(block["name"])
            tensors = module._parameters.values() if block["label"].endswith("(own)") else module.parameters()
            tied = {id(p): p.numel() for p in tensors if p is not None and id(p) in seen}
            if tied:
                n = sum(tied.values())
                block.update(params=block["params"] - n * block["repeat"], each=block["each"] - n,
                             tied={"params": n, "with": seen[next(iter(tied))]})
                block["share"] = block["params"] / self.total
            for p in (module._parameters.values() if block["label"].endswith("(own)") else module.parameters()):
                if p is not None:
                    seen.setdefault(id(p), block["label"])
        return blocks

    def _walk(self, node, path):
        own = node["params"] - sum(c["params"] for c in node["children"])
        if own > 0:  # parameters an opened module holds itself (a cls token, a logit scale)
            yield self._own(path, node, own)
        for child in node["children"]:
            here = f"{path}.{child['name']}" if path else child["name"]
            if child["params"] == 0:
                continue
            if here in self.stacks:
                runs = _runs(child)
                for run in runs:
                    label = child["name"] if len(runs) == 1 else f"{child['name']} {run[0]['name']}–{run[-1]['name']}"
                    yield self._block(f"{here}.{run[0]['name']}", run[0], len(run), label, stack=here)
            elif here in self.opened:
                yield from self._walk(child, here)
            else:
                yield self._block(here, child, 1, child["name"])

    def _row(self, path, node, repeat, label) -> dict[str, Any]:
        row = {"name": path, "label": label, "class": node["class"], "repeat": repeat,
               "params": node["params"] * repeat, "each": node["params"],
               "share": node["params"] * repeat / self.total, "shape": self.shapes.get(path, self.missing)}
        if "weights" in node:  # a pretrained design: its tensors by provenance mark, all copies of the block
            row["weights"] = {mark: n * repeat for mark, n in node["weights"].items()}
        return row

    def _block(self, path, node, repeat, label, stack=None):
        module = self.model.get_submodule(path)
        parts = [{**self._row(f"{path}.{c['name']}", c, repeat, c["name"]),
                  "fields": self.fields.of(self.model, f"{path}.{c['name']}")}
                 for c in node["children"] if c["params"]]
        return {**self._row(path, node, repeat, label), "kind": self._kind(path, module, stack),
                "fields": self.fields.of(self.model, path, stack), "parts": self._ordered(parts)}

    def _own(self, path, node, own):
        if "weights" in node:  # the module's own tensors: its count less its children's
            weights = {m: n - sum(c["weights"].get(m, 0) for c in node["children"]) for m, n in node["weights"].items()}
            node = {**node, "weights": {m: n for m, n in weights.items() if n}}
        return {**self._row(path, {**node, "params": own}, 1, f"{path or node['class']} (own)"), "kind": "block",
                "shape": NO_SHAPE, "fields": [], "parts": []}

    def _kind(self, path, module, stack) -> str:
        if stack:
            return "repeated"
        if path in self.backbones:
            return "backbone"
        if holds_embeddings(path.rsplit(".", 1)[-1], module):
            return "embeddings"
        if _NORM.search(type(module).__name__):
            return "norm"
        if "." not in path and self.model.base_model is not self.model:
            return "head"
        return "block"

    def _ordered(self, blocks):
        """In the order the forward pass reached them (any it did not reach last); as registered when
        the pass did not finish."""
        if not self.order:
            return blocks
        return sorted(blocks, key=lambda b: self.order.get(b["name"], len(self.order)))


def _stacks(node, path, counts):
    """Paths of the numbered lists as long as one of the config's layer counts (not inside another)."""
    for child in node["children"]:
        here = f"{path}.{child['name']}" if path else child["name"]
        if _numbered(child):
            if len(child["children"]) in counts:
                yield here
        else:
            yield from _stacks(child, here, counts)


# ----- the fields that shape a block ---------------------------------------------------------


def _chain(node: ast.AST, roots: set[str]) -> str | None:
    """``config.decoder_config.d_model`` -> "decoder_config.d_model" (attributes read off a root name)."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    names.reverse()
    if isinstance(node, ast.Name) and node.id == "self" and names[:1] == ["config"]:  # self.config = config
        names = names[1:]
    elif not (isinstance(node, ast.Name) and node.id in roots):
        return None
    return ".".join(names) or None


class _Reads(NamedTuple):
    """The config attributes a class's ``__init__`` reads: all of them, and by ``self.<attribute>``
    those its assignment reads (directly, through a local variable or another attribute, or in the
    loop or condition around it)."""

    takes_config: bool
    own: tuple[str, ...]
    given: dict[str, tuple[str, ...]]


def _reads_in(expr: ast.AST, roots: set[str], env: dict[str, dict[str, None]]) -> dict[str, None]:
    out: dict[str, None] = {}
    for node in ast.walk(expr):
        chain = _chain(node, roots) if isinstance(node, ast.Attribute) else None
        if chain:
            out[chain] = None
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id in roots
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            out[node.args[1].value] = None
        elif isinstance(node, ast.Name) and node.id in env:
            out.update(env[node.id])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                and f"self.{node.attr}" in env:
            out.update(env[f"self.{node.attr}"])
    return {k: None for k in out if not any(other.startswith(f"{k}.") for other in out)}


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return [f"self.{node.attr}"]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [t for elt in node.elts for t in _targets(elt)]
    return []


@functools.cache
def _reads(cls) -> _Reads:
    try:
        source = textwrap.dedent(inspect.getsource(cls.__init__))
        fn = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):  # a builtin or generated __init__
        return _Reads(False, (), {})
    if not isinstance(fn, ast.FunctionDef):
        return _Reads(False, (), {})
    roots = {a.arg for a in (*fn.args.args, *fn.args.kwonlyargs) if a.arg == "config"}
    if not roots:
        return _Reads(False, (), {})
    env: dict[str, dict[str, None]] = {}

    def visit(statements, around: dict[str, None]) -> None:
        for stmt in statements:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
                read = {**around, **_reads_in(stmt.value, roots, env)}
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for key in (k for t in targets for k in _targets(t)):
                    env[key] = {**env.get(key, {}), **read}
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                    and isinstance(stmt.value.func, ast.Attribute):  # self.layers.append(Layer(config))
                for key in _targets(stmt.value.func.value):
                    env[key] = {**env.get(key, {}), **around, **_reads_in(stmt.value, roots, env)}
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                visit(stmt.body, {**around, **_reads_in(stmt.iter, roots, env)})
            elif isinstance(stmt, (ast.If, ast.While)):
                inner = {**around, **_reads_in(stmt.test, roots, env)}
                visit(stmt.body, inner)
                visit(stmt.orelse, inner)
            elif isinstance(stmt, (ast.With, ast.Try)):
                visit(stmt.body, around)

    visit(fn.body, {})
    own = _reads_in(fn, roots, {})
    given = {k.removeprefix("self."): tuple(v) for k, v in env.items() if k.startswith("self.")}
    return _Reads(True, tuple(own), given)


class _Fields:
    """Config fields as the Spec names them: ``config.hidden_size``, ``config.decoder_config.d_model``,
    ``backbone.config.hidden_sizes``; each a field of its config class (aliases resolved). ``config``:
    the built model's own (a few-layer variant's differs from the design's only in its layer counts)."""

    def __init__(self, spec: Spec, config):
        from transformers import PreTrainedConfig

        self.prefix: dict[int, str] = {}
        self.spec = spec

        def name(cfg, prefix):
            self.prefix.setdefault(id(cfg), prefix)
            for key, value in vars(cfg).items():
                if isinstance(value, PreTrainedConfig) and id(value) not in self.prefix:
                    name(value, "backbone.config" if key == "backbone_config" and spec.backbone else f"{prefix}.{key}")

        name(config, "config")
        self.config = config

    def _field(self, chain: str, cfg) -> str | None:
        from transformers import PreTrainedConfig

        head, _, rest = chain.partition(".")
        head = getattr(type(cfg), "attribute_map", {}).get(head, head)
        value = getattr(cfg, head, None)
        if isinstance(value, PreTrainedConfig):  # a field of a sub-config; a whole one is no one field
            return self._field(rest, value) if rest else None
        prefix = self.prefix.get(id(cfg))
        return f"{prefix}.{head}" if prefix and head in _field_names(type(cfg)) else None

    def of(self, model, path: str, stack: str | None = None) -> list[str]:
        """The fields that shape the module at ``path``: read by it and every module in it, and
        passed to it by its parent (by the stack's parent, for a layer of a ``stack``)."""
        from transformers import PreTrainedConfig

        module = model.get_submodule(path)
        parent_path, _, attr = (stack or path).rpartition(".")
        out: dict[str, None] = {}
        if self.spec.backbone and self._is_backbone(module):
            out["backbone.timm" if "timm" in self.spec.backbone else "backbone.model_type"] = None

        def add(chains, cfg):
            for chain in chains:
                if (field := self._field(chain, cfg)) is not None:
                    out[field] = None

        parent = model.get_submodule(parent_path)
        add(_reads(type(parent)).given.get(attr, ()), self._config_of(model, parent_path))
        if parent_path and not _reads(type(parent)).takes_config:  # made from what its maker was given
            out.update(dict.fromkeys(self.of(model, parent_path)))

        def walk(m, cfg):
            own = getattr(m, "config", None)
            cfg = own if isinstance(own, PreTrainedConfig) else cfg
            reads = _reads(type(m))
            add(reads.own, cfg)
            for name, child in m.named_children():
                add(reads.given.get(name, ()), cfg)
                walk(child, cfg)

        walk(module, self._config_of(model, parent_path))
        return list(out)

    @staticmethod
    def _is_backbone(module) -> bool:
        from transformers.backbone_utils import BackboneMixin

        return isinstance(module, BackboneMixin)

    def _config_of(self, model, path: str):
        """The config the module at ``path`` was made from: its own or its nearest ancestor's."""
        from transformers import PreTrainedConfig

        cfg, module = self.config, model
        for name in path.split(".") if path else ():
            module = module.get_submodule(name)
            own = getattr(module, "config", None)
            if isinstance(own, PreTrainedConfig):
                cfg = own
        return cfg


@functools.cache
def _field_names(config_class) -> frozenset[str]:
    try:
        return frozenset(f.name for f in class_fields(config_class))
    except SpecError:  # not a dataclass config: no form, no fields to name
        return frozenset()


# ----- shapes and order from a meta forward pass ---------------------------------------------

_TRACE_LOCK = threading.Lock()  # hooks go on a cached model other edits may trace too
_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> (sample, order, shapes)


def _shape(value: Any) -> str | None:
    """"(1, 16, 4096)" of a module's output: a tensor, the first of a tuple or a model output, or the
    feature maps of a backbone ("4 maps (1, 64, 56, 56) … (1, 512, 7, 7)")."""
    if hasattr(value, "to_tuple"):
        value = value.to_tuple()
    if isinstance(value, (tuple, list)) and value:
        first = value[0]
        if isinstance(first, (tuple, list)) and first and all(hasattr(t, "shape") for t in first):
            shapes = [_shape(t) for t in first]
            return shapes[0] if len(shapes) == 1 else f"{len(shapes)} maps {shapes[0]} … {shapes[-1]}"
        value = first
    if hasattr(value, "shape"):
        return "(" + ", ".join(str(d) for d in value.shape) + ")"
    return None


def _traced(model) -> tuple[str, dict[str, int], dict[str, str]]:
    """(sample input, module -> order of its first call, module -> output shape), from one forward
    pass on the meta device; nothing for a model past MAX_TRACED_MODULES or without an example input."""
    with _TRACE_LOCK:
        if model in _TRACED:
            return _TRACED[model]
        modules = list(model.named_modules())
        found: tuple[str, dict[str, int], dict[str, str]] = (NO_SHAPE, {}, {})
        if len(modules) <= limits.MAX_TRACED_MODULES:
            found = _trace(model, modules)
        _TRACED[model] = found
        return found


def _trace(model, modules) -> tuple[str, dict[str, int], dict[str, str]]:
    import torch

    try:
        inputs = {k: v.to("meta") for k, v in example_inputs(model).items()}
    except SpecError:
        return NO_SHAPE, {}, {}
    sample = ", ".join(f"{k} {_shape(v)}" for k, v in inputs.items())
    order: dict[str, int] = {}
    shapes: dict[str, str] = {}

    def called(name):
        def hook(module, args):
            order.setdefault(name, len(order))
        return hook

    def returned(name):
        def hook(module, args, output):
            if name not in shapes and (shape := _shape(output)) is not None:
                shapes[name] = shape
        return hook

    handles = [h for name, m in modules
               for h in (m.register_forward_pre_hook(called(name)), m.register_forward_hook(returned(name)))]
    training = model.training
    try:
        model.eval()  # no layer dropped at random (layerdrop)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model(**inputs)
    except Exception:  # an op with no meta kernel, a value read off a tensor: what ran before it stays
        order = {}  # ... but not the order, which would put the unreached blocks last
    finally:
        model.train(training)
        for handle in handles:
            handle.remove()
    return sample, order, shapes
