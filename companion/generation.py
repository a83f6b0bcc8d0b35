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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

from companion.errors import ArgumentTypeError, CompanionError, PaddingError
from companion.language import Messages
from companion.sampling import SAMPLING_SETTINGS, require_sampling_setting

MESSAGES = Messages(__name__, {
    "missing_max_new_tokens": {
        "en": "Pass {name}=... (e.g. 30). Without it generate() falls back to a default of "
              "20 new tokens (older transformers releases counted the prompt in those 20), which "
              "silently cuts answers short (notebook 02).",
        "de": "Geben Sie {name}=... an (z. B. 30). Ohne diese Angabe nimmt generate() einen Standardwert von "
              "20 neuen Tokens (ältere transformers-Versionen zählten den Prompt zu diesen 20), und das "
              "schneidet Antworten stillschweigend ab (Notebook 02).",
    },
    "right_padded": {
        "en": "Rows {rows} of the batch are padded on the right, so the model would "
              "continue from padding instead of the prompt. Tokenize with padding on the left: "
              "tokenizer.padding_side = 'left' (or use companion.tokenize_batch, which pads on the left).",
        "de": "Die Zeilen {rows} des Batches sind rechts aufgefüllt, also würde das Modell nach dem Padding "
              "weiterschreiben statt nach dem Prompt. Tokenisieren Sie mit Padding auf der linken Seite: "
              "tokenizer.padding_side = 'left' (oder nehmen Sie companion.tokenize_batch, das links auffüllt).",
    },
    "no_pad_or_eos": {
        "en": "The tokenizer has neither a pad token nor an EOS token to stand in for it. "
              "Set one before batching, e.g. tokenizer.pad_token = tokenizer.unk_token.",
        "de": "Der Tokenizer hat weder einen Pad-Token noch einen EOS-Token, der dafür einspringen könnte. "
              "Setzen Sie einen, bevor Sie Batches bilden, z. B. tokenizer.pad_token = tokenizer.unk_token.",
    },
})


def type_name(value) -> str:
    """The name of a value's type for an error message, e.g. 'NoneType' or 'PreTrainedTokenizerFast'."""
    return type(value).__name__


def require_model(model):
    """Return `model` if it can generate, else raise an ArgumentTypeError that says what to pass.

    Args:
        model: a causal LM, as returned by `companion.load_model` (it has `generate` and `device`).
    Catches None, a tokenizer passed in the model's place (the two swapped), a model name as a
    string, before any of them fails deep inside transformers. Used by every helper that
    runs a model: `generate_ids` (notebooks 01-08), `companion.inspection` (01, 03),
    `companion.padding` (04), `companion.chat` (05), `companion.throughput` (06),
    `companion.decoding` (08).
    """
    if isinstance(model, str):
        raise ArgumentTypeError(
            f"model must be a loaded model, got the string {model!r}: load it first with "
            f"model, tokenizer = companion.load_model({model!r})."
        )
    if model is None or not callable(getattr(model, "generate", None)) or not hasattr(model, "device"):
        swapped = " (did you swap model and tokenizer? the model comes first)" if is_tokenizer(model) else ""
        raise ArgumentTypeError(
            f"model must be a causal language model, got {type_name(model)}{swapped}. "
            'Pass the model of model, tokenizer = companion.load_model("tutorial-tiny").'
        )
    return model


def is_tokenizer(value) -> bool:
    """True if `value` looks like a transformers tokenizer (callable, with decode and batch_decode)."""
    return callable(value) and callable(getattr(value, "batch_decode", None)) and hasattr(value, "padding_side")


def require_tokenizer(tokenizer):
    """Return `tokenizer` if it is a transformers tokenizer, else raise an ArgumentTypeError that says what to pass.

    Args:
        tokenizer: as returned by `companion.load_model` (callable, with `decode`, `batch_decode`
            and `padding_side`).
    Catches None, the model passed in the tokenizer's place and a model name as a string.
    Used by every helper that tokenizes or decodes (notebooks 01-08, through `tokenize_batch`).
    """
    if not is_tokenizer(tokenizer):
        swapped = (" (did you swap model and tokenizer? the tokenizer comes second)"
                   if callable(getattr(tokenizer, "generate", None)) else "")
        raise ArgumentTypeError(
            f"tokenizer must be a transformers tokenizer, got {type_name(tokenizer)}{swapped}. "
            'Pass the tokenizer of model, tokenizer = companion.load_model("tutorial-tiny").'
        )
    return tokenizer


def as_prompt_list(prompts: str | Sequence[str]) -> list[str]:
    """Return `prompts` as a non-empty list of non-empty strings (a single string becomes [string]).

    Raises an ArgumentTypeError for anything but text (None, token ids, a dict) and a
    CompanionError for an empty list or an empty string: an empty prompt gives the model
    nothing to continue (a tokenizer that adds no BOS token even gives generate() no input).
    Used by `tokenize_batch`, so by every helper that takes prompts (notebooks 01-08).
    """
    if isinstance(prompts, str):
        prompt_list = [prompts]
    elif prompts is None or isinstance(prompts, (bytes, dict)) or not isinstance(prompts, Sequence):
        raise ArgumentTypeError(
            f"prompts must be a string or a list of strings, got {type_name(prompts)}: {prompts!r}. "
            'Pass text, e.g. "I am a cat." or ["I am a cat.", "A list of colors:"].'
        )
    else:
        prompt_list = list(prompts)
    if not prompt_list:
        raise CompanionError("No prompts given: pass a string or a non-empty list of strings.")
    for index, prompt in enumerate(prompt_list):
        if not isinstance(prompt, str):
            raise ArgumentTypeError(
                f"Prompts must be strings, got {type_name(prompt)} at prompts[{index}]: {prompt!r}. "
                "Pass text, not token ids (use model.generate() directly for ids)."
            )
        if not prompt:
            raise CompanionError(
                f"prompts[{index}] is an empty string: the model needs some text to continue. "
                "Write at least a word (to start from nothing, pass tokenizer.bos_token as the prompt)."
            )
    return prompt_list


def require_positive_int(name: str, value, fix: str = "") -> int:
    """Return `value` if it is an int >= 1; else raise (ArgumentTypeError for a wrong type, CompanionError for < 1).

    Args:
        name: the argument's name as the learner wrote it, e.g. "max_new_tokens" or "steps".
        value: what was passed.
        fix: an optional sentence on what the number means or what to pass.
    The one check for every count of the package: max_new_tokens (all notebooks), steps and
    top_k of `companion.inspection` (notebook 01), new_tokens and repeats of
    `companion.decoding` / `companion.throughput` (06, 08), top of the plots (03).
    """
    suffix = f" {fix}" if fix else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name} must be a positive integer, got {type_name(value)} {value!r}.{suffix}")
    if value < 1:
        raise CompanionError(f"{name} must be a positive integer, got {value!r}.{suffix}")
    return value


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
    require_tokenizer(tokenizer)
    prompt_list = as_prompt_list(prompts)
    with padding_on(tokenizer, side):
        model_inputs = tokenizer(prompt_list, padding=True, return_tensors="pt")
    model_inputs = {name: model_inputs[name] for name in ("input_ids", "attention_mask")}
    if device is not None:
        model_inputs = {name: tensor.to(device) for name, tensor in model_inputs.items()}
    return model_inputs


def require_model_inputs(model_inputs) -> dict[str, torch.Tensor]:
    """Return `model_inputs` if it is a tokenized batch, else raise an error that says what to pass.

    Args:
        model_inputs: what `tokenizer(prompts, return_tensors="pt")` or `tokenize_batch` returns:
            a dict(-like) with "input_ids" and "attention_mask", LongTensors of the same shape (b, t).
    Used by `companion.padding` (notebook 04) and `companion.decoding.time_prefill_and_decode` (08).
    """
    if not hasattr(model_inputs, "keys") or "input_ids" not in model_inputs or "attention_mask" not in model_inputs:
        raise ArgumentTypeError(
            f"model_inputs must be the tokenizer's output with 'input_ids' and 'attention_mask', got "
            f"{type_name(model_inputs)}. Pass tokenizer(prompts, return_tensors='pt') or "
            "companion.tokenize_batch(tokenizer, prompts)."
        )
    input_ids, attention_mask = model_inputs["input_ids"], model_inputs["attention_mask"]
    if not isinstance(input_ids, torch.Tensor) or not isinstance(attention_mask, torch.Tensor):
        raise ArgumentTypeError(
            "model_inputs must hold tensors: call the tokenizer with return_tensors='pt' (and padding=True for a batch)."
        )
    if input_ids.dim() != 2 or input_ids.shape != attention_mask.shape or input_ids.shape[1] == 0:
        raise CompanionError(
            f"model_inputs['input_ids'] and ['attention_mask'] must have the same shape (batch, length) with "
            f"length >= 1, got {tuple(input_ids.shape)} and {tuple(attention_mask.shape)}. Tokenize a non-empty "
            "prompt with return_tensors='pt'."
        )
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
        raise PaddingError(MESSAGES("right_padded", rows=right_padded_rows))


def require_max_new_tokens(max_new_tokens, name: str = "max_new_tokens") -> int:
    """Return `max_new_tokens` if it is a positive int, else raise a CompanionError that says why.

    None gets its own message: generate()'s silent default of 20 new tokens is notebook 02's
    pitfall. `name` is the argument's name where a helper calls it differently (new_tokens).
    """
    if max_new_tokens is None:
        raise CompanionError(MESSAGES("missing_max_new_tokens", name=name))
    return require_positive_int(name, max_new_tokens, "It is the most tokens to add after the prompt, e.g. 30.")


def context_length(model) -> int | None:
    """The most positions the model was trained on (`config.max_position_embeddings`), or None if unknown."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    length = getattr(config, "max_position_embeddings", None)
    return length if isinstance(length, int) and length > 0 else None


def require_fits_context(model, prompt_length: int, max_new_tokens: int = 0, name: str = "max_new_tokens") -> None:
    """Raise a CompanionError if the prompt plus `max_new_tokens` is longer than the model's context.

    Args:
        model: the causal LM (its config's `max_position_embeddings` is the context).
        prompt_length: t, the number of prompt tokens (the padded batch's columns).
        max_new_tokens: how many tokens will be added (0 for a single forward pass).
        name: the argument that set `max_new_tokens`, as the caller calls it ("steps", "new_tokens").
    Past its context a model with learned positions fails with an index error deep inside
    torch, and one with rotary positions (Llama, tutorial-tiny, SmolLM2) goes on with a
    warning and degrades silently. Used by `generate_ids` (notebooks 01-08),
    `companion.inspection` (01, 03) and `companion.padding` (04).
    """
    limit = context_length(model)
    if limit is None or prompt_length + max_new_tokens <= limit:
        return
    asked = f" + {name}={max_new_tokens} = {prompt_length + max_new_tokens} positions" if max_new_tokens else ""
    if not max_new_tokens:
        fix = f"shorten the prompt to at most {limit} tokens"
    elif max_new_tokens < limit:
        fix = f"shorten the prompt to at most {limit - max_new_tokens} tokens, or lower {name}"
    else:
        fix = f"lower {name} well below {limit}, and keep the prompt short"
    raise CompanionError(
        f"The prompt has {prompt_length} tokens{asked}, more than the model's context of {limit} (model.config.max_position_embeddings): {fix}."
    )


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
