"""`setup_notebook()`: the one call at the top of every notebook.

It makes outputs clean and deterministic (no progress bars, no known log noise, a fixed
seed), sets CPU threads up so two cores are not slower than one, and says where the
notebook runs (Colab or not, GPU or CPU) and with which library versions.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from companion.language import DEFAULT_LANGUAGE, Messages, set_language

MESSAGES = Messages(__name__, {
    "running_on": {"en": "Running on {place} ({device})", "de": "Läuft auf {place} ({device})"},
    "colab": {"en": "Google Colab", "de": "Google Colab"},
    "local": {"en": "a local Jupyter kernel", "de": "einem lokalen Jupyter-Kernel"},
    "no_gpu": {
        "en": "No GPU: fine for 'tutorial-tiny' and 'smollm2-135m'. A 7B hub model needs a GPU "
              "(on Colab: Runtime > Change runtime type > GPU).",
        "de": "Keine GPU: Für 'tutorial-tiny' und 'smollm2-135m' genügt das. Ein 7B-Modell vom Hub braucht "
              "eine GPU (auf Colab: Laufzeit > Laufzeittyp ändern > GPU).",
    },
    "seed": {"en": "Random seed: {seed}", "de": "Zufalls-Seed: {seed}"},
    "other_versions": {
        "en": "The outputs below were recorded with {recorded}; you have {found}, so texts, warnings "
              "and timings may differ.",
        "de": "Die Ausgaben unten wurden mit {recorded} aufgezeichnet; Sie haben {found}, daher können "
              "Texte, Warnungen und Zeiten abweichen.",
    },
})

# The library versions the committed notebook outputs were made with: written by the build
# (course_tools/build_notebooks.py --execute) from the environment that executed them, which is the lock's.
RECORDED_VERSIONS_FILE = Path(__file__).with_name("recorded_versions.json")
# The libraries whose behaviour the outputs show; a difference in one of them is announced.
COMPARED_LIBRARIES = ("transformers",)


def recorded_versions() -> dict[str, str]:
    """{library: version} of the environment that made the committed outputs (empty if never recorded)."""
    if not RECORDED_VERSIONS_FILE.is_file():
        return {}
    return json.loads(RECORDED_VERSIONS_FILE.read_text())


def version_difference(found: dict[str, str], recorded: dict[str, str]) -> str | None:
    """The "outputs were recorded with X, you have Y" line when a compared library differs, else None."""
    differing = [name for name in COMPARED_LIBRARIES if name in recorded and found.get(name) != recorded[name]]
    if not differing:
        return None
    return MESSAGES(
        "other_versions",
        recorded=", ".join(f"{name} {recorded[name]}" for name in differing),
        found=", ".join(f"{name} {found.get(name, 'not installed')}" for name in differing),
    )


def transformers_refusal(found: str) -> str | None:
    """The sentence that refuses transformers `found`, or None when the declared range allows it.

    The range is read from the installed companion package's metadata (pyproject.toml's
    dependencies), so it is stated once; without installed metadata there is nothing to compare.
    """
    import importlib.metadata

    from packaging.requirements import Requirement

    try:
        declared = [Requirement(text) for text in importlib.metadata.requires("companion") or []]
    except importlib.metadata.PackageNotFoundError:
        return None
    for requirement in declared:
        if requirement.name == "transformers" and requirement.marker is None:
            if not requirement.specifier.contains(found, prereleases=True):
                return (
                    f"companion needs transformers{requirement.specifier} but found {found}: run "
                    f'pip install "transformers{requirement.specifier}" (on Colab, then Runtime > Restart session).'
                )
    return None


def require_supported_transformers() -> None:
    """Raise ImportError with one sentence when the installed transformers is outside the declared range."""
    import importlib.metadata

    try:
        found = importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        return  # the import of transformers itself will say it is missing
    refusal = transformers_refusal(found)
    if refusal:
        raise ImportError(refusal)


# Environment settings that must be in place before torch/transformers start up.
# companion/__init__.py applies them on import, before anything imports torch.
QUIET_ENVIRONMENT = {
    "OMP_WAIT_POLICY": "PASSIVE",  # OpenMP threads sleep instead of spin: 2 threads ran 3x slower spinning
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # from_pretrained's download/loading bars
    "TOKENIZERS_PARALLELISM": "false",  # avoids the fork warning from the Rust tokenizers
}


# True when torch was imported before companion could set OMP_WAIT_POLICY (e.g. on Colab).
TORCH_STARTED_TOO_EARLY = "torch" in sys.modules and "OMP_WAIT_POLICY" not in os.environ


def apply_quiet_environment() -> None:
    """Set QUIET_ENVIRONMENT variables that the user has not set already."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    # tqdm.auto warns once in a kernel without ipywidgets, when transformers is imported;
    # widget progress bars would be noise in the committed outputs anyway.
    warnings.filterwarnings("ignore", message="IProgress not found")


def set_cpu_threads() -> None:
    """If torch started before OMP_WAIT_POLICY=PASSIVE could apply, use one thread.

    Spinning OpenMP threads on a 2-core machine made generation ~3x slower than a
    single thread; with the passive policy in place the default thread count is best.
    """
    import torch

    if TORCH_STARTED_TOO_EARLY and (os.cpu_count() or 1) <= 2:
        torch.set_num_threads(1)


@dataclass(frozen=True)
class NotebookEnvironment:
    """What `setup_notebook` found: where the notebook runs and with what."""

    on_colab: bool
    device: str  # "cuda" or "cpu"
    seed: int
    language: str  # "en" or "de": the language of the package's messages
    versions: dict[str, str]

    def _ipython_display_(self) -> None:
        """Display nothing as a cell's last value: `setup_notebook` has printed the summary."""


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries the course depends on."""
    import importlib.metadata

    versions = {"python": platform.python_version()}
    for distribution in ("torch", "transformers", "accelerate", "bitsandbytes", "companion"):
        try:
            versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[distribution] = "not installed"
    return versions


def format_warning_without_location(message, category, filename, lineno, line=None) -> str:
    """`warnings.formatwarning` without the file path and line number.

    Python's default format starts with the absolute path of the library file that raised
    the warning, which differs between machines and versions; the committed notebooks
    would change with every install. The category and the message are what teaches.
    """
    return f"{category.__name__}: {message}\n"


def silence_known_noise() -> None:
    """Silence progress bars and log lines that carry no lesson and vary between runs.

    transformers' own warnings stay on (its default verbosity, WARNING): the pitfalls of
    notebooks 02-05 (default length, right padding, a missing attention mask, a sampling
    flag without `do_sample=True`) announce themselves through them, in the cell that
    makes the mistake. Python warnings are printed without the library's file path.
    """
    import transformers

    from companion.models import quiet_bitsandbytes

    transformers.utils.logging.disable_progress_bar()
    quiet_bitsandbytes()
    warnings.formatwarning = format_warning_without_location


def setup_notebook(seed: int = 0, *, language: str = DEFAULT_LANGUAGE, verbose: bool = True) -> NotebookEnvironment:
    """Prepare a notebook: quiet, seeded, CPU threads set up, messages in its language; print where it runs.

    Args:
        seed: passed to `transformers.set_seed` (Python, NumPy and torch generators);
            notebooks call this right after their parameters cell with `seed=SEED`.
        language: "en" (default) or "de": the language of everything the package prints
            from now on (this summary, exercise verdicts and hints, the errors a learner meets).
            The German notebooks pass language="de"; it is the one code line that differs
            between the editions.
        verbose: print the environment summary.
    Returns:
        NotebookEnvironment with on_colab, device ("cuda"/"cpu"), seed, language and versions.
    Called in the setup cell of every notebook, right after the parameters cell.
    """
    set_language(language)  # first: a wrong value fails before anything slow happens
    apply_quiet_environment()
    import torch
    import transformers

    silence_known_noise()
    set_cpu_threads()
    transformers.set_seed(seed)
    on_colab = "google.colab" in sys.modules
    device = "cuda" if torch.cuda.is_available() else "cpu"
    environment = NotebookEnvironment(on_colab, device, seed, language, library_versions())
    if verbose:
        print(MESSAGES("running_on", place=MESSAGES("colab" if on_colab else "local"), device=device))
        print(", ".join(f"{name} {version}" for name, version in environment.versions.items()))
        difference = version_difference(environment.versions, recorded_versions())
        if difference:
            print(difference)
        if device == "cpu":
            print(MESSAGES("no_gpu"))
        print(MESSAGES("seed", seed=seed))
    return environment
