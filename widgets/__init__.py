"""Widgets for composing a transformers architecture in JupyterLab: ``from widgets import Composer``.

Each part is usable alone (``ConfigForm(spec=...)``); inside a Composer they share one design."""

from widgets.architecture_view import ArchitectureView
from widgets.audio_preview import AudioPreview
from widgets.backbone_picker import BackbonePicker
from widgets.code_view import CodeView
from widgets.compare import Compare
from widgets.composer_widget import Composer
from widgets.config_form import ConfigForm
from widgets.head_picker import HeadPicker
from widgets.image_preview import ImagePreview
from widgets.model_summary import ModelSummary
from widgets.model_type_picker import ModelTypePicker
from widgets.processor_builder import ProcessorBuilder
from widgets.save_panel import SavePanel
from widgets.tokenizer_preview import TokenizerPreview

__all__ = ["ArchitectureView", "AudioPreview", "BackbonePicker", "CodeView", "Compare", "Composer", "ConfigForm", "HeadPicker", "ImagePreview",
           "ModelSummary", "ModelTypePicker", "ProcessorBuilder", "SavePanel", "TokenizerPreview"]
