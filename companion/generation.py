"""Batch-safe text generation around `model.generate()`.

Taught in notebook 01 (generating text) and used by every later notebook. The helpers
never rely on the 20-token default: `max_new_tokens` is always passed, and so is
`do_sample`. Batches are padded on the left, a missing pad token falls back to the EOS
token, and the attention mask is always handed to `generate()`.

This is the package's one path from prompts to `generate()`: `tokenize_batch` ->
`generate_ids` -> `generate_text`. Each takes `side="left"` by default; notebook 04 passes
`side="right"` to show what right padding breaks (`companion.padding` has its views).
The `require_*` functions raise a CompanionError or PaddingError that says how to fix
the call (the exercise checks, `companion.exercises.*.check_*`, print verdicts instead).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import torch

from companion.errors import CompanionError, PaddingError


def as_prompt_list(prompts: str | Sequence[str]) -> list[str]:
    """Return `prompts` as a non-empty list of strings (a single string becomes [string])."""
    if isinstance(prompts, str):
        return [prompts]
    prompt_list = list(prompts)
    if not prompt_list:
        raise CompanionError("No prompts given: pass a string or a non-empty list of strings.")
    for prompt in prompt_list:
        if not isinstance(prompt, str):
            raise CompanionError(
                f"Prompts must be strings, got {type(prompt).__name__}: {prompt!r}. "
                "Pass text, not token ids (use model.generate() directly for ids)."
            )
    return prompt_list


PADDING_SIDES = ("left", "right")


def require_padding_side(side: str) -> str:
    """Return `side` if it is "left" or "right", else raise a CompanionError that names the choices."""
    if side not in PADDING_SIDES:
        raise CompanionError(f"side must be 'left' or 'right', got {side!r}: pass side='left' to generate.")
    return side


@contextmanager
def padding_on(tokenizer, side: str) -> Iterator[None]:
    """Temporarily pad on `side` ("left" or "right"), with EOS as pad token if there is none.

    The learner's tokenizer is restored afterwards (padding side and pad token), so
    notebook 04 can still show what the unmodified tokenizer does.
    """
    require_padding_side(side)
    saved_side = tokenizer.padding_side
    saved_pad_token = tokenizer.pad_token
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise PaddingError(
                "The tokenizer has neither a pad token nor an EOS token to stand in for it. "
                "Set one before batching, e.g. tokenizer.pad_token = tokenizer.unk_token."
            )
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = side
    try:
        yield
    finally:
        tokenizer.padding_side = saved_side
        tokenizer.pad_token = saved_pad_token


def pad_token_id_or_eos(tokenizer) -> int | None:
    """The id `generate()` should pad finished rows with: the pad token's, else EOS's
    (Llama tokenizers such as tutorial-tiny's have no pad token)."""
    if tokenizer.pad_token_id is not None:
        return tokenizer.pad_token_id
    return tokenizer.eos_token_id


def eos_token_id_list(eos_token_id) -> list[int]:
    """The end-of-sequence id(s) as a list of ints, whatever form they are stored in.

    Args:
        eos_token_id: an int (most tokenizers), a list or tuple of ints (generation configs
            of chat models often list several), a 0- or 1-dim tensor, or None.
    Returns:
        list of ints; [] for None.
    Used by `end_of_sequence_ids` and `companion.throughput.new_token_lists` (notebook 06).
    """
    if eos_token_id is None:
        return []
    if isinstance(eos_token_id, torch.Tensor):
        return [int(token_id) for token_id in eos_token_id.flatten().tolist()]
    if isinstance(eos_token_id, int):
        return [eos_token_id]
    return [int(token_id) for token_id in eos_token_id]


def end_of_sequence_ids(model, tokenizer) -> list[int]:
    """The token ids that end a generation: the generation config's EOS id(s), else the tokenizer's.

    Returns a list of ints ([] if neither sets one); `generate()` stops a row at any of them.
    """
    eos_token_id = model.generation_config.eos_token_id
    if eos_token_id is None:
        eos_token_id = tokenizer.eos_token_id
    return eos_token_id_list(eos_token_id)


def tokenize_batch(
    tokenizer, prompts: str | Sequence[str], device=None, *, side: str = "left"
) -> dict[str, torch.Tensor]:
    """Tokenize prompts into one padded batch for `model.generate()`, without changing the tokenizer.

    Args:
        tokenizer: a transformers tokenizer; a missing pad token falls back to EOS for this call.
        prompts: one string or a list of b strings.
        device: where to put the tensors (e.g. `model.device`); None keeps them on CPU.
        side: "left" (default, what generation needs) or "right" (only to show what goes
            wrong, notebook 04).
    Returns:
        dict with "input_ids" and "attention_mask", LongTensors of shape (b, t), where
        t is the longest prompt and shorter prompts carry padding on `side` (mask 0 there).
    Used by every notebook's helpers; notebook 04 compares the two sides.
    """
    prompt_list = as_prompt_list(prompts)
    with padding_on(tokenizer, side):
        model_inputs = tokenizer(prompt_list, padding=True, return_tensors="pt")
    model_inputs = {name: model_inputs[name] for name in ("input_ids", "attention_mask")}
    if device is not None:
        model_inputs = {name: tensor.to(device) for name, tensor in model_inputs.items()}
    return model_inputs


def require_left_padded(attention_mask: torch.Tensor) -> None:
    """Raise PaddingError if any row of a batch has padding on the right.

    Args:
        attention_mask: LongTensor of shape (b, t); 1 = real token, 0 = padding.
    A decoder-only model predicts the next token from the last position, so that
    position must hold a real token in every row (notebook 04 shows why).
    """
    if attention_mask.dim() != 2:
        raise CompanionError(
            f"attention_mask must have shape (batch, length), got {tuple(attention_mask.shape)}."
        )
    right_padded_rows = (attention_mask[:, -1] == 0).nonzero().flatten().tolist()
    if right_padded_rows:
        raise PaddingError(
            f"Rows {right_padded_rows} of the batch are padded on the right, so the model would "
            "continue from padding instead of the prompt. Tokenize with padding on the left: "
            "tokenizer.padding_side = 'left' (or use companion.tokenize_batch, which pads on the left)."
        )


def require_max_new_tokens(max_new_tokens) -> int:
    """Return `max_new_tokens` if it is a positive int, else raise a CompanionError that says why."""
    if max_new_tokens is None:
        raise CompanionError(
            "Pass max_new_tokens=... (e.g. 30). Without it generate() falls back to a default of "
            "20 new tokens (older transformers releases counted the prompt in those 20), which "
            "silently cuts answers short (notebook 02)."
        )
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise CompanionError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}.")
    return max_new_tokens


def generate_ids(
    model,
    tokenizer,
    prompts: str | Sequence[str],
    *,
    max_new_tokens: int | None = None,
    do_sample: bool = False,
    side: str = "left",
    **generate_kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run `model.generate()` on a padded batch (attention mask passed) and return the raw ids.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: one string or a list of b strings.
        max_new_tokens: required; the most tokens to add to each prompt.
        do_sample: False = greedy decoding (default, deterministic), True = sampling.
        side: "left" (default); "right" only to show the broken batch of notebook 04
            (transformers then warns about right padding).
        **generate_kwargs: passed on to `model.generate()` (temperature, top_k, ...).
    Returns:
        (sequences, prompt_ids): LongTensors of shape (b, t + n) and (b, t); the first t
        columns of `sequences` are the padded prompts, the rest the n new tokens.
    """
    require_max_new_tokens(max_new_tokens)
    if "max_length" in generate_kwargs:
        raise CompanionError("Use max_new_tokens instead of max_length: max_length counts the prompt too.")
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device, side=side)
    generate_kwargs.setdefault("pad_token_id", pad_token_id_or_eos(tokenizer))
    if generate_kwargs.get("stop_strings"):
        generate_kwargs.setdefault("tokenizer", tokenizer)  # generate() needs it to match stop strings
    with torch.inference_mode():
        sequences = model.generate(
            **model_inputs, max_new_tokens=max_new_tokens, do_sample=do_sample, **generate_kwargs
        )
    return sequences, model_inputs["input_ids"]


def generate_text(
    model,
    tokenizer,
    prompts: str | Sequence[str],
    *,
    max_new_tokens: int | None = None,
    do_sample: bool = False,
    return_full_text: bool = False,
    skip_special_tokens: bool = True,
    side: str = "left",
    **generate_kwargs,
) -> list[str]:
    """Generate text for one prompt or a batch and return the decoded strings.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: one string or a list of b strings (padded on the left internally).
        max_new_tokens: required; the most tokens to add to each prompt.
        do_sample: False = greedy decoding, True = sampling (set a seed first).
        side: the padding side, "left" (default); "right" only for notebook 04's comparison.
        return_full_text: False (default) returns only the new text per prompt; True
            returns prompt + new text, as `tokenizer.batch_decode(model.generate(...))` does
            (with side="right" the padding then sits between prompt and new text).
        skip_special_tokens: drop <s>, </s> and padding from the decoded text.
        **generate_kwargs: passed on to `model.generate()`.
    Returns:
        list of b strings, in the order of `prompts`.
    Taught in notebook 01; used in notebooks 02-06.
    """
    sequences, prompt_ids = generate_ids(
        model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=do_sample, side=side, **generate_kwargs
    )
    if not return_full_text:
        # generate() appends the new tokens after column t of the padded batch, on either
        # padding side, so one slice fits all rows.
        sequences = sequences[:, prompt_ids.shape[1]:]
    return tokenizer.batch_decode(sequences, skip_special_tokens=skip_special_tokens)
