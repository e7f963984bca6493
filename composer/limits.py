"""Every bound the composer puts on what a person can give it, in one place.

Each is checked before the value is used (before any allocation, network or filesystem call), and a
value past one is refused with the figure and the limit. The README lists them.
"""

# ----- the Spec as a file and as a value ------------------------------------------------------
MAX_SPEC_BYTES = 4 * 2**20  # a spec file; long training text lives in files, not in the Spec
MAX_DEPTH = 32  # nesting of objects and lists in a Spec
MAX_STRING_CHARS = 1_000_000  # one string value
MAX_INT = 2**53  # |integer|: what JavaScript (the page) holds exactly
MAX_SHOWN_CHARS = 80  # how much of a bad value an error message repeats
MAX_LISTED_CHOICES = 12  # a refused choice lists every allowed value up to this many, else the closest three
MAX_QUOTED_CHARS = 500  # how much of a transformers error message one error line quotes (it may echo a value)

# ----- paths and hub ids ------------------------------------------------------------------------
MAX_PATH_BYTES = 4096  # a whole path, UTF-8 encoded, as Linux counts PATH_MAX
MAX_NAME_BYTES = 255  # one path component (NAME_MAX)

# ----- sizes in a design (checked before anything is built) -------------------------------------
MAX_LAYERS = 1_000  # any count of repeated blocks (num_hidden_layers, n_layers, depths, ...); ~2 ms each on meta
MAX_LABELS = 100_000  # num_labels / id2label entries (ImageNet-21k has 21,843)
MAX_VOCAB = 2**26  # any vocabulary size (67,108,864): 3x the largest default, longcat's 20M n-gram table
MAX_CONFIG_INT = 2**31 - 1  # any other integer of a config: the largest index a torch int32 kernel takes
MAX_EXPERTS = 65_536  # experts of a mixture-of-experts layer: 4x the most any default has (doge: 16,384)
MAX_MODULES = 50_000  # modules one design builds, for counts no name says (albert groups, mimi quantizers) and products (BERT at MAX_LAYERS: 18,012)
MAX_TRACED_MODULES = 1_000  # modules of a model whose output shapes a meta forward pass reads (~1 ms each); larger: "—"
MAX_CACHED_SUMMARIES = 32  # designs whose summary (and weights' bytes) is kept, for undo and re-renders
MAX_CACHED_VARIANTS = 16  # few-layer builds kept by composer.repeats: an edit of a layer count reuses them
MAX_CACHED_SECTIONS = 256  # checked sections kept by composer.sections: an edit re-checks only the section it changed
MEMORY_MARGIN = 1.5  # a CPU build needs its weights' bytes this many times (init temporaries, contiguous copies)
MEMORY_RESERVE = 2**30  # ... plus this much for Python, torch and the page cache, against MemAvailable

# ----- preprocessing (checked before a processor runs) -----------------------------------------
MAX_PIXELS = 25_000_000  # an image to preview (~75 MB decoded); JPEGs up to 8x8 larger are reduced while decoding
MAX_RESIZED_PIXELS = 25_000_000  # what resizing, cropping or padding makes of an image (~300 MB as float32 RGB)
MAX_SAMPLING_RATE = 384_000  # Hz, of a clip or a feature extractor: the highest rate audio hardware records
MAX_RESAMPLE_FACTOR = 10_000  # up or down factor of a polyphase resample (44.1k->16k is 160/441); its filter has 20x this many taps
MAX_MEL_BINS = 1_024  # feature_size / n_mels / num_mel_bins of a feature extractor (models use 64-128)
MAX_AUDIO_SECONDS = 600.0  # any duration option of a feature extractor (chunk_length: Whisper pads every clip to it)
MAX_AUDIO_WINDOW = 65_536  # any other integer option of a feature extractor (n_fft, hop_length, padding multiples, Hz)
MAX_COMPARED_CHARS = 5_000  # the tokenizer backend comparison runs on this much of a text (100,000 took 12 s)

# ----- trained tokenizers (tokenizer.train) -----------------------------------------------------
MIN_TRAINED_VOCAB = 1  # vocab_size; what a text lets training reach (its characters, its merges) is said after training
MIN_TRAINING_FREQUENCY = 0  # min_frequency: how often a pair must occur to be merged

# ----- saving a checkpoint folder -----------------------------------------------------------------
SAVE_LOCK_WAIT_SECONDS = 10  # a second save to a target another save holds waits this long, then is refused
SAVE_CHUNK_BYTES = 64 * 2**20  # a save writes its weights this much at a time: the step of its progress and of a Cancel

# ----- the catalog cache (composer.catalog_cache) ------------------------------------------------
MAX_CATALOG_CACHE_BYTES = 64 * 2**20  # the file of one transformers version; a larger one is not read (rebuilt)

# ----- checkpoint folders (read before anything trusts them) -----------------------------------
MAX_FOLDER_JSON_BYTES = 16 * 2**20  # config.json and the processors' configs (a tokenizer_config.json with many added tokens is a few MB)
MAX_SAFETENSORS_HEADER_BYTES = 100_000_000  # a safetensors header; the safetensors library's own ceiling

# ----- training plans (composer.training; checked before the fake-tensor step runs) --------------
MAX_MICRO_BATCH = 65_536  # sequences, images or clips per device per step
MAX_SEQUENCE_LENGTH = 2**20  # tokens of one training sequence or inference context (1M: the longest trained)
MAX_IMAGE_SIZE = 8_192  # pixels on a side of a training image
MAX_TENSOR_PARALLEL = 64  # tensor-parallel degree: one NVLink domain (8 per node; 72 in an NVL72 rack)
MAX_DEVICES = 1_048_576  # devices of one run: a plan past that says no count fits
MAX_DEVICE_MEMORY_GB = 4_096  # a custom device's memory, in GiB
MAX_PEAK_TFLOPS = 100_000  # a custom device's dense peak
MAX_HEADROOM = 0.9  # fraction of a device's memory kept free
MAX_TOKEN_BUDGET = 10**16  # tokens of a training run (Llama 3 trained on 1.5e13)
MAX_TOKENS_PER_PARAM = 100_000  # a budget given per parameter (Chinchilla: 20)
MAX_CACHED_MEASUREMENTS = 32  # measured steps kept: an edit of the layout, devices or device kind measures nothing

# ----- parameter budgets (composer.budget) ------------------------------------------------------
MAX_BUDGET_SCAN = 1_024  # values a budget search checks one by one for the spacing of a field's valid values (~2 ms each)
