"""Batch-safe text generation around `model.generate()`, and reading what it returns.

Taught in notebook 01 (generating text) and used by every later notebook. The helpers
never rely on the 20-token default: `max_new_tokens` is always passed, and so is
`do_sample`. Batches are padded on the left, a missing pad token falls back to the EOS
token, and the attention mask is always handed to `generate()`.

This is the package's one path from prompts to `generate()`: `tokenize_batch` ->
`generate_ids` -> `generate_text`. Each takes `side="left"` by default; notebook 04 passes
`side="right"` to show what right padding breaks (`companion.padding` has its views).
What `generate()` returns is read here too: `end_of_sequence_ids` (where it ends a row) and
`generated_token_mask` (which new tokens belong to each row's text).
The arguments are checked by `companion.validation` before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

from companion.errors import ArgumentTypeError, CompanionError, PaddingError
from companion.language import Messages
from companion.validation import (
    SAMPLING_SETTINGS,
    as_prompt_list,
    require_fits_context,
    require_max_new_tokens,
    require_model,
    require_padding_side,
    require_sampling_setting,
    require_sequences,
    require_tokenizer,
    type_name,
)

MESSAGES = Messages(__name__, {
    "no_pad_or_eos": {
        "en": "The tokenizer has neither a pad token nor an EOS token to stand in for it. "
              "Set one before batching, e.g. tokenizer.pad_token = tokenizer.unk_token.",
        "de": "Der Tokenizer hat weder einen Pad-Token noch einen EOS-Token, der dafür einspringen könnte. "
              "Setzen Sie einen, bevor Sie Batches bilden, z. B. tokenizer.pad_token = tokenizer.unk_token.",
    },
})


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
            raise PaddingError(MESSAGES("no_pad_or_eos"))
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
    Only changes the form; which ids end a row is `end_of_sequence_ids`'s job. Used by it,
    by `generated_token_mask` and by `companion.doctor` (notebook 09).
    """
    if eos_token_id is None:
        return []
    if isinstance(eos_token_id, torch.Tensor):
        return [int(token_id) for token_id in eos_token_id.flatten().tolist()]
    if isinstance(eos_token_id, int):
        return [eos_token_id]
    return [int(token_id) for token_id in eos_token_id]


def end_of_sequence_ids(model=None, tokenizer=None, *, eos_token_id=None) -> list[int]:
    """The token ids at which `generate()` ends a row, as a list of ints ([] if none).

    One precedence for the whole package, the one `generate()` follows:

    1. `eos_token_id`, when given (not None): what a call passes as `generate(eos_token_id=...)`,
       or the eos_token_id of the generation config a call settled on;
    2. `model.generation_config.eos_token_id`. In transformers 5.24.0, `generate()` merges the
       call's settings into a copy of the model's generation config (`_prepare_generation_config`),
       and `GenerationMixin._prepare_special_tokens` (generation/utils.py) turns that config's
       eos_token_id into the ids its stopping criterion checks; it never asks the tokenizer.
       So a model's config decides alone: a config without EOS ids gives [] (generate() then
       stops no row early, and the tokenizer's EOS token is an ordinary token);
    3. `tokenizer.eos_token_id`, only when no model is given (`companion.scores.token_probability_table`
       gets the tokenizer alone).

    Args:
        model: the causal LM that generates, or None.
        tokenizer: its tokenizer, or None (read only when there is no model).
        eos_token_id: ids the call set itself: an int, a list or tensor of ints, or None.
    Used by `companion.inspection.greedy_generate_by_hand` (notebook 01), `companion.throughput`
    (06), `companion.scores` (07), notebook 09 and `course_tools.margins`.
    """
    if eos_token_id is None and model is not None:
        eos_token_id = model.generation_config.eos_token_id
    elif eos_token_id is None and tokenizer is not None:
        eos_token_id = tokenizer.eos_token_id
    return eos_token_id_list(eos_token_id)


def generated_token_mask(sequences: torch.Tensor, prompt_length: int, end_token_ids) -> torch.Tensor:
    """Which new tokens belong to the text: all up to and including each row's first end token.

    Args:
        sequences: LongTensor of shape (b, t + n) as `generate()` returns it: the t prompt
            columns (left-padded for a batch), then the n new tokens.
        prompt_length: t, the number of prompt columns.
        end_token_ids: the ids that end a row, usually `end_of_sequence_ids(model, tokenizer)`:
            a list of ints, or handled: a single int, a tensor, or None (= no end token).
    Returns:
        BoolTensor of shape (b, n), on the device of `sequences`: True for the new tokens of
        the text, False for the padding that `generate()` appends to a row after it has ended.
    The one place that finds where each row's text ends: `companion.scores` (notebook 07, also
    importable from there), `companion.throughput.new_token_lists` (06) and `course_tools.margins`.
    """
    require_sequences(sequences, prompt_length)
    new_tokens = sequences[:, prompt_length:]  # (b, n)
    end_ids = torch.tensor(eos_token_id_list(end_token_ids), dtype=new_tokens.dtype, device=new_tokens.device)
    is_end = torch.isin(new_tokens, end_ids).long()  # (b, n): 1 at every end token
    # How many end tokens came strictly before each position: the first end token itself
    # still belongs to the text, everything after it is padding.
    ends_before = is_end.cumsum(dim=-1) - is_end
    return ends_before == 0


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
    require_tokenizer(tokenizer)
    prompt_list = as_prompt_list(prompts)
    with padding_on(tokenizer, side):
        model_inputs = tokenizer(prompt_list, padding=True, return_tensors="pt")
    model_inputs = {name: model_inputs[name] for name in ("input_ids", "attention_mask")}
    if device is not None:
        model_inputs = {name: tensor.to(device) for name, tensor in model_inputs.items()}
    return model_inputs


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
    Raises:
        ArgumentTypeError / CompanionError before generate() runs, naming the argument and
        the fix: a model or tokenizer that is not one, bad prompts, a missing or non-positive
        max_new_tokens, max_length, sampling settings out of range (`require_sampling_setting`,
        checked even when do_sample=False, where generate() would only warn and ignore them),
        and a prompt that with max_new_tokens does not fit the model's context.
    Returns:
        (sequences, prompt_ids): LongTensors of shape (b, t + n) and (b, t); the first t
        columns of `sequences` are the padded prompts, the rest the n new tokens.
    """
    require_model(model)
    require_max_new_tokens(max_new_tokens)
    if not isinstance(do_sample, bool):
        raise ArgumentTypeError(
            f"do_sample must be True (sampling) or False (greedy decoding), got {type_name(do_sample)} {do_sample!r}."
        )
    if "max_length" in generate_kwargs:
        raise CompanionError("Use max_new_tokens instead of max_length: max_length counts the prompt too.")
    for name in SAMPLING_SETTINGS:
        if generate_kwargs.get(name) is not None:  # None: generate() uses its default
            require_sampling_setting(name, generate_kwargs[name])
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device, side=side)
    require_fits_context(model, model_inputs["input_ids"].shape[1], max_new_tokens)
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
