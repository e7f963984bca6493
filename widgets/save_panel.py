"""SavePanel: the design written as a ``save_pretrained`` folder, then reloaded with transformers alone
to show that it loads (the architecture and parameter count that came back)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import traitlets

from composer.errors import SpecError
from composer.progress import Cancelled, Progress
from composer.safe_folder import FolderExists
from widgets._base import DesignWidget, bundle, where


class SavePanel(DesignWidget):
    """Save and verify the last valid design. From the buttons the work runs in a background thread
    with a progress bar (bytes made and written of the total, time left) and a Cancel button, so the
    kernel keeps answering edits; from Python, ``save()`` and ``verify()`` simply block and return."""

    _esm = bundle("save_panel.js")
    lists_errors = False

    # Target
    folder = traitlets.Unicode("checkpoint").tag(sync=True)
    overwrite = traitlets.Bool(False).tag(sync=True)

    # Progress
    busy = traitlets.Bool(False).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)  # fraction of the bytes done
    cancellable = traitlets.Bool(False).tag(sync=True)  # a save is running that Cancel can stop
    cancelling = traitlets.Bool(False).tag(sync=True)  # Cancel was pressed; the save stops at its next step

    # Result
    status = traitlets.Unicode("").tag(sync=True)
    report = traitlets.Dict().tag(sync=True)  # the last verify: architecture, parameters, files, …

    _saved: tuple[Path, int] | None = None  # the folder last saved here and its parameter count
    _thread: threading.Thread | None = None  # the work a button started
    _cancel: threading.Event | None = None  # set by Cancel: the running save stops at its next step

    @property
    def last_saved(self) -> Path | None:
        """The folder this panel last saved the design to (None before its first save)."""
        return None if self._saved is None else self._saved[0]

    def wait(self) -> None:
        """Wait until the Save or Verify a button started has finished (scripts, tests)."""
        if self._thread is not None:
            self._thread.join()

    def save(self) -> Path:
        """Write the folder (atomically: an interrupted save leaves nothing half-written). A design with
        an error is refused (SpecError), never saved as its last valid state."""
        self._design.flush()  # a Save right after an edit saves that edit
        self._refuse_errors()
        self._cancel = threading.Event()  # cancel() from another thread stops it
        return self._write(self._design.spec, self._design.summary["total"])

    def cancel(self) -> None:
        """Stop the running save at its next parameter or chunk: nothing it wrote is left on disk, and a
        folder it would have replaced is kept as it was."""
        if self._cancel is not None:
            self._cancel.set()
            self.cancelling = True

    def _refuse_errors(self) -> None:
        errors = self._design.errors
        if errors:
            path, message = next(iter(errors.items()))
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise SpecError("save", f"the design has an error at {where(path)}{more}: {message}; fix it to save")

    def verify(self) -> dict[str, Any]:
        """Reload the saved folder with transformers alone; the report says what came back."""
        from composer.checkpoint import check

        report = check(Path(self.folder).expanduser().resolve())
        self.progress = 1.0
        line = f"Verified: {report['architecture']} reloaded with {report['parameters']:,} parameters"
        if self._saved and self._saved[0] == Path(report["folder"]):
            expected = self._saved[1]
            line += " (as saved)" if report["parameters"] == expected else f" (saved {expected:,})"
        self.report = report
        self.status = f"{line} from {report['folder']}"
        return report

    def _write(self, spec, total: int) -> Path:
        from composer.checkpoint import save

        def progress(report: Progress) -> None:
            with self.hold_sync():
                self.progress = report.fraction
                self.status = report.line()

        self.report = {}
        try:
            path = save(spec, self.folder, overwrite=self.overwrite, progress=progress, cancel=self._cancel)
        finally:
            self._cancel, self.cancelling = None, False
        self._saved = (path, total)
        self.status = f"Saved {spec.architecture or spec.model_type} ({total:,} parameters) to {path}"
        return path

    def _action(self, name: str, content: dict[str, Any]) -> None:
        if name == "cancel":
            self.cancel()
            return
        if self.busy or name not in ("save", "verify"):
            return
        if name == "save":
            self._design.flush()  # here, on the kernel's thread, before the work leaves it
            try:
                self._refuse_errors()
            except SpecError as err:
                self.status = ""  # the same refusal twice still shows as new
                self.status = f"Failed: {err.message}"
                return
            job, args = self._write, (self._design.spec, self._design.summary["total"])
        else:
            job, args = self.verify, ()
        self.busy, self.progress, self.cancellable = True, 0.0, name == "save"
        self._cancel = threading.Event() if name == "save" else None
        self._thread = threading.Thread(target=self._run, args=(job, *args), name=f"composer-{name}", daemon=True)
        self._thread.start()

    def _run(self, job, *args) -> None:
        try:
            job(*args)
        except Cancelled as err:
            self.status = f"Cancelled: {err.message.removeprefix('cancelled; ')}"
        except FolderExists as err:
            self.status = f"Failed: {err.told('tick overwrite').message}"
        except SpecError as err:
            self.status = f"Failed: {err.message}"
        except OSError as err:
            self.status = f"Failed: {err}"
        except Exception as err:  # a transformers failure while saving or loading: shown, not lost in a log
            self.status = f"Failed: {type(err).__name__}: {err}"
        finally:
            self.busy = self.cancellable = False
