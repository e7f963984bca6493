"""The one error type a user sees: it names the field and what is allowed."""

import reprlib

from composer.limits import MAX_QUOTED_CHARS, MAX_SHOWN_CHARS


class SpecError(ValueError):
    """A design that cannot be built, with the dotted path of the field at fault.

    ``str(err)`` is the one line the command line prints, e.g.
    ``config.n_heads: expected int, got 'twelve'``. A field path holding a huge key is cut short in
    that line (``field`` keeps it whole, for the views that place the error).
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{_clip(_printable(field), MAX_SHOWN_CHARS)}: {message}" if field else message)


class ComposerWarning(UserWarning):
    """A value was corrected (e.g. a 5.x silent trap); the message says what and why."""


def _printable(text: str) -> str:
    """A field path as one line: a key's control characters (a \\r, a form feed, U+2028, all line breaks
    to a terminal or str.splitlines) written as their escapes, as repr() writes them."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = MAX_SHOWN_CHARS
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 2, 6, 6, 4, 6


def shown(value) -> str:
    """A user's value as an error message repeats it: its repr, on one line and at most
    MAX_SHOWN_CHARS long (a 10 MB value must not become a 10 MB error line), with the full length
    of a long string or list said in words."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length():,} bits"  # repr() itself refuses 4,300+ digits
    text = _clip(_REPR.repr(value).replace("\n", " "), MAX_SHOWN_CHARS)
    whole = {str: MAX_SHOWN_CHARS - 2, list: _REPR.maxlist, dict: _REPR.maxdict}.get(type(value))
    if whole is not None and len(value) > whole:
        text += f" ({len(value):,} {'characters' if isinstance(value, str) else 'items'})"
    return text


def one_line(err: Exception) -> str:
    """An exception from transformers as one line: its message (a KeyError's without the quotes that
    str() adds), else its type's name; at most MAX_QUOTED_CHARS (messages can echo a huge value)."""
    text = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str) \
        else str(err)
    return _clip(" ".join(text.split()), MAX_QUOTED_CHARS) or type(err).__name__
