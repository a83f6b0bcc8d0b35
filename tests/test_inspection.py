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
    format_probability,
    format_token_table,
    greedy_generate_by_hand,
    greedy_steps,
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
    for rows, full in zip(tables, distribution, strict=True):
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


@pytest.mark.parametrize(
    "probability, text",
    [(0.976, "97.6%"), (0.021, "2.1%"), (0.99984, "99.98%"), (1.0, "100.0%"), (0.00012345, "0.012%"),
     (0.0000045, "0.00045%"), (0.0, "0%")],
)
def test_format_probability_never_rounds_to_zero_or_one(probability, text):
    assert format_probability(probability) == text


def test_format_token_table_keeps_small_probabilities_visible(tiny):
    rows = next_token_probabilities(*tiny, "A list of colors: red, blue", top_k=5)[0]
    assert rows[1].probability < 0.0005  # the runners-up are tiny for this prompt ...
    for line in format_token_table(rows).splitlines()[1:]:
        assert not line.endswith(" 0.0%") and not line.endswith(" 100.0%")  # ... and still readable


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_greedy_steps_pick_the_tokens_of_generate(request, model_name):
    model, tokenizer = request.getfixturevalue(model_name)
    prompt = "A list of colors: red, blue"
    steps = greedy_steps(model, tokenizer, prompt, steps=4, top_k=3)
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        reference = model.generate(**inputs, max_new_tokens=4, do_sample=False)[0].tolist()
    prompt_length = inputs["input_ids"].shape[1]
    assert [step.picked.token_id for step in steps] == reference[prompt_length:]
    for index, step in enumerate(steps):
        assert step.input_ids == reference[: prompt_length + index]  # what the model read at this step
        assert step.new_tokens == index
        assert step.picked == step.candidates[0] and len(step.candidates) == 3
    expected = torch.softmax(last_logits_unpadded(model, tokenizer, prompt), dim=-1)[0]
    assert steps[0].picked.probability == pytest.approx(expected.max().item(), rel=1e-4)


def test_greedy_steps_checks_steps(tiny):
    with pytest.raises(CompanionError, match="steps must be a positive integer"):
        greedy_steps(*tiny, "I am a cat.", steps=0)


def test_plot_autoregressive_loop_draws_every_token_of_every_step(tiny):
    import matplotlib

    matplotlib.use("Agg")
    from companion.plots import plot_autoregressive_loop

    _, tokenizer = tiny
    steps = greedy_steps(*tiny, "A list of colors: red, blue", steps=3)
    figure = plot_autoregressive_loop(steps, tokenizer)
    axes = figure.axes[0]
    boxes = len(axes.patches)
    # Each row: one box per id read, the model box, the picked-token box.
    assert boxes == sum(len(step.input_ids) + 2 for step in steps)
    texts = [text.get_text() for text in axes.texts]
    assert texts.count("model") == len(steps)
    for step in steps:
        assert any(text.startswith(repr(step.picked.token)) for text in texts)
    again = plot_autoregressive_loop(steps, tokenizer)
    assert again.get_size_inches().tolist() == figure.get_size_inches().tolist()  # same steps, same picture
