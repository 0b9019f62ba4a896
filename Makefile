# One entry point for people and CI. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch 2.13.0 is the CPU build available on the team's machines; any other spec may pull a CUDA build.
TORCH_SPEC ?= torch==2.13.0

export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install run index test test-all lint fmt typecheck eval bench load bench-scale corpus clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: install            ## install, build the index on first run, serve the app on 127.0.0.1:7860
	$(PY) app.py

index: install          ## build or update the index (incremental)
	$(VENV)/bin/kb index

test: install           ## install (incl. headless Chromium and PostgreSQL for the browser/server tests) and run the test suite
	bash scripts/install-browser.sh
	bash scripts/install-services.sh
	$(PY) -m pytest

test-all: install       ## also the slow tests (exhaustive model-faithfulness sweep)
	$(PY) -m pytest -m "slow or not slow"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .  # also the Python blocks in README.md and docs/

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install
	$(VENV)/bin/mypy kb

corpus: install         ## re-convert corpus/source/*.txt into corpus/*.md
	$(PY) -m indexer.convert

eval: install           ## retrieval report for the current tree -> eval/reports/latest
	$(PY) -m eval.retrieval --questions eval/questions.jsonl --modes keyword,semantic,hybrid --k 10 --out eval/reports/latest

bench: install          ## search/ask latency per mode, cold index time, encode speed torch vs onnx -> bench/reports/
	$(PY) bench/bench_search.py --work-dir /tmp/kb-bench --out bench/reports

load: install           ## 16 clients x 50 requests against 1 and 2 app replicas on a Chroma server -> bench/reports/load.{md,json}
	$(PY) bench/load.py

bench-scale: install    ## corpus 1x/10x/100x generated from the real text (indexer/scale_corpus.py), real embedding: build time, CPU, size, RSS, search p50/p95 -> bench/reports/scale.{md,json}
	$(PY) bench/bench_scale.py

clean:
	rm -rf .kb test-artifacts .pytest_cache
