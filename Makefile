# The two commands a newcomer needs:
#   make app   - set everything up and start the app (http://127.0.0.1:8501)
#   make test  - set everything up and run the whole test suite (browser test included)
.PHONY: setup app test lint

# Spinning OpenMP threads crawl when the app and a training worker share 2 cores.
export OMP_WAIT_POLICY ?= PASSIVE

setup:
	@scripts/setup.sh

app: setup
	NUMBA_CACHE_DIR=$(CURDIR)/.numba_cache .venv/bin/python scripts/serve.py

test: setup
	@scripts/ensure_chromium.sh
	NUMBA_CACHE_DIR=$(CURDIR)/.numba_cache .venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
