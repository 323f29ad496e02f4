# Two commands on a fresh machine: `make serve` and `make test`. Both create or update .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve emulate test lint venv clean bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(BIN)/kimi-gateway serve $(ARGS)

emulate: $(STAMP)
	$(BIN)/kimi-gateway emulate $(ARGS)

# pytest first so its summary is always printed; then the static checks.
test: $(STAMP)
	@status=0; \
	$(BIN)/pytest $(PYTEST_ARGS) || status=1; \
	$(MAKE) --no-print-directory lint || status=1; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# Side-by-side benchmark vs LiteLLM and a bare relay floor (issue 5): bench/run.py.
# Installs nginx/wrk/LiteLLM if missing; BENCH_ARGS=--profile adds a py-spy profile.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
