"""The one error type a user sees: it names the field and what is allowed."""


class SpecError(ValueError):
    """A design that cannot be built, with the dotted path of the field at fault.

    ``str(err)`` is the one line the command line prints, e.g.
    ``config.n_heads: expected int, got 'twelve'``.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class ComposerWarning(UserWarning):
    """A value was corrected (e.g. a 5.x silent trap); the message says what and why."""


def one_line(err: Exception) -> str:
    """An exception from transformers as one line: its message (a KeyError's without the quotes that
    str() adds), else its type's name."""
    text = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str) \
        else str(err)
    return " ".join(text.split()) or type(err).__name__
