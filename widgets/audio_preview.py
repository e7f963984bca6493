"""AudioPreview: a feature extractor's form beside what it does to a clip: the waveform before, the
features after (a normalised waveform, or a log-mel spectrogram as a picture), a batch of two clips
of different lengths with padding and attention mask, and a player for the input. Waveforms reach
the browser as float32 envelopes, spectrograms as PNGs, the clip as WAV bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import traitlets

from composer.preview import PreviewError
from composer.preview.audio import audio_preview, load_wav, sample_speech, sample_tone
from composer.spec import Spec
from widgets._base import bundle
from widgets._preview import PreviewView
from widgets.part_form import FormAndView

SAMPLES = {"speech": "speech.wav: “The quick brown fox…”, 16 kHz (sample)",
           "tone": "rising tone with a pause, 2 s at 16 kHz (sample)"}


class AudioView(PreviewView):
    """The preview half: one clip through the design's feature extractor, redrawn on every option change."""

    _esm = bundle("audio_preview.js")
    key = "feature_extractor"
    half = "preview"  # beside its options (FormAndView)
    lists_errors = False  # its form lists them
    by_path = ": preview.load_audio(path)"

    # Input
    source = traitlets.Unicode(SAMPLES["speech"]).tag(sync=True)
    sample = traitlets.Unicode("speech").tag(sync=True)  # the sample shown, "" for a clip of the person's
    resample = traitlets.Bool(False).tag(sync=True)  # convert a clip at another rate instead of refusing it

    def __init__(self, spec: Spec | dict | str | Path | None = None, **kwargs: Any):
        self._clip = (*sample_speech(), [])  # (waveform, sampling rate, notes from reading it)
        self._loads = 0  # counts clips loaded: a new clip may reuse a freed one's id(), never its number
        super().__init__(spec, **kwargs)

    def load_audio(self, audio: Any, sampling_rate: int | None = None, name: str | None = None) -> None:
        """Preview a WAV file (path or bytes) or an array of samples at ``sampling_rate``. A file that
        cannot be read raises PreviewError with the reason; the previous clip stays."""
        if isinstance(audio, np.ndarray):
            if not sampling_rate:
                raise PreviewError("give the array's sampling_rate, e.g. load_audio(samples, sampling_rate=16000)")
            self._clip = (audio, int(sampling_rate), [])
        else:
            self._clip = load_wav(audio, name=name)
        self._loads += 1
        self.sample, self.source = "", name or (Path(audio).name if isinstance(audio, (str, Path)) else "your clip")
        self.request()

    def use_sample(self, name: str = "speech") -> None:
        if name not in SAMPLES:
            raise PreviewError(f"no sample {name!r}; choose {' or '.join(SAMPLES)}")
        self._clip = (*(sample_speech() if name == "speech" else sample_tone()), [])
        self._loads += 1
        self.sample, self.source = name, SAMPLES[name]
        self.request()

    def upload(self, kind: str, name: str, data: bytes) -> None:
        self.load_audio(data, name=name)

    def _action(self, name: str, content: dict) -> None:
        if name == "sample":
            self.use_sample(str(content.get("sample", "speech")))

    @traitlets.observe("resample")
    def _resample_changed(self, change) -> None:
        self.request()

    def _inputs(self) -> Any:
        return (*super()._inputs(), self._loads, self.resample)

    def _compute(self) -> dict[str, Any]:
        extractor, notes = self.part()
        waveform, rate, read_notes = self._clip
        try:
            result = audio_preview(extractor, waveform, rate, resample=self.resample)
        except PreviewError as err:
            if "expects" in str(err) and "Hz" in str(err):  # the sampling-rate mismatch: the fix is a tick away
                raise PreviewError(f"{err}. Here: tick “resample”.") from None
            raise
        result["clip_rate"] = rate
        result["warnings"] = [*notes, *read_notes, *result["warnings"]]
        return result


class AudioPreview(FormAndView):
    """Edit a feature extractor and hear and see one clip go through it. ``AudioPreview(spec=...)``
    restores a design, ``.spec`` returns it (its ``feature_extractor`` section is what this edits),
    and ``load_audio(path)`` previews your own WAV file."""

    view_class = AudioView

    def load_audio(self, audio: Any, sampling_rate: int | None = None, name: str | None = None) -> None:
        self.view.load_audio(audio, sampling_rate, name)

    def use_sample(self, name: str = "speech") -> None:
        self.view.use_sample(name)
