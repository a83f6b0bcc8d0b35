"""Convert a GGUF checkpoint into a transformers folder with safetensors weights.

    python -m companion.convert_gguf GGUF_FILE TARGET_FOLDER

`companion.models.smollm2_folder` runs this in a child process on first use and caches
the result; learners never need to call it.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def convert(gguf_path: Path, target: Path) -> None:
    """Dequantize `gguf_path` with transformers' GGUF loader and save it into `target`."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # The weights are plain float tensors now; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None
    del model.config.quantization_config
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gguf_file", type=Path)
    parser.add_argument("target_folder", type=Path)
    arguments = parser.parse_args()
    convert(arguments.gguf_file, arguments.target_folder)


if __name__ == "__main__":
    main()
