"""companion.scores against the real generate() and compute_transition_scores, on the shipped models."""

import math

import pytest
import torch
from transformers import set_seed

from companion.errors import CompanionError
from companion.generation import end_of_sequence_ids, pad_token_id_or_eos, tokenize_batch
from companion.scores import (
    format_token_probability_table,
    generated_token_mask,
    model_log_probabilities,
    plot_token_probabilities,
    sequence_log_probabilities,
    token_probability_table,
)

BATCH = ["Tom has a", "A list of colors: red, blue"]  # tutorial-tiny ends the first row early


def scored(model, tokenizer, prompts, max_new_tokens=12, **options):
    """generate() with scores and raw logits on a left-padded batch, as notebook 07 calls it."""
    # Deliberately its own generate() call, not companion.exercises.token_scores.scored_generation
    # (the same call): companion.scores is checked against generate() as a learner calls it, not
    # against the exercise checks' helper, and the tests need the batch (its attention mask) too.
    model_inputs = tokenize_batch(tokenizer, prompts)
    outputs = model.generate(
        **model_inputs,
        max_new_tokens=max_new_tokens,
        pad_token_id=pad_token_id_or_eos(tokenizer),
        output_scores=True,
        output_logits=True,
        return_dict_in_generate=True,
        **options,
    )
    return outputs, model_inputs


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_table_probabilities_are_exp_of_transition_scores(request, model_name):
    model, tokenizer = request.getfixturevalue(model_name)
    outputs, model_inputs = scored(model, tokenizer, BATCH, do_sample=False)
    prompt_length = model_inputs["input_ids"].shape[1]
    scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
    tables = token_probability_table(tokenizer, outputs.sequences, scores, prompt_length)
    mask = generated_token_mask(outputs.sequences, prompt_length, end_of_sequence_ids(model, tokenizer))
    assert len(tables) == len(BATCH)
    for row, table in enumerate(tables):
        assert len(table) == int(mask[row].sum())
        for score in table:
            assert score.token_id == int(outputs.sequences[row, prompt_length + score.position])
            assert score.log_probability == pytest.approx(float(scores[row, score.position]))
            assert score.probability == pytest.approx(math.exp(float(scores[row, score.position])))
            assert 0.0 <= score.probability <= 1.0
    totals = sequence_log_probabilities(tables)
    for row in range(len(BATCH)):
        assert totals[row] == pytest.approx(float(scores[row][mask[row]].sum()), abs=1e-5)


def test_padding_after_the_end_token_is_left_out(tiny):
    model, tokenizer = tiny
    outputs, model_inputs = scored(model, tokenizer, BATCH, do_sample=False)
    prompt_length = model_inputs["input_ids"].shape[1]
    scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
    new_ids = outputs.sequences[0, prompt_length:].tolist()
    first_end = new_ids.index(tokenizer.eos_token_id)
    assert first_end < len(new_ids) - 1, "the first row should end early"
    table = token_probability_table(tokenizer, outputs.sequences, scores, prompt_length)[0]
    assert [score.token_id for score in table] == new_ids[: first_end + 1]
    # compute_transition_scores does not mask the padding columns for greedy decoding
    assert float(scores[0, first_end + 1:].abs().sum()) > 0


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_greedy_probabilities_equal_a_forward_pass(request, model_name):
    model, tokenizer = request.getfixturevalue(model_name)
    outputs, model_inputs = scored(model, tokenizer, BATCH, max_new_tokens=8, do_sample=False)
    prompt_length = model_inputs["input_ids"].shape[1]
    scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
    forward = model_log_probabilities(model, outputs.sequences, prompt_length, model_inputs["attention_mask"])
    mask = generated_token_mask(outputs.sequences, prompt_length, end_of_sequence_ids(model, tokenizer))
    assert torch.allclose(forward[mask], scores[mask], atol=1e-3)
    # and the greedy token is the argmax of the forward pass's distribution at its position
    tables = token_probability_table(tokenizer, outputs.sequences, scores, prompt_length)
    assert tables[1][0].probability == pytest.approx(math.exp(float(forward[1, 0])), abs=1e-3)


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_sampled_scores_are_processed_and_logits_are_the_models(request, model_name):
    model, tokenizer = request.getfixturevalue(model_name)
    set_seed(0)
    outputs, model_inputs = scored(model, tokenizer, "I am a cat.", do_sample=True, temperature=0.7, top_k=5)
    prompt_length = model_inputs["input_ids"].shape[1]
    assert all(int(torch.isfinite(step[0]).sum()) == 5 for step in outputs.scores)
    sampling = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
    raw = model.compute_transition_scores(outputs.sequences, outputs.logits, normalize_logits=True)
    forward = model_log_probabilities(model, outputs.sequences, prompt_length, model_inputs["attention_mask"])
    assert torch.allclose(raw, forward, atol=1e-3), "outputs.logits are the model's own scores"
    # the sampling distribution: temperature 0.7, then top-5, by hand from the raw logits
    for step, logits in enumerate(outputs.logits):
        warped = logits[0] / 0.7
        kept = torch.topk(warped, 5).indices
        filtered = torch.full_like(warped, float("-inf"))
        filtered[kept] = warped[kept]
        chosen = outputs.sequences[0, prompt_length + step]
        assert float(torch.log_softmax(filtered, dim=-1)[chosen]) == pytest.approx(float(sampling[0, step]), abs=1e-4)
    assert not torch.allclose(sampling, raw, atol=1e-2)


def test_helpers_validate_their_inputs(tiny):
    model, tokenizer = tiny
    outputs, model_inputs = scored(model, tokenizer, BATCH, max_new_tokens=4, do_sample=False)
    prompt_length = model_inputs["input_ids"].shape[1]
    scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
    with pytest.raises(CompanionError, match="prompt length"):
        token_probability_table(tokenizer, outputs.sequences, scores, prompt_length - 1)
    with pytest.raises(CompanionError, match="outputs.sequences"):
        token_probability_table(tokenizer, outputs.sequences[0], scores, prompt_length)
    with pytest.raises(CompanionError, match="one title per sequence"):
        plot_token_probabilities([[]], titles=["a", "b"])


def test_format_and_plot(tiny):
    model, tokenizer = tiny
    outputs, model_inputs = scored(model, tokenizer, BATCH, do_sample=False)
    prompt_length = model_inputs["input_ids"].shape[1]
    scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
    tables = token_probability_table(tokenizer, outputs.sequences, scores, prompt_length)
    text = format_token_probability_table(tables[1])
    assert len(text.splitlines()) == len(tables[1]) + 1
    assert repr(tables[1][1].token) in text
    figure = plot_token_probabilities(tables, titles=BATCH, tokens_per_line=5)
    assert len(figure.axes) == 2
    # one coloured box per token
    assert [len(axes.patches) for axes in figure.axes] == [len(table) for table in tables]
    import matplotlib.pyplot as plt

    plt.close(figure)
