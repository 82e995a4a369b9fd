# gpu-rwa: every entry point a user or CI needs. Nothing here assumes more than python3 (3.11+),
# node/npm and make; the virtualenv and node_modules are (re)built only when their lock inputs change.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# bin/ first: its `anvil` wrapper is what ape-foundry launches (see bin/anvil).
export PATH := $(CURDIR)/bin:$(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

# Ports: each job gets a chain of its own, so none touches the persistent `make node` chain.
# Settings: `make test TEST_PORT=9546`, or exported once in the shell (two people on one machine
# each pick their own). Scripts reach a node on another port than 8545 through APE_FOUNDRY_HOST.
NODE_PORT ?= 8545
TEST_PORT ?= 8546
DEMO_PORT ?= 8547
BENCH_PORT ?= 8548
DEMO_DEFAULT_PORT ?= 8549
GANACHE_PORT ?= 8555
NODE_STATE ?= .anvil/state.json

.PHONY: help deps demo demo-default test test-ganache node bench lint format lock clean

help:
	@echo "make demo          deploy to an auto-started Anvil and run the lifecycle (DEMO_PORT=$(DEMO_PORT))"
	@echo "make demo-default  a lease default and the wind-down to zero (DEMO_DEFAULT_PORT=$(DEMO_DEFAULT_PORT))"
	@echo "make test          the whole test suite on an Anvil that ape starts and stops (TEST_PORT=$(TEST_PORT))"
	@echo "make test-ganache  the same suite on a Ganache started and stopped here (GANACHE_PORT=$(GANACHE_PORT))"
	@echo "make node          a persistent Anvil whose state and time survive restarts (NODE_PORT=$(NODE_PORT))"
	@echo "make bench         gas per operation into reports/gas.json and reports/gas.md (BENCH_PORT=$(BENCH_PORT))"
	@echo "make lint          contract sources in printable ASCII, then ruff over the Python code"
	@echo "ports are settings: make test TEST_PORT=9546; scripts reach a node on another port"
	@echo "through APE_FOUNDRY_HOST=http://127.0.0.1:PORT"

$(PY_STAMP): pyproject.toml constraints.txt plugins/ape-ganache-local/pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt \
		-e ".[dev]" -e plugins/ape-ganache-local
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# ape recompiles a contract when its own file changes, not when a module it imports does:
# rebuild everything whenever any source under contracts/ changed.
BUILD_STAMP := .build/.sources
CONTRACT_SOURCES := $(shell find contracts -name '*.vy' -o -name '*.vyi')

$(BUILD_STAMP): $(PY_STAMP) $(CONTRACT_SOURCES)
	ape compile --force
	touch $@

deps: $(PY_STAMP) $(NODE_STAMP) $(BUILD_STAMP)

demo: deps
	APE_FOUNDRY_HOST=http://127.0.0.1:$(DEMO_PORT) ape run demo --network ethereum:local:foundry

demo-default: deps
	APE_FOUNDRY_HOST=http://127.0.0.1:$(DEMO_DEFAULT_PORT) ape run demo --scenario default \
		--network ethereum:local:foundry

# Test runs keep bytecode: only then does pytest cache its assertion rewrites of the test modules
# (and of ape's and hypothesis's, which it rewrites as plugins); without that cache every run
# parses and compiles them again (~9 s). __pycache__/ is ignored by git.
KEEP_BYTECODE := PYTHONDONTWRITEBYTECODE=

test: deps
	$(KEEP_BYTECODE) APE_FOUNDRY_HOST=http://127.0.0.1:$(TEST_PORT) \
		ape test --network ethereum:local:foundry

test-ganache: deps
	$(KEEP_BYTECODE) python -m gpu_rwa.ganache --port $(GANACHE_PORT) -- \
		ape test --network ethereum:local:ganache-local

# gpu_rwa.node starts Anvil (bin/anvil), keeps block 0 and chain time across restarts.
node: deps
	python -m gpu_rwa.node --port $(NODE_PORT) --state $(NODE_STATE)

bench: deps
	APE_FOUNDRY_HOST=http://127.0.0.1:$(BENCH_PORT) ape run bench --network ethereum:local:foundry

# Contract sources: printable ASCII and newlines only (see src/gpu_rwa/sources.py for why).
lint: deps
	python -m gpu_rwa.sources contracts
	ruff check src scripts tests plugins
	ruff format --check src scripts tests plugins

format: deps
	ruff check --fix src scripts tests plugins
	ruff format src scripts tests plugins

# Re-resolve constraints.txt from pyproject.toml (run after changing dependencies).
lock:
	rm -rf .lock-venv
	python3 -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e ".[dev]"
	{ echo '# Exact versions for a reproducible venv (see Makefile); regenerate with `make lock`.'; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -vE '^(-e|pip==|setuptools==)'; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) node_modules .build .anvil
