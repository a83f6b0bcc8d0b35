"""Convert a GGUF checkpoint into a transformers folder with safetensors weights.

    python -m companion.convert_gguf GGUF_FILE TARGET_FOLDER

`companion.models.smollm2_folder` runs this in a child process on first use and caches
the result; learners never need to call it.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path


def parse_once() -> None:
    """Let transformers' GGUF loader parse the file once and build each tensor-name table once.

    transformers (5.24) reads the GGUF file three times, for the tokenizer, the config and the
    weights (`load_gguf_checkpoint` makes a new `gguf.GGUFReader` each time: ~4 s apiece for
    SmolLM2's 49k-token vocabulary), and `get_gguf_hf_weights_map` builds the same
    `gguf.get_tensor_name_map(arch, layers)` once per module (397 times). Both are imported from
    `gguf` inside the functions at call time, so memoising them here, in the converter's own
    process, cut the conversion of SmolLM2 from 23 s to 14 s on a 2-core CPU; the files it
    writes were byte-identical with and without them (transformers 5.24.0, gguf 0.19.0, 2026-11-25).
    """
    import gguf

    gguf.GGUFReader = functools.lru_cache(maxsize=None)(gguf.GGUFReader)
    gguf.get_tensor_name_map = functools.lru_cache(maxsize=None)(gguf.get_tensor_name_map)


def convert(gguf_path: Path, target: Path) -> None:
    """Dequantize `gguf_path` with transformers' GGUF loader and save it into `target`."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    parse_once()
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
