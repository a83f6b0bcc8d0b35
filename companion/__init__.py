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

from companion.doctor import diagnose  # noqa: E402
from companion.errors import (  # noqa: E402
    ArgumentTypeError,
    CompanionError,
    MissingPackageError,
    ModelNotBuiltError,
    PaddingError,
    UnknownModelError,
)
from companion.generation import (  # noqa: E402
    generate_ids,
    generate_text,
    require_left_padded,
    tokenize_batch,
)
from companion.memory import footprint_mib  # noqa: E402
from companion.models import BUILTIN_MODELS, load_model  # noqa: E402
from companion.notebook_setup import setup_notebook  # noqa: E402

__version__ = "0.1.0"
