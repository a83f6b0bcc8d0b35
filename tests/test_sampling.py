"""companion.sampling against transformers' own logits warpers and generate()'s sampling scores.

`sampling_distribution` (behind notebook 03's table, chart and slider panel) must be exactly what
a real `generate(do_sample=True, ...)` call draws from, transformers' defaults (top_k=50) and the
model's generation config included; the hand-written warpers must equal transformers' classes.
"""

import io

import pytest
import torch
from transformers import (
    LogitsProcessorList,
    MinPLogitsWarper,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

import companion
from companion.errors import CompanionError
from companion.inspection import next_token_logits
from companion.sampling import (
    apply_temperature,
    compare_settings_table,
    count_candidates,
    generate_logits_processors,
    keep_min_p,
    keep_top_k,
    keep_top_p,
    sampling_distribution,
    warp_logits,
)


@pytest.fixture
def logits():
    """Random logits for a batch of 4 over a vocabulary of 300, spread like a real model's."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn(4, 300, generator=generator) * 3


def no_input_ids(logits):
    """The warpers take input_ids too but do not read them."""
    return torch.zeros(logits.shape[0], 1, dtype=torch.long)


@pytest.mark.parametrize("temperature", [0.3, 0.7, 1.0, 1.8])
def test_temperature_equals_transformers(logits, temperature):
    expected = TemperatureLogitsWarper(temperature)(no_input_ids(logits), logits)
    torch.testing.assert_close(apply_temperature(logits, temperature), expected)


@pytest.mark.parametrize("top_k", [1, 3, 50, 299, 300, 1000])
def test_top_k_equals_transformers(logits, top_k):
    expected = TopKLogitsWarper(top_k)(no_input_ids(logits), logits)
    assert torch.equal(keep_top_k(logits, top_k), expected)


def test_top_k_keeps_ties_like_transformers():
    tied = torch.tensor([[3.0, 1.0, 2.0, 2.0, 0.5]])
    expected = TopKLogitsWarper(2)(no_input_ids(tied), tied)
    assert torch.equal(keep_top_k(tied, 2), expected)
    assert count_candidates(torch.softmax(keep_top_k(tied, 2), dim=-1)).tolist() == [3]


@pytest.mark.parametrize("top_p", [0.05, 0.3, 0.5, 0.8, 0.9, 0.95, 0.999])
def test_top_p_equals_transformers(logits, top_p):
    expected = TopPLogitsWarper(top_p)(no_input_ids(logits), logits)
    assert torch.equal(keep_top_p(logits, top_p), expected)


@pytest.mark.parametrize("min_p", [0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0])
def test_min_p_equals_transformers(logits, min_p):
    expected = MinPLogitsWarper(min_p)(no_input_ids(logits), logits)
    assert torch.equal(keep_min_p(logits, min_p), expected)


@pytest.mark.parametrize("min_tokens_to_keep", [1, 3])
@pytest.mark.parametrize(
    ("warper", "keep", "threshold"),
    [(TopPLogitsWarper, keep_top_p, 0.5), (MinPLogitsWarper, keep_min_p, 0.2)],
    ids=["top_p", "min_p"],
)
def test_keeps_at_least_min_tokens_like_transformers(logits, warper, keep, threshold, min_tokens_to_keep):
    """keep_top_p and keep_min_p honour min_tokens_to_keep as transformers' warpers do."""
    sharp = logits * 20  # one token holds almost all probability
    expected = warper(threshold, min_tokens_to_keep=min_tokens_to_keep)(no_input_ids(sharp), sharp)
    ours = keep(sharp, threshold, min_tokens_to_keep=min_tokens_to_keep)
    assert torch.equal(ours, expected)
    assert (torch.isfinite(ours).sum(dim=-1) >= min_tokens_to_keep).all()


def test_min_p_threshold_follows_the_top_token(logits):
    """Each kept token has at least min_p times the top token's probability; each removed one less."""
    probabilities = torch.softmax(logits, dim=-1)
    kept = torch.isfinite(keep_min_p(logits, 0.1))
    threshold = 0.1 * probabilities.max(dim=-1, keepdim=True).values
    assert (probabilities[kept] >= threshold.expand_as(probabilities)[kept]).all()
    assert (probabilities[~kept] < threshold.expand_as(probabilities)[~kept]).all()


@pytest.mark.parametrize(
    "temperature, top_k, top_p, min_p", [(0.7, 20, 0.9, None), (1.5, 5, 0.5, 0.1), (1.0, 100, 0.95, 0.05)]
)
def test_all_in_generate_order(logits, temperature, top_k, top_p, min_p):
    warpers = LogitsProcessorList(
        [TemperatureLogitsWarper(temperature), TopKLogitsWarper(top_k), TopPLogitsWarper(top_p)]
    )
    if min_p is not None:
        warpers.append(MinPLogitsWarper(min_p))
    expected = warpers(no_input_ids(logits), logits)
    ours = warp_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    assert torch.equal(ours, expected)


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_warped_logits_equal_generate_sampling_scores(request, model_name):
    model, tokenizer = request.getfixturevalue(model_name)
    prompts = ["I am a cat.", "A list of colors:"]
    inputs = companion.tokenize_batch(tokenizer, prompts)
    settings = {"temperature": 0.7, "top_k": 20, "top_p": 0.9, "min_p": 0.05}
    with torch.inference_mode():
        output = model.generate(
            **inputs, max_new_tokens=1, do_sample=True, **settings,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            output_scores=True, return_dict_in_generate=True,
        )
    ours = warp_logits(next_token_logits(model, tokenizer, prompts), **settings)
    scores = output.scores[0].float()
    assert torch.equal(torch.isfinite(ours), torch.isfinite(scores))  # the same tokens survive
    kept = torch.isfinite(ours)
    torch.testing.assert_close(ours[kept], scores[kept], atol=1e-4, rtol=1e-4)
    drawn = output.sequences[:, -1]
    assert kept.gather(1, drawn[:, None]).all()  # the sampled token was one of them


PROMPTS = ["I am a cat.", "A list of colors:"]
GENERATE_SETTINGS = [
    {},  # transformers' defaults: top_k=50
    {"top_k": None},  # top-k switched off
    {"top_k": 0},  # the same, written as 0
    {"temperature": 0.7, "top_p": 0.9},  # with the default top_k=50 before top_p
    {"temperature": 1.5, "min_p": 0.1},
    {"top_k": 5},
    {"temperature": 0.7, "top_k": None, "top_p": 0.9},
]


def first_step_distribution(model, tokenizer, prompts, **settings) -> torch.Tensor:
    """What a real generate(do_sample=True) call drew its first token from: softmax of its first scores."""
    inputs = companion.tokenize_batch(tokenizer, prompts)
    with torch.inference_mode():
        output = model.generate(
            **inputs, max_new_tokens=1, do_sample=True, output_scores=True, return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, **settings,
        )
    return torch.softmax(output.scores[0].float(), dim=-1)


def assert_same_distribution(ours: torch.Tensor, expected: torch.Tensor) -> None:
    assert torch.equal(ours > 0, expected > 0), "the same tokens can be drawn"
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("settings", GENERATE_SETTINGS, ids=str)
@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_sampling_distribution_equals_what_generate_draws_from(request, model_name, settings):
    model, tokenizer = request.getfixturevalue(model_name)
    expected = first_step_distribution(model, tokenizer, PROMPTS, **settings)
    assert_same_distribution(sampling_distribution(model, tokenizer, PROMPTS, **settings), expected)
    assert_same_distribution(sampling_distribution(model, tokenizer, PROMPTS[0], **settings), expected[0])


def test_the_default_top_k_is_50_and_none_or_0_switch_it_off(tiny):
    model, tokenizer = tiny
    vocabulary = model.config.vocab_size
    assert count_candidates(sampling_distribution(model, tokenizer, PROMPTS)).tolist() == [50, 50]
    assert count_candidates(sampling_distribution(model, tokenizer, PROMPTS, top_k=None)).tolist() == [vocabulary] * 2
    assert count_candidates(sampling_distribution(model, tokenizer, PROMPTS, top_k=0)).tolist() == [vocabulary] * 2
    assert count_candidates(sampling_distribution(model, tokenizer, PROMPTS[0], top_k=7)) == 7
    torch.testing.assert_close(
        sampling_distribution(model, tokenizer, PROMPTS, top_k=None),
        torch.softmax(next_token_logits(model, tokenizer, PROMPTS), dim=-1),
    )
    assert [type(p).__name__ for p in generate_logits_processors(model)] == ["TopKLogitsWarper"]
    assert generate_logits_processors(model, top_k=None) == []


def test_the_models_generation_config_counts_as_in_generate(tiny):
    """A checkpoint whose generation config sets top_k and a temperature: the helper follows it, as generate() does."""
    model, tokenizer = tiny
    saved = model.generation_config.top_k, model.generation_config.temperature
    model.generation_config.top_k, model.generation_config.temperature = 12, 0.8
    try:
        for settings in ({}, {"top_k": None}, {"temperature": 1.3, "top_k": 30}):
            expected = first_step_distribution(model, tokenizer, PROMPTS, **settings)
            assert_same_distribution(sampling_distribution(model, tokenizer, PROMPTS, **settings), expected)
        assert count_candidates(sampling_distribution(model, tokenizer, PROMPTS[0])) == 12
    finally:
        model.generation_config.top_k, model.generation_config.temperature = saved


def test_temperature_sharpens_and_flattens(logits):
    original = torch.softmax(logits, dim=-1).max(dim=-1).values
    assert (torch.softmax(warp_logits(logits, temperature=0.5), dim=-1).max(dim=-1).values > original).all()
    assert (torch.softmax(warp_logits(logits, temperature=2.0), dim=-1).max(dim=-1).values < original).all()


BAD_SETTINGS = [
    {"temperature": 0}, {"temperature": -1.0}, {"top_p": 0}, {"top_p": 1.5}, {"top_k": -2}, {"min_p": 1.5},
    {"min_p": -0.1},
]


@pytest.mark.parametrize("bad", BAD_SETTINGS)
def test_bad_settings_raise_with_a_message(logits, bad):
    with pytest.raises(CompanionError):
        warp_logits(logits, **bad)


def test_compare_settings_table(tiny):
    model, tokenizer = tiny
    table = compare_settings_table(
        model, tokenizer, "I am a cat.",
        {"no filter": {"top_k": None}, "default": {}, "top_k=3": {"top_k": 3}, "T=0.5": {"temperature": 0.5}},
        top=5,
    )
    lines = table.splitlines()
    assert lines[0].split() == ["token", "no", "filter", "default", "top_k=3", "T=0.5"]
    assert len(lines) == 1 + 5 + 1
    assert lines[-1].split() == ["tokens", "left", str(model.config.vocab_size), "50", "3", "50"]
    assert lines[4].split()[-2] == "removed"  # the 4th most likely token is outside the top 3


def test_plot_sampling_settings_is_deterministic(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from companion.plots import plot_sampling_settings

    model, tokenizer = tiny
    settings = {"original": {"top_k": None}, "top_k=3": {"top_k": 3}}
    pictures = []
    for _ in range(2):
        figure = plot_sampling_settings(model, tokenizer, "I am a cat.", settings, top=6)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        pictures.append(buffer.getvalue())
        plt.close(figure)
    assert pictures[0] == pictures[1]
    figure = plot_sampling_settings(model, tokenizer, "I am a cat.", settings, top=6)
    widths = [bar.get_width() for bar in figure.axes[1].patches]
    assert sum(width > 0 for width in widths) == 3
    plt.close(figure)
