"""Previews: what a tokenizer, image processor, feature extractor or processor does to one input.

Pure computations for the widgets to render: plain JSON-serialisable dicts, with ``bytes`` for
images (PNG) and audio (WAV, float32 envelopes). No widget imports.
"""

from composer.preview._common import PreviewError

__all__ = ["PreviewError"]
