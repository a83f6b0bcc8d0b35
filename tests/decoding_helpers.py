"""Shared by the tests of notebook 08's code (test_decoding.py, test_exercises_08.py).

An independent observer of generate() (a real streamer that counts the tokens handed over
per forward pass), the plain tokenizer call, and a prompt that gives prompt lookup drafts.
"""

from __future__ import annotations

import torch
from transformers.generation.streamers import BaseStreamer

# tutorial-tiny learned the guide's lists; a prompt that repeats itself gives prompt lookup drafts.
REPEATING_PROMPT = "A list of colors: red, blue, green, red, blue, green, red, blue, green, red, blue"


class ChunkCounter(BaseStreamer):
    """A real streamer that records how many tokens generate() hands over at a time.

    `chunks` holds one entry per put(): the prompt first, then one per forward pass (with
    prompt lookup, the accepted draft plus one token).
    """

    def __init__(self) -> None:
        self.chunks: list[int] = []

    def put(self, value: torch.Tensor) -> None:
        self.chunks.append(value.numel())

    def end(self) -> None:
        pass


def tokenize(tokenizer, prompt: str, model) -> dict[str, torch.Tensor]:
    """One prompt, tokenized with the plain tokenizer call, on the model's device."""
    return {name: tensor.to(model.device) for name, tensor in tokenizer(prompt, return_tensors="pt").items()}
