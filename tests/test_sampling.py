"""companion.sampling against transformers' own logits warpers and generate()'s sampling scores."""

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


def test_sampling_distribution_sums_to_one_and_counts(logits):
    distribution = sampling_distribution(logits, top_k=7)
    torch.testing.assert_close(distribution.sum(dim=-1), torch.ones(4))
    assert count_candidates(distribution).tolist() == [7, 7, 7, 7]
    assert count_candidates(distribution[0]) == 7
    unchanged = sampling_distribution(logits)
    torch.testing.assert_close(unchanged, torch.softmax(logits, dim=-1))


def test_temperature_sharpens_and_flattens(logits):
    original = torch.softmax(logits, dim=-1).max(dim=-1).values
    assert (sampling_distribution(logits, temperature=0.5).max(dim=-1).values > original).all()
    assert (sampling_distribution(logits, temperature=2.0).max(dim=-1).values < original).all()


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
    logits = next_token_logits(model, tokenizer, "I am a cat.")[0]
    table = compare_settings_table(
        logits, tokenizer, {"original": {}, "top_k=3": {"top_k": 3}, "T=0.5": {"temperature": 0.5}}, top=5
    )
    lines = table.splitlines()
    assert lines[0].split() == ["token", "original", "top_k=3", "T=0.5"]
    assert len(lines) == 1 + 5 + 1
    assert lines[-1].split() == ["tokens", "left", str(model.config.vocab_size), "3", str(model.config.vocab_size)]
    assert lines[4].split()[-2] == "removed"  # the 4th most likely token is outside the top 3


def test_plot_sampling_settings_is_deterministic(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from companion.plots import plot_sampling_settings

    model, tokenizer = tiny
    logits = next_token_logits(model, tokenizer, "I am a cat.")[0]
    settings = {"original": {}, "top_k=3": {"top_k": 3}}
    pictures = []
    for _ in range(2):
        figure = plot_sampling_settings(logits, tokenizer, settings, top=6)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        pictures.append(buffer.getvalue())
        plt.close(figure)
    assert pictures[0] == pictures[1]
    figure = plot_sampling_settings(logits, tokenizer, settings, top=6)
    widths = [bar.get_width() for bar in figure.axes[1].patches]
    assert sum(width > 0 for width in widths) == 3
    plt.close(figure)
