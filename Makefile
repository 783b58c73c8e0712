# grpo_nb: `make demo` runs the main job, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU-only machines take torch 2.13.0's CPU build; with an NVIDIA GPU, pip's default (CUDA) build.
TORCH ?= $(if $(shell command -v nvidia-smi 2>/dev/null),torch,torch==2.13.0)

.PHONY: setup demo test lab export clean bench

$(BIN)/grpo-nb: settings.ini setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name grpo-nb --display-name "Python (grpo_nb)" >/dev/null
	touch $@

setup: $(BIN)/grpo-nb

demo: setup
	$(BIN)/grpo-nb validate data/mgl_history_grpo.jsonl
	$(BIN)/grpo-nb report

test: setup
	$(BIN)/nbdev_test --path nbs
	$(BIN)/python -m pytest -q tests

lab: setup
	$(BIN)/jupyter lab --notebook-dir=nbs

export: setup
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean

bench: setup
	$(BIN)/python bench/validate.py
