"""Argument validation: every `require_*` check of the package, in one module.

Each function takes what a learner passed, returns it (or a normalized copy: `as_prompt_list`)
when it is usable, and otherwise raises before anything runs, with a message that names the
argument and says what to pass instead: an `ArgumentTypeError` (also a TypeError) for a wrong
type, a `CompanionError` (also a ValueError) or `PaddingError` for a wrong value. Exercise checks
(`companion.exercises.*.check_*`) are different: they return a `Verdict` and never raise.

Used by every module that takes a learner's arguments: `companion.generation` (notebooks
01-08), `companion.inspection` (01, 03), `companion.sampling`, `companion.plots` and
`companion.sampling_panel` (03), `companion.padding` (04), `companion.chat` (05),
`companion.throughput` (06), `companion.scores` (07), `companion.decoding` (08) and
`companion.doctor` (09).

This is a lower layer of the package: it imports only `companion.errors` and
`companion.language` (tests/test_package_structure.py holds it to that). Two checks stay beside
what they need: `companion.chat.require_chat_template` (its message names the course's instruct
model, `companion.models.REAL_MODEL`) and `companion.models.require_loadable_hub_id` (it asks
the hub cache and the network). The environment checks (`companion.dependencies.require`,
`companion.notebook_setup.require_supported_transformers`) look at the installation, not at an
argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from companion.errors import ArgumentTypeError, CompanionError, PaddingError
from companion.language import Messages

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
})


# --- model, tokenizer and prompts (every notebook) --------------------------------------------------


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


def require_prompt(prompt) -> str:
    """Return `prompt` if it is one non-empty string, else raise an error that says what to pass.

    Used where a helper looks at the token after one prompt: `companion.sampling.compare_settings_table`
    and `companion.plots.plot_sampling_settings` (notebook 03).
    """
    if not isinstance(prompt, str):
        raise ArgumentTypeError(f"prompt must be one string, got {type(prompt).__name__}: e.g. \"I am a cat.\".")
    if not prompt:
        raise CompanionError('prompt is empty: give the text whose next token you want to see, e.g. "I am a cat.".')
    return prompt


# --- counts, padding and the context (every notebook) -----------------------------------------------


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


def require_max_new_tokens(max_new_tokens, name: str = "max_new_tokens") -> int:
    """Return `max_new_tokens` if it is a positive int, else raise a CompanionError that says why.

    None gets its own message: generate()'s silent default of 20 new tokens is notebook 02's
    pitfall. `name` is the argument's name where a helper calls it differently (new_tokens).
    """
    if max_new_tokens is None:
        raise CompanionError(MESSAGES("missing_max_new_tokens", name=name))
    return require_positive_int(name, max_new_tokens, "It is the most tokens to add after the prompt, e.g. 30.")


PADDING_SIDES = ("left", "right")


def require_padding_side(side: str) -> str:
    """Return `side` if it is "left" or "right", else raise a CompanionError that names the choices."""
    if side not in PADDING_SIDES:
        raise CompanionError(f"side must be 'left' or 'right', got {side!r}: pass side='left' to generate.")
    return side


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
            "model_inputs must hold tensors: call the tokenizer with return_tensors='pt' "
            "(and padding=True for a batch)."
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
    warning and degrades silently. Used by `companion.generation.generate_ids` (notebooks 01-08),
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
        f"The prompt has {prompt_length} tokens{asked}, more than the model's context of {limit} "
        f"(model.config.max_position_embeddings): {fix}."
    )


# --- sampling settings (notebook 03 and every call that samples) ------------------------------------

# The sampling settings `generate(do_sample=True, ...)` reads, with their allowed values and
# what to pass instead; transformers 5.24's warpers (logits_process.py) accept the same ranges.
SAMPLING_SETTINGS = {
    "temperature": ("a number > 0", "Typical: 0.7 to 1.0. For 'always the most likely token' use greedy "
                    "decoding instead: do_sample=False, without a temperature."),
    "top_k": ("a whole number >= 1", "Typical: 50; None (or 0) keeps every token."),
    "top_p": ("a number in (0, 1]", "Typical: 0.9 to 0.95; None (or 1.0) keeps every token."),
    "min_p": ("a number in [0, 1]", "Typical: 0.05 to 0.2; None keeps every token."),
}


def require_sampling_setting(name: str, value):
    """Return `value` if it is allowed for the sampling setting `name`, else raise a message with the fix.

    Args:
        name: "temperature", "top_k", "top_p" or "min_p".
        value: what was passed; None means "not set" (allowed for all but temperature).
    Raises:
        ArgumentTypeError for a wrong type (a string, a bool), CompanionError for a number
        out of range: temperature <= 0, top_k < 0, top_p outside (0, 1], min_p outside [0, 1].
    The one check for every sampling setting: used by `companion.sampling`'s `warp_logits`, `sampling_distribution`,
    `compare_settings_table` (notebook 03) and by `companion.generate_ids` /
    `companion.generate_text` (every notebook that samples), before generate() would raise
    from inside transformers (or, with do_sample=False, warn and ignore the value).
    """
    rule, fix = SAMPLING_SETTINGS[name]
    if value is None and name != "temperature":
        return value
    if name == "top_k":
        number_type_ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        number_type_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number_type_ok:
        raise ArgumentTypeError(f"{name} must be {rule}, got {type(value).__name__} {value!r}. {fix}")
    in_range = {
        "temperature": value > 0,
        "top_k": value >= 0,
        "top_p": 0 < value <= 1,
        "min_p": 0 <= value <= 1,
    }[name]
    if not in_range:
        raise CompanionError(f"{name} must be {rule}, got {value!r}. {fix}")
    return value


def require_sampling_settings(settings: Mapping, where: str = "the call") -> Mapping:
    """Return `settings` if every name is a sampling setting with an allowed value, else raise with the fix."""
    for name, value in settings.items():
        if name not in SAMPLING_SETTINGS:
            raise CompanionError(
                f"{where} has {name!r}, which is not a sampling setting: use {', '.join(SAMPLING_SETTINGS)}."
            )
        require_sampling_setting(name, value)
    return settings


def require_settings_table(settings) -> dict[str, dict]:
    """Return `settings` if it maps titles to keyword arguments of `sampling_distribution`, else raise with the fix.

    Each value's names must be sampling settings and each value in range (`require_sampling_setting`).
    Used by `companion.sampling.compare_settings_table` and `companion.plots.plot_sampling_settings` (notebook 03).
    """
    example = '{"original": {}, "T=0.5": {"temperature": 0.5}}'
    if not isinstance(settings, Mapping):
        raise ArgumentTypeError(
            f"settings must be a dict of title -> settings, got {type(settings).__name__}: e.g. {example}."
        )
    if not settings:
        raise CompanionError(f"settings is empty: give at least one column, e.g. {example}.")
    for title, options in settings.items():
        if not isinstance(options, Mapping):
            raise ArgumentTypeError(
                f"settings[{title!r}] must be a dict of sampling settings, got {type(options).__name__}: "
                f"e.g. {example}."
            )
        require_sampling_settings(options, where=f"settings[{title!r}]")
    return {str(title): dict(options) for title, options in settings.items()}


# --- chats (notebook 05) ----------------------------------------------------------------------------

ROLES = ("system", "user", "assistant", "tool")


def require_messages(messages) -> list[dict[str, str]]:
    """Return `messages` as a list if it is a valid chat, else raise a CompanionError that says why.

    Args:
        messages: one chat, a list of {"role": one of ROLES, "content": text} dicts.
    Used by `companion.chat.render_chat` and `companion.chat.chat` (notebook 05).
    """
    if isinstance(messages, (str, dict)) or not isinstance(messages, Sequence):
        raise ArgumentTypeError(
            "A chat is a list of messages, each a dict like {'role': 'user', 'content': 'Hello'}; "
            f"got {type(messages).__name__}. For one question pass [{{'role': 'user', 'content': question}}]."
        )
    message_list = list(messages)
    if not message_list:
        raise CompanionError("The chat has no messages: add at least one {'role': 'user', 'content': ...}.")
    for message in message_list:
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise ArgumentTypeError(
                f"Each message is a dict with the keys 'role' and 'content', got {message!r}: "
                "write it as {'role': 'user', 'content': 'Hello'}."
            )
        if message["role"] not in ROLES:
            raise CompanionError(
                f"A message's role is one of {ROLES}, got {message['role']!r}: use 'user' for questions."
            )
        if not isinstance(message["content"], str):
            raise ArgumentTypeError(
                f"A message's content is text, got {type(message['content']).__name__}: {message['content']!r}."
            )
    return message_list


def as_chat_batch(messages_batch) -> list[list[dict[str, str]]]:
    """Accept one chat (a list of message dicts) or a batch of chats; return a list of chats.

    Each chat is checked by `require_messages`. Used by `companion.chat.chat` (notebook 05).
    """
    if isinstance(messages_batch, Sequence) and messages_batch and isinstance(messages_batch[0], dict):
        return [require_messages(messages_batch)]
    if isinstance(messages_batch, (str, dict)) or not isinstance(messages_batch, Sequence):
        raise ArgumentTypeError(
            f"messages_batch must be one chat (a list of message dicts) or a list of chats, got "
            f"{type(messages_batch).__name__}: e.g. [{{'role': 'user', 'content': 'Hello'}}]."
        )
    if not messages_batch:
        raise CompanionError(
            "messages_batch is empty: pass one chat (a list of message dicts) or a non-empty list of chats."
        )
    return [require_messages(messages) for messages in messages_batch]


# --- charts and token scores (notebooks 01, 03, 07) -------------------------------------------------


def require_items(name: str, items, item_type: type, source: str) -> list:
    """Return `items` as a non-empty list of `item_type`, else raise an error naming `name` and where they come from.

    Used by `companion.plots.plot_top_tokens` (rows) and `companion.plots.plot_autoregressive_loop` (steps),
    notebook 01.
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise ArgumentTypeError(
            f"{name} must be a list of {item_type.__name__}, got {type(items).__name__}: pass {source}."
        )
    if not items:
        raise CompanionError(f"{name} is empty: nothing to draw. Pass {source}.")
    for item in items:
        if not isinstance(item, item_type):
            nested = (" (a batch: take one prompt's list, e.g. [0])"
                      if isinstance(item, Sequence) and not isinstance(item, str) else "")
            raise ArgumentTypeError(
                f"{name} must be a list of {item_type.__name__}, got an element of type {type(item).__name__}{nested}: "
                f"pass {source}."
            )
    return list(items)


def require_sequences(sequences: torch.Tensor, prompt_length: int) -> None:
    """Raise an error that says what to pass unless `sequences` is (b, t + n) ids and 0 <= `prompt_length` <= t + n.

    Used by `companion.scores.token_probability_table` and `companion.generation.generated_token_mask` (notebook 07).
    """
    if not isinstance(sequences, torch.Tensor) or sequences.dim() != 2:
        raise ArgumentTypeError(
            f"sequences must be a LongTensor of shape (batch, length), got {type(sequences).__name__}: pass "
            "outputs.sequences from generate(..., return_dict_in_generate=True)."
        )
    whole_number = isinstance(prompt_length, int) and not isinstance(prompt_length, bool)
    if not whole_number or not 0 <= prompt_length <= sequences.shape[1]:
        raise CompanionError(
            f"prompt_length must be the prompt's number of columns, inputs['input_ids'].shape[1], "
            f"between 0 and {sequences.shape[1]}; got {prompt_length!r}."
        )


def require_new_token_scores(sequences: torch.Tensor, transition_scores: torch.Tensor, prompt_length: int) -> int:
    """Return n, the number of new tokens, if the shapes fit together, else raise an error that says what to pass.

    Args:
        sequences: LongTensor of shape (b, t + n), `outputs.sequences`.
        transition_scores: FloatTensor of shape (b, n), from `compute_transition_scores`.
        prompt_length: t, the number of prompt columns (`inputs["input_ids"].shape[1]`).
    Used by `companion.scores.token_probability_table` (notebook 07).
    """
    require_sequences(sequences, prompt_length)
    new_tokens = sequences.shape[1] - prompt_length
    if not isinstance(transition_scores, torch.Tensor) or tuple(transition_scores.shape) != (
        sequences.shape[0],
        new_tokens,
    ):
        shape = tuple(transition_scores.shape) if isinstance(transition_scores, torch.Tensor) else None
        raise CompanionError(
            f"transition_scores must have shape (batch, new tokens) = ({sequences.shape[0]}, {new_tokens}), "
            f"got {shape}. Pass model.compute_transition_scores(outputs.sequences, outputs.scores, "
            "normalize_logits=True) and the prompt length of the same generate() call."
        )
    return new_tokens
