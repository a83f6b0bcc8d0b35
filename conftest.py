"""Set-up for every pytest run in this repository, tests/ and the notebooks' nbval items alike.

pytest loads this file first however it is started (`make test`, or `pytest notebooks/en/01_...ipynb`
alone), so the notebook kernels that nbval starts are always one-threaded and offline.
"""

import functools
import inspect
import os
import re
import sys
from pathlib import Path

import pytest  # imports no torch

# One CPU thread for this process and the notebook kernels it starts for nbval, as the
# builder and `make run` do (course_tools.run.use_one_thread_per_kernel): `make test` runs two
# pytest workers side by side (pytest-xdist), one per core.
os.environ["OMP_NUM_THREADS"] = "1"

# Offline by construction (tests/offline/offline_guard.py): huggingface_hub reads
# HF_HUB_OFFLINE when it is imported, and any connection that leaves the machine fails,
# in this process and, through PYTHONPATH and tests/offline/sitecustomize.py, in every
# Python process the tests start (nbval's and papermill's notebook kernels included).
# Only the standard library is imported here, so companion still comes before torch.
OFFLINE_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests", "offline")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join([OFFLINE_FOLDER] + [
    entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry and entry != OFFLINE_FOLDER
])
sys.path.insert(0, OFFLINE_FOLDER)
import offline_guard  # noqa: E402,I001

offline_guard.install()

# Before anything imports torch: importing companion applies its quiet environment
# (OMP_WAIT_POLICY=PASSIVE, no progress bars), which the notebooks' kernels inherit too.
import companion  # noqa: E402,F401  (imported for its side effect, before torch)
from tests import doctor_sweep  # noqa: E402  (imports no torch; after the offline guard like the rest)

# --- tiers ------------------------------------------------------------------------------------
# `make check` runs the tier that needs neither the real model, nor a notebook kernel, nor a
# browser, nor CUDA: `-m "not slow and not notebooks and not browser and not gpu"` (CHECK_TIER).
# The markers are given here, from what a test uses, not by hand in each file:
#   slow       the `smollm2` fixture, a parameter that names the real model ("smollm2",
#              "smollm2-135m"), or source (the test's or one of its fixtures') that loads it:
#              load_model("smollm2-135m"), load_model(REAL_MODEL), smollm2_folder(), or a
#              `python -m course_tools.bench` run; and the tests of SLOW_WITHOUT_THE_REAL_MODEL.
#   notebooks  nbval's cells, and tests whose source (or a fixture's) executes a notebook:
#              run_notebook(, execute_notebook(, run_course(, execute_with_recorder( or a
#              `python -m course_tools.bench` run (it executes notebook 01).
#   browser    tests that use the `browser` helpers (tests/browser.py: Chromium, JupyterLab).
#   gpu        source that puts a model on "cuda"; skipped without CUDA.
#   faults     tests/test_faults.py (its own pytestmark).
# Two guards keep the check tier honest, in every run (`make check` and `make test` alike):
# a check-tier test that loads the real model fails on the spot (REAL_MODEL_GUARD), and one
# that uses more than CHECK_TIER_CPU_SECONDS of CPU (its own and its child processes',
# setup to teardown) fails the run at the end with a list of such tests: mark it, or add it to
# SLOW_WITHOUT_THE_REAL_MODEL with the reason. CPU time, not wall time: a shared machine's
# load stretches the wall clock, hardly the CPU seconds.

ROOT = Path(__file__).resolve().parent
CHECK_TIER = "not slow and not notebooks and not browser and not gpu"
TIER_MARKERS = ("slow", "notebooks", "browser", "gpu")
CHECK_TIER_CPU_SECONDS = float(os.environ.get("CHECK_TIER_CPU_SECONDS", "2"))  # lower it to see what comes close

REAL_MODEL_NAMES = {"smollm2", "smollm2-135m"}  # the session fixture's name, the model's name
LOADS_THE_REAL_MODEL = re.compile(
    r"""load_model\(\s*(["']smollm2-135m["']|REAL_MODEL\b)|\bsmollm2_folder\(|["']course_tools\.bench["']"""
)
EXECUTES_NOTEBOOKS = re.compile(
    r"""\b(run_notebook|execute_notebook|run_course|execute_with_recorder)\(|["']course_tools\.bench["']"""
)
# tests/test_faults.py's fixture: load_model("smollm2-135m") converts a small GGUF there, not the real one.
STAND_IN_FIXTURE = "small_gguf_as_smollm2"
USES_THE_BROWSER_HELPERS = re.compile(r"^from browser import|^import browser\b", re.MULTILINE)
USES_CUDA = re.compile(r"""device_map\s*=\s*["']cuda|\.cuda\(\)|torch\.device\(\s*["']cuda""")

# Tests that take seconds of CPU without the real model or a notebook, which the rules cannot see
# (a training run, a server, child processes): nodeid prefix, or a fixture's name -> why.
SLOW_WITHOUT_THE_REAL_MODEL = {
    "tests/test_tiny_model.py::test_retraining_is_deterministic": "trains tutorial-tiny again (~13 s CPU)",
    "tests/test_tiny_model.py::test_seeded_sampling_is_varied_and_reproducible_across_processes":
        "several child Pythons that import torch (~4 s CPU)",
    "tests/test_serve.py::test_completions_of_a_base_model": "starts `transformers serve` (~6 s CPU)",
    "tests/test_stampede.py::test_cheap_stampede_builds_once": "four child Pythons at once (~7 s CPU)",
    "tests/test_gpu_machinery.py::test_nbval_copies_ignore_the_outputs_of_device_dependent_cells":
        "copies and rewrites every notebook of both editions (~3 s CPU)",
    "tests/test_properties.py::test_batched_greedy_equals_one_prompt_at_a_time": "hypothesis: many batches (~3 s CPU)",
    "tests/test_faults.py::test_the_small_gguf_converts": "a converter child Python (~3 s CPU)",
    "tests/test_faults.py::test_full_disk_during_the_conversion": "a converter child Python (~3 s CPU)",
    "tests/test_faults.py::test_conversion_killed_mid_write": "two converter child Pythons (~6 s CPU)",
    "tests/test_faults.py::test_a_corrupted_cache_is_rebuilt_on_a_full_verify": "two converter children (~8 s CPU)",
    "tests/test_notebooks.py::test_xdist_cannot_split_a_notebooks_cells_between_workers": "a child pytest (~3 s CPU)",
    "site": "tests/test_site.py's fixture builds the course website from every notebook (~6 s CPU)",
}
# Check-tier tests allowed more than CHECK_TIER_CPU_SECONDS: the currency checks a contributor must
# see before a commit (each runs a child Python). nodeid -> CPU seconds allowed.
CHECK_TIER_ALLOWANCES = {
    "tests/test_notebooks.py::test_notebooks_are_built_from_current_sources": 6.0,
    "tests/test_project.py::test_readme_notebook_table_is_current": 6.0,
}


@functools.cache  # fixtures are shared by many tests: read each source once (collection time)
def source_of(function) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def sources(item) -> str:
    """The test's source and that of every fixture it uses (its closure), as one text."""
    texts = [source_of(getattr(item, "function", None))]
    fixture_info = getattr(item, "_fixtureinfo", None)
    for name in getattr(fixture_info, "names_closure", ()):
        for definition in fixture_info.name2fixturedefs.get(name, ()):
            texts.append(source_of(definition.func))
    return "\n".join(texts)


def module_source(item) -> str:
    module = getattr(item, "module", None)
    return source_of(module) if module is not None else ""


def tiers_of(item) -> set[str]:
    """The tier markers that the rules above give `item` (besides those it already has)."""
    if type(item).__name__ in ("IPyNbCell", "DoctorSweep"):
        return {"notebooks"}
    found = set()
    text = sources(item)
    parameters = getattr(getattr(item, "callspec", None), "params", {})
    if "smollm2" in item.fixturenames or REAL_MODEL_NAMES & {value for value in parameters.values()
                                                             if isinstance(value, str)}:
        found.add("slow")
    if LOADS_THE_REAL_MODEL.search(text) and STAND_IN_FIXTURE not in item.fixturenames:
        found.add("slow")
    if any(item.nodeid.startswith(prefix) or prefix in item.fixturenames for prefix in SLOW_WITHOUT_THE_REAL_MODEL):
        found.add("slow")
    if EXECUTES_NOTEBOOKS.search(text):
        found.add("notebooks")
    if USES_THE_BROWSER_HELPERS.search(module_source(item)):
        found.add("browser")
    if USES_CUDA.search(text):
        found.add("gpu")
    return found


def in_check_tier(item) -> bool:
    return not any(item.get_closest_marker(name) for name in TIER_MARKERS)


# Rough cost of one test item in seconds on one CPU thread, by marker (nbval's items are notebook cells).
ITEM_SECONDS = {"notebooks": 15.0, "browser": 8.0, "slow": 5.0, "faults": 3.0}


def item_seconds(item) -> float:
    markers = {marker.name for marker in item.iter_markers()}
    if type(item).__name__ == "IPyNbCell":
        return 1.0
    return max([ITEM_SECONDS[name] for name in markers if name in ITEM_SECONDS], default=0.05)


@pytest.hookimpl(tryfirst=True)  # before pytest's -m selection and xdist's grouping read the markers
def pytest_collection_modifyitems(config, items):
    """Mark every item with its tiers; then the test files with the most expected work first.

    `make test` hands whole files to two workers (`-n 2 --dist loadfile`) in collection order;
    a long file handed out last would run alone at the end while the other core idles
    (the order of tests within a file is kept). First, the pitfall doctor's sweep joins the nbval
    run of notebooks/en/01-08: one `doctor sweep` item after each notebook's last cell
    (tests/doctor_sweep.py).
    """
    doctor_sweep.add_sweep_items(items)
    cuda = None
    for item in items:
        for name in sorted(tiers_of(item)):
            item.add_marker(name)
        if item.get_closest_marker("gpu"):
            if cuda is None:
                import torch

                cuda = torch.cuda.is_available()
            if not cuda:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))
    seconds = {}
    for item in items:
        seconds[item.location[0]] = seconds.get(item.location[0], 0.0) + item_seconds(item)
    items.sort(key=lambda item: -seconds[item.location[0]])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After an nbval cell passed, the doctor sweep counts it (and installs its recorder after the setup cell)."""
    result = yield
    if type(item).__name__ == "IPyNbCell":
        doctor_sweep.after_cell(item)
    return result


def pytest_configure(config):
    """nbval runs a notebook's cells in one kernel, in order: xdist must hand out whole files.

    `-n 2` alone means `--dist load`, which spreads single cells over the workers; each worker's
    kernel then misses the cells before its own and fails with NameErrors that point nowhere near
    the cause. One clear error instead, before any worker starts (in xdist's controller).
    """
    dist = getattr(config.option, "dist", "no")
    if hasattr(config, "workerinput") or dist not in ("load", "worksteal") or not config.getoption("nbval", False):
        return
    paths = [Path(config.invocation_params.dir, argument.split("::")[0]) for argument in config.args]
    if any(path.suffix == ".ipynb" or (path.is_dir() and next(path.rglob("*.ipynb"), None)) for path in paths):
        raise pytest.UsageError(
            f"--dist {dist} would split a notebook's cells between workers, but nbval runs them in one kernel: "
            "run notebooks with --dist loadfile (as `make test` does), or without -n"
        )


# --- the guards of the check tier ---------------------------------------------------------------

def cpu_seconds() -> float:
    """CPU seconds used so far by this process and by its child processes that have ended."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    item.stash[CPU_AT_START] = cpu_seconds()
    if in_check_tier(item):
        install_real_model_guard(item)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        restore = item.stash.get(RESTORE_GUARD, None)
        if restore is not None:
            restore()
        if in_check_tier(item) and CPU_AT_START in item.stash:
            item.user_properties.append(("check_tier_cpu_seconds", cpu_seconds() - item.stash[CPU_AT_START]))


CPU_AT_START = pytest.StashKey[float]()
RESTORE_GUARD = pytest.StashKey[object]()


def install_real_model_guard(item) -> None:
    """REAL_MODEL_GUARD: in a check-tier test, locating the real model's GGUF file fails with the fix.

    Every load of smollm2-135m (cached or not) goes through companion.models.smollm2_gguf_path.
    A test that points it elsewhere itself (tests/test_faults.py's small GGUF) is not affected.
    """
    from companion import models

    original = models.smollm2_gguf_path

    def guarded():
        raise AssertionError(
            f"{item.nodeid} loads the real model smollm2-135m but is in the check tier (`make check`). "
            "Use the `smollm2` fixture, or mark it @pytest.mark.slow (see the tiers in conftest.py)."
        )

    models.smollm2_gguf_path = guarded

    def restore():
        if models.smollm2_gguf_path is guarded:
            models.smollm2_gguf_path = original

    item.stash[RESTORE_GUARD] = restore


OVER_BUDGET = []


def pytest_runtest_logreport(report):
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        budget = CHECK_TIER_ALLOWANCES.get(report.nodeid, CHECK_TIER_CPU_SECONDS)
        if name == "check_tier_cpu_seconds" and value > budget:
            OVER_BUDGET.append((report.nodeid, value))


def pytest_sessionfinish(session, exitstatus):
    if OVER_BUDGET and not hasattr(session.config, "workerinput") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not OVER_BUDGET:
        return
    terminalreporter.section("check tier over its CPU budget", red=True)
    terminalreporter.line(
        f"These tests carry no tier marker, so `make check` runs them, but each used more than "
        f"{CHECK_TIER_CPU_SECONDS:.0f} s of CPU (setup to teardown, child processes included). Give each "
        "its tier (conftest.py: the `smollm2` fixture, @pytest.mark.slow, or SLOW_WITHOUT_THE_REAL_MODEL "
        "with the reason):"
    )
    for nodeid, seconds in sorted(OVER_BUDGET, key=lambda entry: -entry[1]):
        terminalreporter.line(f"  {seconds:6.1f} s CPU  {nodeid}")
