"""PanelToggle: the heading of a Composer panel that opens and closes it, and says, while it is closed
too, that its part of the design has an error and at which field."""

from __future__ import annotations

import anywidget
import traitlets

from widgets._base import bundle


class PanelToggle(anywidget.AnyWidget):
    """A button (``aria-expanded``) titled by the panel, with a note and the fields in error beside the
    title (both part of its accessible name)."""

    _esm = bundle("panel_toggle.js")
    _css = bundle("composer.css")

    title = traitlets.Unicode("").tag(sync=True)
    expanded = traitlets.Bool(False).tag(sync=True)  # set by a click in the page or from Python
    problems = traitlets.List(traitlets.Unicode()).tag(sync=True)  # where its section's errors are
    note = traitlets.Unicode("").tag(sync=True)  # beside the title: e.g. that the model does not use it
