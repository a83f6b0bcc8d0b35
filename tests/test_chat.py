"""companion.chat (notebook 05) against apply_chat_template and model.generate() on smollm2-135m."""

import pytest
import torch
from transformers import AutoTokenizer

import companion
from companion.chat import chat, render_chat, require_chat_template, tokenizer_adds_bos
from companion.errors import CompanionError
from companion.models import resolve_model_path
from companion.validation import as_chat_batch, require_messages

QUESTION = "What is the capital of France?"
CHATS = [
    [{"role": "user", "content": "What is 2 + 3?"}],
    [
        {"role": "system", "content": "You are a helpful assistant. Answer in a few words."},
        {"role": "user", "content": "Name three colors."},
    ],
]
MAX_NEW_TOKENS = 12
# A minimal template in SmolLM2's style that starts with the BOS token, as Llama-3-style templates do.
BOS_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def manual_chat_generate(model, model_name, chats, max_new_tokens):
    """What notebook 05 teaches with plain calls: template -> left-padded inputs -> generate(**inputs) -> slice
    -> decode."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(model_name))  # a fresh tokenizer we may change
    tokenizer.padding_side = "left"
    inputs = tokenizer.apply_chat_template(
        chats, add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
    )
    with torch.inference_mode():
        outputs = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.batch_decode(outputs[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def test_chat_equals_apply_chat_template_and_generate(smollm2):
    model, tokenizer = smollm2
    answers = chat(model, tokenizer, CHATS, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    assert answers == manual_chat_generate(model, "smollm2-135m", CHATS, MAX_NEW_TOKENS)
    assert all(answer.strip() for answer in answers)  # the instruct model answers in the chat format
    assert tokenizer.padding_side == "right"  # chat() pads on the left without changing the learner's tokenizer


def test_chat_batch_equals_one_chat_at_a_time(smollm2):
    model, tokenizer = smollm2
    batched = chat(model, tokenizer, CHATS, max_new_tokens=MAX_NEW_TOKENS)
    one_by_one = [chat(model, tokenizer, messages, max_new_tokens=MAX_NEW_TOKENS)[0] for messages in CHATS]
    assert batched == one_by_one


def test_chat_needs_max_new_tokens(smollm2):
    model, tokenizer = smollm2
    with pytest.raises(CompanionError, match="max_new_tokens"):
        chat(model, tokenizer, CHATS)


def test_render_chat_tokenizes_to_the_template_ids(smollm2):
    _, tokenizer = smollm2
    for messages in CHATS:
        text = render_chat(tokenizer, messages)
        template = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
        template_ids = template["input_ids"]
        assert tokenizer(text)["input_ids"] == list(template_ids)
        assert text.endswith("<|im_start|>assistant\n")


def test_add_generation_prompt_adds_the_assistant_header(smollm2):
    _, tokenizer = smollm2
    messages = [{"role": "user", "content": QUESTION}]
    with_header = render_chat(tokenizer, messages)
    without_header = render_chat(tokenizer, messages, add_generation_prompt=False)
    assert with_header == without_header + "<|im_start|>assistant\n"


def test_render_chat_keeps_the_system_message_or_uses_the_default(smollm2):
    _, tokenizer = smollm2
    with_system = [{"role": "system", "content": "You answer in one word."}, {"role": "user", "content": QUESTION}]
    text = render_chat(tokenizer, with_system)
    assert text == tokenizer.apply_chat_template(with_system, tokenize=False, add_generation_prompt=True)
    assert "You answer in one word." in text and "You are a helpful AI assistant" not in text
    without_system = render_chat(tokenizer, with_system[1:])
    assert "You are a helpful AI assistant" in without_system  # the template's default system message


def test_no_double_bos_with_a_tokenizer_that_adds_one():
    _, tokenizer = companion.load_model("tutorial-tiny")  # adds <s> itself; give it a template that does too
    tokenizer.chat_template = BOS_TEMPLATE
    assert tokenizer_adds_bos(tokenizer)
    messages = [{"role": "user", "content": "1, 2, 3"}]
    text = render_chat(tokenizer, messages)
    assert not text.startswith(tokenizer.bos_token)
    template_ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    token_ids = tokenizer(text)["input_ids"]
    assert token_ids == list(template_ids)
    assert token_ids.count(tokenizer.bos_token_id) == 1


def test_base_model_without_template_gets_a_clear_error(tiny):
    model, tokenizer = tiny
    with pytest.raises(CompanionError, match="smollm2-135m") as raised:
        require_chat_template(tokenizer)
    assert "'tutorial-tiny'" in str(raised.value) and "/" not in str(raised.value).split("has no")[0]
    with pytest.raises(CompanionError, match="no chat template"):
        chat(model, tokenizer, CHATS, max_new_tokens=3)


def test_smollm2_has_a_chat_template(smollm2):
    _, tokenizer = smollm2
    require_chat_template(tokenizer)  # no error


@pytest.mark.parametrize(
    "messages",
    ["Hello", {"role": "user", "content": "Hi"}, [], [{"role": "user"}], [{"role": "robot", "content": "Hi"}], ["Hi"]],
)
def test_bad_chats_are_explained(messages):
    with pytest.raises(CompanionError):
        require_messages(messages)


def test_one_chat_or_a_batch():
    one_chat = [{"role": "user", "content": "Hi"}]
    assert as_chat_batch(one_chat) == [one_chat]
    assert as_chat_batch(CHATS) == CHATS
    with pytest.raises(CompanionError):
        as_chat_batch([])
