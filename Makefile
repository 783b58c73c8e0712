# grpo_nb: `make demo` runs the main job, `make test` runs every test, `make test-quick` those that train nothing. All set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU-only machines take torch 2.13.0's CPU build; with an NVIDIA GPU, pip's default (CUDA) build.
TORCH ?= $(if $(shell command -v nvidia-smi 2>/dev/null),torch,torch==2.13.0)

.PHONY: setup demo test test-quick test-notebooks test-pytest test-notebooks-quick test-pytest-quick lab export clean bench

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

# `make test` (what CI runs): the default model is built into its cache first, alone; then two jobs side by side:
# the artefacts the tests share, each trained once (tests/artifacts.py), then the notebooks with their `slow` cells,
# which read them; and pytest, whose tests of those artefacts run last. One torch thread a process: the tiny model's
# matrices are too small for a second thread to pay, where a second process keeps the other core busy.
# The training notebook 11 runs under pytest (`grpo-nb report`, papermill), not nbdev_test.
TEST_ARTIFACTS ?= $(CURDIR)/.cache/test-artifacts
NBDEV_TEST := $(BIN)/nbdev_test --path nbs --skip_file_re '^11_training_run' --timing
test test-notebooks test-pytest: export GRPO_NB_TEST_ARTIFACTS = $(TEST_ARTIFACTS)
test-notebooks test-pytest test-notebooks-quick test-pytest-quick: export OMP_NUM_THREADS = 1

test: setup
	rm -rf $(TEST_ARTIFACTS)
	$(BIN)/python tests/artifacts.py model
	$(MAKE) --no-print-directory -j2 --output-sync=line test-notebooks test-pytest

test-quick: setup
	$(MAKE) --no-print-directory -j2 --output-sync=line test-notebooks-quick test-pytest-quick

test-notebooks:
	$(BIN)/python tests/artifacts.py dpo grpo
	$(NBDEV_TEST) --flags slow

test-pytest:
	$(BIN)/python -m pytest -q tests

test-notebooks-quick:
	$(NBDEV_TEST)

test-pytest-quick:
	$(BIN)/python -m pytest -q -m "not train" tests

lab: setup
	$(BIN)/jupyter lab --notebook-dir=nbs

export: setup
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean

bench: setup
	$(BIN)/python bench/validate.py
