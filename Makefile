# The course's commands. `make run` executes the course, `make test` runs every check.
# Both create .venv/ and install everything on first use (tools/bootstrap.py).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU threads and quiet start-up are set in one place, companion.notebook_setup.QUIET_ENVIRONMENT,
# applied when `companion` is imported (before torch); notebook kernels inherit it.

.PHONY: install run test lab notebooks readme bench clean

install:
	@$(PYTHON) tools/bootstrap.py $(VENV)

# The edition `make run` executes: en (default) or de (make run LANGUAGE=de).
LANGUAGE ?= en

run: install  ## execute every notebook of one edition headless into build/executed/<lang>/
	@$(BIN)/python -m companion.course run --language $(LANGUAGE)

# pytest workers side by side, one CPU thread each; a test file or notebook stays on one worker.
TEST_JOBS ?= 2

test: install  ## the whole test suite (package, tiny model, notebooks, README)
	@$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

lab: install  ## open the course in JupyterLab
	@$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

notebooks: install  ## (authors) rebuild and re-execute notebooks from notebooks/src; one only: make notebooks NOTEBOOK=03
	@$(BIN)/python tools/build_notebooks.py --execute $(NOTEBOOK)

readme: install  ## (authors) regenerate the README's notebook table
	@$(BIN)/python tools/readme_table.py --write

bench: install  ## benchmarks: speed and memory, printed and written to build/bench.json
	@$(BIN)/python -m companion.bench --json build/bench.json

clean:
	rm -rf build/
