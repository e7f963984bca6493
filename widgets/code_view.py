"""CodeView: the design as plain Python (torch + transformers only), to copy, insert as a new cell
below the widget, or save as a .py file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import traitlets

from composer.codegen import data_blocks
from composer.errors import SpecError
from widgets._base import DesignWidget, bundle
from widgets._design import Design


class CodeView(DesignWidget):
    """The engine's reproducible code for the last valid design, syntax-highlighted; a block of data (a
    tokenizer's training text) is folded to one line until opened, and copied, inserted and saved whole.

    "Insert as a new cell" asks the small JupyterLab extension shipped with the package (JupyterLab,
    Notebook 7); elsewhere the code goes to the clipboard instead."""

    _esm = bundle("code_view.js")
    lists_errors = False  # the shared design's notice says where the error is

    # Code
    code = traitlets.Unicode("").tag(sync=True)
    folds = traitlets.List(traitlets.Dict()).tag(sync=True)  # its blocks of data, folded on the page

    # Saving as .py ("" = "<model_type>_design.py" in the kernel's working folder)
    py_path = traitlets.Unicode("").tag(sync=True)
    py_default = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def _state(self, design: Design) -> dict[str, Any]:
        code = design.code or ""  # none until the first validation of a fresh kernel's design is in
        return {**super()._state(design), "code": code, "folds": data_blocks(code),
                "py_default": f"{design.spec.model_type}_design.py"}

    def save_py(self, path: str | Path | None = None) -> Path:
        """Write the code to a .py file; returns its absolute path (SpecError if the design was never valid)."""
        self._design.valid()
        target = Path(path or self.py_path or self.py_default).expanduser()
        if target.suffix != ".py":
            target = target.with_name(target.name + ".py")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self._design.code, encoding="utf-8")
        return target.resolve()

    def _action(self, name: str, content: dict[str, Any]) -> None:
        if name == "save_py":
            self.status = ""  # the same message twice still shows as new
            try:
                self.status = f"Saved {self.save_py()}"
            except OSError as err:
                self.status = f"Not saved: {err.strerror or err}"
            except SpecError as err:
                self.status = f"Not saved: {err}"
