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
MAX_QUOTED_CHARS = 500  # how much of a transformers error message one error line quotes (it may echo a value)

# ----- paths and hub ids ------------------------------------------------------------------------
MAX_PATH_BYTES = 4096  # a whole path, UTF-8 encoded, as Linux counts PATH_MAX
MAX_NAME_BYTES = 255  # one path component (NAME_MAX)

# ----- sizes in a design (checked before anything is built) -------------------------------------
MAX_LAYERS = 1_000  # any count of repeated blocks (num_hidden_layers, n_layers, depths, ...); ~2 ms each on meta
MAX_LABELS = 100_000  # num_labels / id2label entries (ImageNet-21k has 21,843)

# ----- saving a checkpoint folder -----------------------------------------------------------------
SAVE_LOCK_WAIT_SECONDS = 10  # a second save to a target another save holds waits this long, then is refused

# ----- checkpoint folders (read before anything trusts them) -----------------------------------
MAX_FOLDER_JSON_BYTES = 16 * 2**20  # config.json and the processors' configs (a tokenizer_config.json with many added tokens is a few MB)
MAX_SAFETENSORS_HEADER_BYTES = 100_000_000  # a safetensors header; the safetensors library's own ceiling
