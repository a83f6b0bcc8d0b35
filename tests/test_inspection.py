"""companion.inspection against the real models: the next-token distribution and the hand loop.

Everything is compared with what the model and `generate()` themselves return, on both
course models, with batches of prompts of different lengths (left padding).
"""

import pytest
import torch

import companion
from companion.errors import CompanionError
from companion.inspection import (
    TokenProbability,
    format_token_table,
    greedy_generate_by_hand,
    next_token_distribution,
    next_token_logits,
    next_token_probabilities,
    position_ids_for,
    top_tokens,
)

PROMPTS = ["A list of colors: red, blue", "I am a cat.", "1, 2, 3"]  # different lengths


@pytest.fixture(params=["tiny", "smollm2"])
def any_model(request):
    """Each course model in turn, as (model, tokenizer)."""
    return request.getfixturevalue(request.param)


def last_logits_unpadded(model, tokenizer, prompt):
    """softmax(model(**inputs).logits[:, -1]) for one prompt, no padding: the plain definition."""
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        logits = model(**inputs).logits
    assert logits.shape == (1, inputs["input_ids"].shape[1], model.config.vocab_size)
    return logits[:, -1].float()


def test_distribution_equals_softmax_of_last_logits_in_a_padded_batch(any_model):
    model, tokenizer = any_model
    distribution = next_token_distribution(model, tokenizer, PROMPTS)
    assert distribution.shape == (len(PROMPTS), model.config.vocab_size)
    torch.testing.assert_close(distribution.sum(dim=-1), torch.ones(len(PROMPTS)), atol=1e-4, rtol=0)
    for row, prompt in enumerate(PROMPTS):
        expected = torch.softmax(last_logits_unpadded(model, tokenizer, prompt), dim=-1)[0]
        torch.testing.assert_close(distribution[row], expected, atol=1e-5, rtol=1e-4)


def test_logits_equal_generate_first_step_scores_and_logits(any_model):
    model, tokenizer = any_model
    inputs = companion.tokenize_batch(tokenizer, PROMPTS)
    with torch.inference_mode():
        output = model.generate(
            **inputs, max_new_tokens=1, do_sample=False,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            output_scores=True, output_logits=True, return_dict_in_generate=True,
        )
    logits = next_token_logits(model, tokenizer, PROMPTS)
    torch.testing.assert_close(logits, output.logits[0].float(), atol=1e-4, rtol=1e-4)
    # Greedy decoding with these models applies no processors: the scores are the raw logits.
    torch.testing.assert_close(
        torch.softmax(logits, dim=-1), torch.softmax(output.scores[0].float(), dim=-1), atol=1e-5, rtol=1e-4
    )
    assert torch.equal(logits.argmax(dim=-1), output.sequences[:, -1])


def test_next_token_probabilities_are_the_sorted_top_of_the_distribution(tiny):
    model, tokenizer = tiny
    tables = next_token_probabilities(model, tokenizer, PROMPTS, top_k=5)
    distribution = next_token_distribution(model, tokenizer, PROMPTS)
    assert len(tables) == len(PROMPTS)
    for rows, full in zip(tables, distribution):
        assert [row.rank for row in rows] == [1, 2, 3, 4, 5]
        probabilities = [row.probability for row in rows]
        assert probabilities == sorted(probabilities, reverse=True)
        assert rows[0].token_id == int(full.argmax())
        for row in rows:
            assert row.probability == pytest.approx(full[row.token_id].item())
            assert row.token == tokenizer.decode([row.token_id])


def test_single_prompt_is_a_batch_of_one(tiny):
    model, tokenizer = tiny
    one = next_token_probabilities(model, tokenizer, "I am a cat.", top_k=3)
    batch = next_token_probabilities(model, tokenizer, PROMPTS, top_k=3)
    assert len(one) == 1
    assert [row.token_id for row in one[0]] == [row.token_id for row in batch[1]]


def test_tokenizer_settings_are_left_as_they_were(tiny):
    model, tokenizer = tiny
    side, pad = tokenizer.padding_side, tokenizer.pad_token
    next_token_probabilities(model, tokenizer, PROMPTS)
    greedy_generate_by_hand(model, tokenizer, PROMPTS, max_new_tokens=2)
    assert (tokenizer.padding_side, tokenizer.pad_token) == (side, pad)


@pytest.mark.parametrize("model_name, max_new_tokens", [("tiny", 40), ("smollm2", 8)])
def test_hand_loop_equals_generate_token_for_token(request, model_name, max_new_tokens):
    model, tokenizer = request.getfixturevalue(model_name)
    by_hand = greedy_generate_by_hand(model, tokenizer, PROMPTS, max_new_tokens=max_new_tokens)
    inputs = companion.tokenize_batch(tokenizer, PROMPTS)
    with torch.inference_mode():
        reference = model.generate(
            **inputs, max_new_tokens=max_new_tokens, do_sample=False,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )
    assert torch.equal(by_hand, reference)


def test_hand_loop_stops_at_eos_and_pads_finished_rows(tiny):
    model, tokenizer = tiny
    # The tiny model ends the colour list with EOS; the counting prompt goes on.
    prompts = ["A list of colors: red, blue", "A sequence of numbers: 1, 2"]
    by_hand = greedy_generate_by_hand(model, tokenizer, prompts, max_new_tokens=30)
    prompt_length = companion.tokenize_batch(tokenizer, prompts)["input_ids"].shape[1]
    colour_tokens = by_hand[0, prompt_length:].tolist()
    eos_at = colour_tokens.index(tokenizer.eos_token_id)
    assert all(token == tokenizer.eos_token_id for token in colour_tokens[eos_at:])  # pad = eos here
    assert by_hand.shape[1] == prompt_length + 30
    alone = greedy_generate_by_hand(model, tokenizer, prompts[0], max_new_tokens=30)
    assert alone.shape[1] < prompt_length + 30  # a batch of one stops early
    assert alone[0, -1].item() == tokenizer.eos_token_id


def test_position_ids_count_from_the_first_real_token():
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert position_ids_for(mask).tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 3, 4]]


def test_hand_loop_requires_max_new_tokens(tiny):
    with pytest.raises(CompanionError, match="max_new_tokens"):
        greedy_generate_by_hand(*tiny, PROMPTS)


def test_top_tokens_checks_its_input(tiny):
    _, tokenizer = tiny
    with pytest.raises(CompanionError, match="one row"):
        top_tokens(torch.ones(2, 5) / 5, tokenizer)
    rows = top_tokens(torch.tensor([0.1, 0.6, 0.3]), tokenizer, top_k=10)
    assert [row.token_id for row in rows] == [1, 2, 0]


def test_format_token_table_shows_every_row():
    rows = [TokenProbability(1, 325, " green", 0.976), TokenProbability(2, 290, " and", 0.021)]
    lines = format_token_table(rows).splitlines()
    assert lines[0].split() == ["rank", "token", "id", "token", "probability"]
    assert lines[1].split() == ["1", "325", "'", "green'", "97.6%"]
    assert lines[2].endswith("2.1%")


def test_plot_top_tokens_draws_one_bar_per_row(tiny):
    import matplotlib

    matplotlib.use("Agg")
    from companion.plots import plot_top_tokens

    rows = next_token_probabilities(*tiny, "A list of colors:", top_k=6)[0]
    figure = plot_top_tokens(rows, title="A list of colors:")
    bars = figure.axes[0].patches
    assert [bar.get_width() for bar in bars] == pytest.approx([row.probability for row in rows])
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == [repr(row.token) for row in rows]
