"""The course's own tiny model `tutorial-tiny`: where it lives and whether it is there.

`tutorial-tiny` is a ~156K-parameter Llama-style model (float32, ~0.6 MB) trained
from scratch on a synthetic corpus, shipped inside the package so that every
notebook works offline and in seconds on a CPU. Load it like any Hub model:

    from transformers import AutoModelForCausalLM, AutoTokenizer
    from companion.tiny import MODEL_DIR
    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR)

The notebooks load it wherever a small, predictable model is enough (the
first generate() calls, the 20-token default limit, greedy loops vs sampling,
and padding side in batched generation). Rebuild it with
`python -m course_tools.tiny.train` (see `course_tools/tiny/train.py`).
"""

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "tutorial-tiny"
"""pathlib.Path of the shipped model folder (config.json, model.safetensors, tokenizer files, ...)."""

REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")


def is_built():
    """Return True (bool) when MODEL_DIR holds config.json, model.safetensors and tokenizer.json."""
    return all((MODEL_DIR / name).is_file() for name in REQUIRED_FILES)


__all__ = ["MODEL_DIR", "is_built"]
