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

from companion.errors import CompanionError
from companion.generation import generate_text
from companion.language import Messages
from companion.models import REAL_MODEL
from companion.validation import (
    as_chat_batch,
    require_max_new_tokens,
    require_messages,
    require_model,
    require_tokenizer,
)

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
    message_list = require_messages(messages)
    text = tokenizer.apply_chat_template(message_list, tokenize=False, add_generation_prompt=add_generation_prompt)
    bos_token = tokenizer.bos_token
    if bos_token and text.startswith(bos_token) and tokenizer_adds_bos(tokenizer):
        text = text[len(bos_token):]
    return text


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
