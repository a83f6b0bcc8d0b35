"""companion.generation (tokenize_batch, generate_ids, generate_text, end_of_sequence_ids, generated_token_mask)
against the real tokenizer and model.generate(), token for token."""

import copy

import pytest
import torch
from transformers import AutoTokenizer

import companion
from companion.errors import CompanionError, PaddingError
from companion.generation import end_of_sequence_ids, eos_token_id_list, generated_token_mask
from companion.inspection import greedy_generate_by_hand
from companion.models import resolve_model_path
from companion.tiny import MODEL_DIR
from companion.validation import require_max_new_tokens

PROMPTS = ["1, 2, 3", "A list of colors: red, blue", "I am a cat."]


def reference_generate(model, tokenizer, prompts, max_new_tokens, **kwargs):
    """What a careful learner writes by hand: left padding, pad = eos, attention mask."""
    tokenizer.padding_side = "left"
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    inputs = tokenizer(prompts, padding=True, return_tensors="pt")
    output = model.generate(
        **inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **kwargs
    )
    return inputs, output


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_generate_ids_equal_model_generate(model_name, built_in):
    model, tokenizer = built_in(model_name)
    sequences, prompt_ids = companion.generate_ids(model, tokenizer, PROMPTS, max_new_tokens=12)
    reference_tokenizer = copy.deepcopy(tokenizer)  # the learner's own, which reference_generate changes
    inputs, reference = reference_generate(model, reference_tokenizer, PROMPTS, 12, do_sample=False)
    assert torch.equal(prompt_ids, inputs["input_ids"])
    assert torch.equal(sequences, reference)


def test_generate_text_new_text_and_full_text(tiny):
    model, tokenizer = tiny
    new_text = companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=10)
    full_text = companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=10, return_full_text=True)
    assert len(new_text) == len(PROMPTS)
    for prompt, new, full in zip(PROMPTS, new_text, full_text, strict=True):
        assert full == prompt + new


def test_batch_equals_one_by_one(tiny):
    model, tokenizer = tiny
    batched = companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=15)
    single = [companion.generate_text(model, tokenizer, prompt, max_new_tokens=15)[0] for prompt in PROMPTS]
    assert batched == single


def test_tokenizer_is_left_as_it_was(tiny):
    model, tokenizer = tiny
    assert tokenizer.pad_token is None and tokenizer.padding_side == "right"
    companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=3)
    assert tokenizer.pad_token is None and tokenizer.padding_side == "right"


def test_tokenize_batch_is_left_padded(tiny):
    _, tokenizer = tiny
    batch = companion.tokenize_batch(tokenizer, ["1, 2, 3", "A, B, C, D, E"])
    assert batch["input_ids"].shape == batch["attention_mask"].shape
    assert batch["attention_mask"][0, 0] == 0 and batch["attention_mask"][:, -1].all()
    companion.require_left_padded(batch["attention_mask"])


@pytest.mark.parametrize("side", ["left", "right"])
def test_tokenize_batch_equals_the_tokenizer_and_leaves_it_unchanged(tiny, side):
    _, tokenizer = tiny
    batch = companion.tokenize_batch(tokenizer, ["1, 2, 3", "A, B, C, D, E"], side=side)
    reference_tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR, padding_side=side)
    reference_tokenizer.pad_token = reference_tokenizer.eos_token
    reference = reference_tokenizer(["1, 2, 3", "A, B, C, D, E"], padding=True, return_tensors="pt")
    assert torch.equal(batch["input_ids"], reference["input_ids"])
    assert torch.equal(batch["attention_mask"], reference["attention_mask"])
    short_row = batch["attention_mask"][0].tolist()
    assert short_row[0 if side == "left" else -1] == 0  # the padding sits on the side asked for
    assert tokenizer.pad_token is None and tokenizer.padding_side == "right"


def test_tokenize_batch_refuses_an_unknown_side(tiny):
    _, tokenizer = tiny
    with pytest.raises(CompanionError, match="'left' or 'right'"):
        companion.tokenize_batch(tokenizer, ["1, 2, 3", "A, B"], side="middle")


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_right_padded_generate_ids_equal_model_generate(model_name, built_in):
    """side="right" (notebook 04's broken batch) is still exactly what generate() does with it."""
    model, tokenizer = built_in(model_name)
    prompts = ["A, B", "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7"]
    sequences, prompt_ids = companion.generate_ids(model, tokenizer, prompts, max_new_tokens=8, side="right")
    reference_tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(model_name))
    reference_tokenizer.pad_token = reference_tokenizer.pad_token or reference_tokenizer.eos_token
    inputs = reference_tokenizer(prompts, padding=True, return_tensors="pt")
    assert inputs["attention_mask"][0, -1] == 0  # the default side is right: the short row ends in padding
    reference = model.generate(
        **inputs, max_new_tokens=8, do_sample=False, pad_token_id=reference_tokenizer.pad_token_id
    )
    assert torch.equal(prompt_ids, inputs["input_ids"])
    assert torch.equal(sequences, reference)


def test_eos_token_id_list_takes_every_form():
    assert eos_token_id_list(2) == [2]
    assert eos_token_id_list([2, 7]) == [2, 7]
    assert eos_token_id_list((2,)) == [2]
    assert eos_token_id_list(torch.tensor(2)) == [2]
    assert eos_token_id_list(torch.tensor([2, 7])) == [2, 7]
    assert eos_token_id_list(None) == []


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_end_of_sequence_ids_is_where_generate_stops(model_name, built_in):
    model, tokenizer = built_in(model_name)
    stop_ids = end_of_sequence_ids(model, tokenizer)
    assert stop_ids and all(isinstance(token_id, int) for token_id in stop_ids)
    # The same ids generate() itself prepares: the generation config's (transformers 5.24.0,
    # GenerationMixin._prepare_special_tokens), never the tokenizer's.
    expected = model.generation_config.eos_token_id
    assert stop_ids == ([expected] if isinstance(expected, int) else list(expected))
    sequences, prompt_ids = companion.generate_ids(model, tokenizer, "I am a cat.", max_new_tokens=60)
    new_tokens = sequences[0, prompt_ids.shape[1]:].tolist()
    if len(new_tokens) < 60:  # stopped early: the last token is one of the stop ids
        assert new_tokens[-1] in stop_ids


def test_end_of_sequence_ids_follow_one_precedence(tiny):
    """The call's ids, else the model's generation config (alone, as in generate()), else the tokenizer's."""
    model, tokenizer = tiny
    assert end_of_sequence_ids(model, tokenizer, eos_token_id=[5, 7]) == [5, 7]
    assert end_of_sequence_ids(model, tokenizer, eos_token_id=torch.tensor(9)) == [9]
    assert end_of_sequence_ids(model, tokenizer) == eos_token_id_list(model.generation_config.eos_token_id)
    assert end_of_sequence_ids(tokenizer=tokenizer) == [tokenizer.eos_token_id]  # no model at hand
    assert end_of_sequence_ids() == []


def test_a_generation_config_without_eos_stops_no_row_early(tiny):
    """generate() does not fall back to the tokenizer's EOS, and neither do the helpers."""
    model, tokenizer = tiny
    prompt = "Tom has a"  # tutorial-tiny ends this one early with its EOS token
    sequences, prompt_ids = companion.generate_ids(model, tokenizer, prompt, max_new_tokens=30)
    assert sequences.shape[1] - prompt_ids.shape[1] < 30 and sequences[0, -1] == tokenizer.eos_token_id
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = None
    try:
        assert end_of_sequence_ids(model, tokenizer) == []
        sequences, prompt_ids = companion.generate_ids(model, tokenizer, prompt, max_new_tokens=30)
        assert sequences.shape[1] - prompt_ids.shape[1] == 30  # generate() ran on past the tokenizer's EOS
        by_hand = greedy_generate_by_hand(model, tokenizer, prompt, max_new_tokens=30)
        assert torch.equal(by_hand, sequences.cpu())
        assert bool(generated_token_mask(sequences, prompt_ids.shape[1], end_of_sequence_ids(model, tokenizer)).all())
    finally:
        model.generation_config.eos_token_id = saved


def test_generated_token_mask_keeps_each_row_up_to_its_first_end_token():
    sequences = torch.tensor([[5, 6, 7, 2, 0, 0], [5, 6, 8, 9, 10, 11], [0, 6, 2, 2, 2, 2]])  # (b=3, t+n=6)
    mask = generated_token_mask(sequences, 2, [2])
    assert mask.dtype == torch.bool and mask.shape == (3, 4)
    assert mask.tolist() == [[True, True, False, False], [True] * 4, [True, False, False, False]]
    assert generated_token_mask(sequences, 2, [9, 2])[1].tolist() == [True, True, False, False]
    assert bool(generated_token_mask(sequences, 2, None).all())  # no end token: every new token counts
    assert generated_token_mask(sequences, 6, 2).shape == (3, 0)  # no new tokens


def test_max_new_tokens_message_names_the_default():
    with pytest.raises(CompanionError) as error:
        require_max_new_tokens(None)
    message = str(error.value)
    assert "20 new tokens" in message and "counted the prompt" in message
    assert "transformers 5" not in message
    assert require_max_new_tokens(5) == 5


def test_sampling_is_reproducible_with_a_seed(tiny):
    model, tokenizer = tiny
    outputs = []
    for _ in range(2):
        companion.setup_notebook(seed=0, verbose=False)
        outputs.append(companion.generate_text(model, tokenizer, "I am a cat.", max_new_tokens=20, do_sample=True))
    assert outputs[0] == outputs[1]


def test_right_padded_batch_is_refused():
    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)  # a copy we may change
    tokenizer.pad_token = tokenizer.eos_token
    right = tokenizer(["1, 2, 3", "A, B, C, D, E"], padding=True, return_tensors="pt")
    with pytest.raises(PaddingError, match="padding_side = 'left'"):
        companion.require_left_padded(right["attention_mask"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "Pass max_new_tokens"),
        ({"max_new_tokens": 0}, "positive integer"),
        ({"max_new_tokens": "20"}, "positive integer"),
        ({"max_new_tokens": 5, "max_length": 20}, "Use max_new_tokens instead"),
    ],
)
def test_bad_lengths_are_explained(tiny, kwargs, message):
    model, tokenizer = tiny
    with pytest.raises(CompanionError, match=message):
        companion.generate_text(model, tokenizer, "1, 2", **kwargs)


@pytest.mark.parametrize("prompts", [[], [1, 2], [None]])
def test_bad_prompts_are_explained(tiny, prompts):
    model, tokenizer = tiny
    with pytest.raises(CompanionError):
        companion.generate_text(model, tokenizer, prompts, max_new_tokens=3)
