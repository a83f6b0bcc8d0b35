# The course's commands. `make run` executes the course, `make test` runs every check.
# Both create .venv/ and install everything on first use (course_tools/bootstrap.py), at the exact versions
# of requirements-lock.txt, the environment the committed notebook outputs were made with.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU threads and quiet start-up are set in one place, companion.notebook_setup.QUIET_ENVIRONMENT,
# applied when `companion` is imported (before torch); notebook kernels inherit it.

.PHONY: install run test check lab notebooks readme bench clean student site browser lock test-latest test-colab

install:  ## create .venv/ with the locked versions (requirements-lock.txt)
	@$(PYTHON) -m course_tools.bootstrap $(VENV)

lock: install  ## (authors) resolve requirements-lock.txt again from pyproject.toml (uv pip compile, hashes)
	@$(BIN)/python -m course_tools.lock

test-colab: install  ## every notebook, both editions, in a venv that starts as Colab's image (course_tools/colab_check.py)
	@$(BIN)/python -m course_tools.colab_check

test-latest:  ## the test suite in .venv-latest/ with the newest release of every package, report in build/latest/
	@$(PYTHON) -m course_tools.test_latest

# The edition `make run` executes: en (default) or de (make run LANGUAGE=de).
LANGUAGE ?= en

run: install  ## execute every notebook of one edition headless into build/executed/<lang>/
	@$(BIN)/python -m course_tools.run run --language $(LANGUAGE)

# pytest workers side by side, one CPU thread each; a test file or notebook stays on one worker.
TEST_JOBS ?= 2
# The venv's ruff (the lock's version, test extra); `uvx ruff` where the venv has none.
RUFF = $(if $(wildcard $(BIN)/ruff),$(BIN)/ruff,uvx ruff)
# The check tier (conftest.py, "tiers"): no real model, no notebook kernel, no browser, no CUDA.
CHECK_TIER := not slow and not notebooks and not browser and not gpu

# Both run ruff and then pytest, and fail if either failed (a contributor sees every problem at once).
test: install browser  ## the whole test suite (package, tiny model, notebooks in both languages, site and browser, README) and ruff
	@status=0; $(RUFF) check . || status=1; \
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile || status=1; exit $$status

check: install  ## the quick loop before a commit (under a minute on 2 cores): ruff and the check tier of tests/, no apt-get
	@status=0; $(RUFF) check . || status=1; \
	$(BIN)/python -m pytest tests -n $(TEST_JOBS) --dist load -m "$(CHECK_TIER)" || status=1; exit $$status

lab: install  ## open the course in JupyterLab
	@$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

notebooks: install  ## (authors) rebuild and re-execute notebooks from notebooks/src; one only: make notebooks NOTEBOOK=03
	@$(BIN)/python -m course_tools.build_notebooks --execute $(NOTEBOOK)

readme: install  ## (authors) regenerate the README's notebook table
	@$(BIN)/python -m course_tools.readme_table --write

bench: install  ## benchmarks: speed and memory, printed and written to build/bench.json
	@$(BIN)/python -m course_tools.bench --json build/bench.json

clean:
	rm -rf build/

student: install  ## the student edition: every notebook without solutions or outputs, in build/student/<lang>/
	@$(BIN)/python -m course_tools.student_edition

site: install  ## the course website from the executed notebooks, in build/site/ (python -m http.server -d build/site)
	@$(BIN)/python -m course_tools.build_site

# Headless Chromium for the browser tests (tests/test_browser.py): Debian's package, driven by
# Playwright from PyPI. Installed only where that is possible without a password; otherwise
# one line says so and the browser tests skip.
CHROMIUM ?= /usr/bin/chromium

browser:  ## (tests) install Debian's chromium for the browser tests, if missing and allowed
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "browser: $(CHROMIUM) is installed."; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser: no apt-get here; install Chromium yourself (the browser tests skip without it)."; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			&& echo "browser: installed $(CHROMIUM)." \
			|| echo "browser: apt-get install chromium failed; the browser tests will skip."; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		(sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			&& echo "browser: installed $(CHROMIUM)." \
			|| echo "browser: sudo apt-get install chromium failed; the browser tests will skip."; \
	else \
		echo "browser: $(CHROMIUM) is missing and needs root: sudo apt-get install chromium (the browser tests skip without it)."; \
	fi

.PHONY: test-gpu margins

# On a machine with a CUDA GPU, after `make install` (kept out of this target so that without a GPU
# it answers in one line): strict nbval on CUDA, the gpu tests, the notebooks with a hub model in 4-bit.
test-gpu:  ## the GPU checks (course_tools/gpu_check.py); executed notebooks go to build/gpu/
	@$(BIN)/python -m course_tools.gpu_check

margins: install  ## (authors) execute every notebook and write the greedy margins to notebooks/greedy_margins.json
	@$(BIN)/python -m course_tools.margins record
