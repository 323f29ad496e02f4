# Two commands on a fresh machine: `make serve` and `make test`. Both create or update .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime

.PHONY: serve emulate test lint venv clean bench bench-streams bench-instructions lock chaos test-property

# The venv holds exactly the versions in requirements-dev.lock (hash-checked), then the package
# itself without dependencies. Rebuilt when pyproject.toml or either lock file changes.
$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

# `make serve` and `make emulate` need only the runtime set (requirements.lock): no test, lint
# or bench tools. In a venv that already has the dev set this installs nothing new; `make test`
# afterwards adds the dev set to the same venv.
$(RUNTIME_STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(RUNTIME_STAMP)

venv: $(STAMP)

# Re-resolve the locks from pyproject.toml's ranges with uv (pinned in the dev lock): the runtime
# set, then the dev set constrained to the same runtime versions. Pins still allowed are kept;
# `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed versions. --universal:
# one lock for every platform and Python >= 3.11 (markers, hashes for every published file).
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command 'make lock' $(LOCK_ARGS)
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) \
		-c requirements.lock -o requirements-dev.lock

serve: $(RUNTIME_STAMP)
	$(BIN)/kimi-gateway serve $(ARGS)

emulate: $(RUNTIME_STAMP)
	$(BIN)/kimi-gateway emulate $(ARGS)

# pytest first so its summary is always printed; then the static checks.
test: $(STAMP)
	@status=0; \
	$(BIN)/pytest $(PYTEST_ARGS) || status=1; \
	$(MAKE) --no-print-directory lint || status=1; \
	exit $$status

# Size caps (tools/check_sizes.py): modules <= 400 lines and functions <= 50 in src and tools;
# in tests the module cap only (several test functions are long tables of cases).
lint: $(STAMP)
	$(BIN)/ruff check src tests tools examples
	$(BIN)/ruff format --check src tests tools examples
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/check_sizes.py src tools
	$(BIN)/python tools/check_sizes.py --modules-only tests

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# The "zero preventable Kimi 400s" property test (issue 9) with more examples than CI's 500 per
# dialect: PROPERTY_EXAMPLES=20000, PROPERTY_SEED=<n> for a random run instead of the fixed one.
PROPERTY_EXAMPLES ?= 5000
test-property: $(STAMP)
	KIMI_PROPERTY_EXAMPLES=$(PROPERTY_EXAMPLES) KIMI_PROPERTY_SEED=$(PROPERTY_SEED) \
		$(BIN)/pytest -p no:cacheprovider tests/e2e/test_no_preventable_400s.py $(PYTEST_ARGS)

# The chaos suite in full (issue 12): emulator faults and limits under concurrent load, one and
# two gateway processes (Redis on 127.0.0.1:6379 for two; CHAOS_ARGS=--redis-url= skips them).
chaos: $(STAMP)
	$(BIN)/kimi-gateway chaos $(CHAOS_ARGS)

# Side-by-side benchmark (issues 5, 12-15): bench/run.py. The gateway plain, bare and with its
# production features (in memory; Redis + PostgreSQL), the SDK in-process, Portkey,
# claude-code-router, LiteLLM and a bare relay floor. Installs nginx/wrk (apt), LiteLLM (pip)
# and the Node peers (npm) if missing; BENCH_ARGS=--profile adds a py-spy profile.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Instructions per request under callgrind (deterministic, unlike CPU time on a shared VM):
# INSTR_ARGS='--ref d52a093' adds an older tree. Installs valgrind. bench/README.md.
bench-instructions: $(STAMP)
	$(BIN)/python bench/instructions.py $(INSTR_ARGS)

# Long streams, workers, time to first token (issue 15 items 6-8): bench/STREAMS.md.
# STREAMS_ARGS='--streams 1000 --seconds 10' for a quick run. Needs wrk (bench-workers).
bench-streams: $(STAMP)
	$(BIN)/python bench/streams.py --out bench/.work/STREAMS-last.md $(STREAMS_ARGS)
	$(BIN)/python bench/ttft.py
	$(BIN)/python bench/workers.py
