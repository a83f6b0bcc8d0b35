"""Set-up for every pytest run in this repository, tests/ and the notebooks' nbval items alike.

pytest loads this file first however it is started (`make test`, or `pytest notebooks/en/01_...ipynb`
alone), so the notebook kernels that nbval starts are always one-threaded and offline.
"""

import os
import sys

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

# Rough cost of one test item in seconds on one CPU thread, by marker (nbval's items are notebook cells).
ITEM_SECONDS = {"notebooks": 15.0, "browser": 8.0, "slow": 5.0, "faults": 3.0}


def item_seconds(item) -> float:
    markers = {marker.name for marker in item.iter_markers()}
    if type(item).__name__ == "IPyNbCell":
        return 1.0
    return max([ITEM_SECONDS[name] for name in markers if name in ITEM_SECONDS], default=0.05)


def pytest_collection_modifyitems(config, items):
    """The test files with the most expected work first (the order of tests within a file is kept).

    `make test` hands whole files to two workers (`-n 2 --dist loadfile`) in collection order;
    a long file handed out last would run alone at the end while the other core idles.
    """
    seconds = {}
    for item in items:
        seconds[item.location[0]] = seconds.get(item.location[0], 0.0) + item_seconds(item)
    items.sort(key=lambda item: -seconds[item.location[0]])
