"""Prompting an instruct model in the format it was trained on: chat templates.

Taught in notebook 05 (wrong prompt format), which first does everything with plain
`transformers` calls (`tokenizer.apply_chat_template(..., return_dict=True)`,
`model.generate(**inputs, ...)`) and then recaps them with these helpers. An instruct model
such as `smollm2-135m` was fine-tuned on conversations written in a fixed format with
special tokens (`<|im_start|>user ... <|im_end|>` for SmolLM2). Its tokenizer carries that
format as a *chat template*; `apply_chat_template(messages, add_generation_prompt=True)`
turns a list of messages into the text the model expects, ending with the header of the
assistant's turn so that the model answers instead of continuing the question.

A chat is a list of messages, each a dict {"role": "system" | "user" | "assistant",
"content": text} (templates may accept more roles and keys, e.g. "tool"). `chat` answers a
batch of chats at once, padded on the left by `companion.generate_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from companion.errors import ArgumentTypeError, CompanionError
from companion.generation import generate_text, require_max_new_tokens, require_model, require_tokenizer
from companion.language import Messages
from companion.models import REAL_MODEL

MESSAGES = Messages(__name__, {
    "no_chat_template": {
        "en": "The tokenizer of {name} has no chat template: it belongs to a base model, which was "
              "trained to continue text, not to answer chats. Use an instruct model, such as "
              'companion.load_model("{model}"), or write the prompt as plain text to continue.',
        "de": "Der Tokenizer von {name} hat kein Chat-Template: Er gehört zu einem Basismodell, "
              "das gelernt hat, Text fortzusetzen, nicht auf Chats zu antworten. Nehmen Sie ein Instruct-Modell, "
              'etwa companion.load_model("{model}"), oder schreiben Sie den Prompt als Text, den das Modell fortsetzt.',
    },
})

ROLES = ("system", "user", "assistant", "tool")


def require_chat_template(tokenizer) -> None:
    """Raise a CompanionError if the tokenizer has no chat template (a base model, not an instruct model).

    Args:
        tokenizer: a transformers tokenizer.
    transformers' own error for this case (a ValueError from `apply_chat_template`) says that
    `chat_template` is not set; this one also says which kind of model to use instead.
    Used by `render_chat` and `chat`; shown in notebook 05's recap.
    """
    require_tokenizer(tokenizer)
    if getattr(tokenizer, "chat_template", None) is None:
        # The folder's last part names the model without exposing where it lives on this machine.
        name = Path(str(getattr(tokenizer, "name_or_path", "") or "this model")).name
        raise CompanionError(MESSAGES("no_chat_template", name=repr(name), model=REAL_MODEL))


def check_messages(messages) -> list[dict[str, str]]:
    """Return `messages` as a list if it is a valid chat, else raise a CompanionError that says why."""
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
            raise CompanionError(f"A message's role is one of {ROLES}, got {message['role']!r}: use 'user' for questions.")
        if not isinstance(message["content"], str):
            raise ArgumentTypeError(
                f"A message's content is text, got {type(message['content']).__name__}: {message['content']!r}."
            )
    return message_list


def tokenizer_adds_bos(tokenizer) -> bool:
    """True if `tokenizer(text)` puts a BOS token in front of the text by itself."""
    if tokenizer.bos_token_id is None:
        return False
    token_ids = tokenizer("a")["input_ids"]
    return len(token_ids) > 0 and token_ids[0] == tokenizer.bos_token_id


def render_chat(tokenizer, messages: Sequence[dict[str, str]], *, add_generation_prompt: bool = True) -> str:
    """The text of a chat in the model's own format, ready to be tokenized.

    Args:
        tokenizer: the tokenizer of an instruct model (one with a chat template).
        messages: one chat, a list of {"role": ..., "content": ...} dicts.
        add_generation_prompt: True (default) ends the text with the header of the
            assistant's turn, so that the model writes the answer next.
    Returns:
        the text of `tokenizer.apply_chat_template(messages, tokenize=False, ...)`. Templates
        that begin with the BOS token are for tokenizing without special tokens; if this
        tokenizer adds a BOS by itself, that first BOS is left out here, so that
        `tokenizer(text)` holds exactly one (the ids equal `apply_chat_template(..., tokenize=True)`,
        which tokenizes with add_special_tokens=False in transformers 5.24).
    Used by `chat`; shown in notebook 05's recap.
    """
    require_chat_template(tokenizer)
    message_list = check_messages(messages)
    text = tokenizer.apply_chat_template(message_list, tokenize=False, add_generation_prompt=add_generation_prompt)
    bos_token = tokenizer.bos_token
    if bos_token and text.startswith(bos_token) and tokenizer_adds_bos(tokenizer):
        text = text[len(bos_token):]
    return text


def as_chat_batch(messages_batch) -> list[list[dict[str, str]]]:
    """Accept one chat (a list of message dicts) or a batch of chats; return a list of chats."""
    if isinstance(messages_batch, Sequence) and messages_batch and isinstance(messages_batch[0], dict):
        return [check_messages(messages_batch)]
    if isinstance(messages_batch, (str, dict)) or not isinstance(messages_batch, Sequence):
        raise ArgumentTypeError(
            f"messages_batch must be one chat (a list of message dicts) or a list of chats, got "
            f"{type(messages_batch).__name__}: e.g. [{{'role': 'user', 'content': 'Hello'}}]."
        )
    if not messages_batch:
        raise CompanionError("messages_batch is empty: pass one chat (a list of message dicts) or a non-empty list of chats.")
    return [check_messages(messages) for messages in messages_batch]


def chat(
    model,
    tokenizer,
    messages_batch,
    *,
    max_new_tokens: int | None = None,
    do_sample: bool = False,
    **generate_kwargs,
) -> list[str]:
    """Answer a batch of chats with an instruct model and return only the answers.

    Args:
        model, tokenizer: an instruct model, e.g. `companion.load_model("smollm2-135m")`.
        messages_batch: a list of b chats (each a list of message dicts), or one chat.
        max_new_tokens: required; the most tokens of each answer.
        do_sample: False = greedy decoding (default), True = sampling.
        **generate_kwargs: passed on to `model.generate()`.
    Returns:
        list of b answers (the assistant's new text, special tokens dropped), in order.
    Each chat is rendered with `render_chat` (add_generation_prompt=True) and the batch is
    generated by `companion.generate_text` (left padding, attention mask passed), so the
    answers equal `apply_chat_template(chats, padding=True, return_dict=True)` on a tokenizer
    that pads on the left, then `model.generate(**inputs, ...)` and slicing off the prompt.
    Recap in notebook 05. Checks model, tokenizer (and its chat template), max_new_tokens and
    every message before rendering anything.
    """
    require_model(model)
    require_chat_template(tokenizer)
    require_max_new_tokens(max_new_tokens)
    prompts = [render_chat(tokenizer, messages) for messages in as_chat_batch(messages_batch)]
    return generate_text(
        model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=do_sample, **generate_kwargs
    )
