"""Companion package of the course "Text generation with LLMs".

Every notebook starts with::

    import companion
    companion.setup_notebook()
    model, tokenizer = companion.load_model("tutorial-tiny")

Importing the package first sets quiet, CPU-friendly environment variables (before
torch is imported), see `companion.notebook_setup.QUIET_ENVIRONMENT`.
"""

from companion.notebook_setup import apply_quiet_environment, require_supported_transformers

apply_quiet_environment()
require_supported_transformers()  # one clear sentence instead of an AttributeError deep in notebook 08

from companion.doctor import diagnose
from companion.errors import (
    ArgumentTypeError,
    CompanionError,
    MissingPackageError,
    ModelNotBuiltError,
    PaddingError,
    UnknownModelError,
)
from companion.generation import generate_ids, generate_text, tokenize_batch
from companion.memory import footprint_mib
from companion.models import BUILTIN_MODELS, load_model
from companion.notebook_setup import setup_notebook
from companion.validation import require_left_padded

__version__ = "0.1.0"

# What a notebook reaches as `companion.X`.
__all__ = [
    "ArgumentTypeError",
    "BUILTIN_MODELS",
    "CompanionError",
    "MissingPackageError",
    "ModelNotBuiltError",
    "PaddingError",
    "UnknownModelError",
    "diagnose",
    "footprint_mib",
    "generate_ids",
    "generate_text",
    "load_model",
    "require_left_padded",
    "setup_notebook",
    "tokenize_batch",
]
