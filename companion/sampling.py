"""The next-token distribution that `generate(do_sample=True, ...)` draws from, and the maths behind it.

Taught in notebook 03 (wrong generation mode). With `do_sample=True`, `generate()` reshapes
the logits of every step before it draws a token. `sampling_distribution` (and the table, chart
and slider panel built on it) applies the very logits processors that `generate()` builds for
the model and the settings, defaults included: transformers 5.24 fills `top_k=50` in whenever
neither the call nor the model's generation config sets it (`_get_default_generation_params`
in `generation/configuration_utils.py`), so a plain `generate(do_sample=True)` can draw only 50
tokens; `top_k=None` or `top_k=0` in the call switches that off.

`apply_temperature`, `keep_top_k`, `keep_top_p` and `keep_min_p` write the four warpers out by
hand, in the order in which transformers 5.24's `GenerationMixin._get_logits_processor` adds
its `TemperatureLogitsWarper`, `TopKLogitsWarper`, `TopPLogitsWarper` and `MinPLogitsWarper`,
so the maths can be read; the tests check them against those warpers. The allowed values of
the four settings (`SAMPLING_SETTINGS`) and their checks are in `companion.validation`.

Shapes: `logits` is a FloatTensor of shape (vocab,) or (b, vocab); every function keeps it.
A token that a filter removes gets the logit -inf, i.e. probability 0 after softmax.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from companion.generation import tokenize_batch
from companion.inspection import forward_last_position
from companion.language import Messages, current_language, localized_number
from companion.validation import (
    require_model,
    require_positive_int,
    require_prompt,
    require_sampling_setting,
    require_sampling_settings,
    require_settings_table,
    require_tokenizer,
)

# The labels of compare_settings_table (and of companion.plots' sampling charts), in the
# notebook's language.
MESSAGES = Messages(__name__, {
    "token": {"en": "token", "de": "Token"},
    "removed": {"en": "removed", "de": "entfernt"},
    "tokens_left": {"en": "tokens left", "de": "Tokens übrig"},
})


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide the logits by `temperature`: < 1 sharpens the distribution, > 1 flattens it.

    Temperature 1 leaves it unchanged. Temperature 0 is not allowed: the limit is greedy
    decoding, so use `do_sample=False` instead.
    """
    require_sampling_setting("temperature", temperature)
    return logits / temperature


def keep_top_k(logits: torch.Tensor, top_k: int | None) -> torch.Tensor:
    """Keep the `top_k` highest logits per row (and any tied with the k-th); set the rest to -inf.

    `top_k=None` or 0 keeps everything, as in `generate()`.
    """
    require_sampling_setting("top_k", top_k)
    if top_k is None or top_k == 0:
        return logits
    top_k = min(top_k, logits.shape[-1])
    kth_highest = torch.topk(logits, top_k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_highest, float("-inf"))


def keep_top_p(logits: torch.Tensor, top_p: float | None, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Nucleus filtering: keep the most likely tokens until their probabilities add up to `top_p`.

    A token is kept if the tokens more likely than it sum to less than `top_p`, so the kept
    set is the smallest one whose total reaches `top_p`. At least `min_tokens_to_keep`
    tokens always survive. `top_p=None` or 1.0 keeps everything.
    """
    require_sampling_setting("top_p", top_p)
    if top_p is None or top_p == 1.0:
        return logits
    probabilities = torch.softmax(logits, dim=-1)
    sorted_probabilities, sorted_ids = torch.sort(probabilities, dim=-1, descending=True)
    # How much probability the strictly more likely tokens already cover.
    probability_before = torch.cumsum(sorted_probabilities, dim=-1) - sorted_probabilities
    keep_sorted = probability_before < top_p
    keep_sorted[..., :min_tokens_to_keep] = True
    keep = torch.zeros_like(keep_sorted).scatter(-1, sorted_ids, keep_sorted)
    return logits.masked_fill(~keep, float("-inf"))


def keep_min_p(logits: torch.Tensor, min_p: float | None, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Min-p filtering: keep the tokens at least `min_p` times as likely as the most likely token.

    The threshold moves with the model's confidence: when the top token has 60 %, min_p=0.1
    keeps tokens from 6 % up; when it has 10 %, it keeps tokens from 1 % up. At least
    `min_tokens_to_keep` tokens (the most likely ones) always survive. `min_p=None` keeps
    everything, as in `generate()`. (Nguyen et al. 2024, arXiv:2407.01082.)
    """
    require_sampling_setting("min_p", min_p)
    if min_p is None:
        return logits
    probabilities = torch.softmax(logits, dim=-1)
    top_probability = probabilities.max(dim=-1, keepdim=True).values
    keep = probabilities >= min_p * top_probability
    # The most likely tokens stay even if they fall below the threshold (only possible when
    # min_tokens_to_keep > 1): their positions are set to True.
    most_likely_ids = torch.topk(probabilities, min(min_tokens_to_keep, logits.shape[-1]), dim=-1).indices
    keep = keep.scatter(-1, most_likely_ids, True)
    return logits.masked_fill(~keep, float("-inf"))


def warp_logits(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
) -> torch.Tensor:
    """Apply temperature, then top-k, then top-p, then min-p, in the order `generate()` uses when sampling.

    Args:
        logits: FloatTensor of shape (vocab,) or (b, vocab).
        temperature, top_k, top_p, min_p: as in `model.generate(do_sample=True, ...)`; the
            defaults change nothing (note that `generate()` itself defaults to top_k=50).
    Returns:
        FloatTensor of the same shape; removed tokens hold -inf.
    """
    warped = apply_temperature(logits, temperature)
    warped = keep_top_k(warped, top_k)
    warped = keep_top_p(warped, top_p)
    return keep_min_p(warped, min_p)


def generate_logits_processors(model, **settings):
    """The logits processors `model.generate(do_sample=True, **settings)` applies at every step.

    Args:
        model: as returned by `companion.load_model`; its `generation_config` counts, as in generate().
        settings: keyword arguments of generate(), e.g. temperature=0.7, top_p=0.9; a name left
            out takes the model's generation config, then transformers' default (top_k=50);
            top_k=None (or 0) switches top-k off.
    Returns:
        transformers.LogitsProcessorList, built by the two methods generate() itself calls in
        transformers 5.24: `_prepare_generation_config` (call, then the model's generation
        config, then `GenerationConfig._get_default_generation_params`) and
        `_get_logits_processor`. They are private, so tests/test_sampling.py holds this list to
        the scores a real generate() call returns.
    Taught in notebook 03.
    """
    generation_config, _ = model._prepare_generation_config(None, do_sample=True, **settings)
    model._prepare_special_tokens(generation_config, kwargs_has_attention_mask=True, device=model.device)
    return model._get_logits_processor(generation_config=generation_config, device=model.device)


def generate_sampling_defaults(model) -> dict:
    """The temperature, top_k, top_p and min_p that `model.generate(do_sample=True)` uses when the call sets none.

    They come from the model's generation config, then transformers' defaults (transformers 5.24:
    temperature 1.0, top_k 50, top_p 1.0, no min_p), filled in by `_prepare_generation_config`.
    Returns:
        dict with the four names; a setting that is switched off reads as the value that changes
        nothing (top_k 0, top_p 1.0, min_p 0.0), as on the slider panel.
    """
    generation_config, _ = model._prepare_generation_config(None, do_sample=True)
    return {
        "temperature": generation_config.temperature if generation_config.temperature is not None else 1.0,
        "top_k": generation_config.top_k or 0,
        "top_p": generation_config.top_p if generation_config.top_p is not None else 1.0,
        "min_p": generation_config.min_p if generation_config.min_p is not None else 0.0,
    }


def distribution_from_processors(processors, input_ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Apply generate()'s processors to one step's logits and return the probabilities it draws from.

    Args:
        processors: a LogitsProcessorList from `generate_logits_processors`.
        input_ids: LongTensor of shape (b, t), the sequences so far (processors such as a
            repetition penalty read them).
        logits: FloatTensor of shape (b, vocab), the model's scores for the next token.
    Returns:
        FloatTensor of shape (b, vocab) on the CPU; each row sums to 1, removed tokens hold 0.
    """
    scores = processors(input_ids.to(logits.device), logits.clone())
    return torch.softmax(scores.float(), dim=-1).cpu()


def prompt_logits(model, tokenizer, prompts) -> tuple[torch.Tensor, torch.Tensor]:
    """The prompts' token ids (b, t), left-padded, and the model's logits for the next token (b, vocab)."""
    require_model(model)
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device)
    logits = forward_last_position(model, model_inputs["input_ids"], model_inputs["attention_mask"])
    return model_inputs["input_ids"], logits


def sampling_distribution(model, tokenizer, prompts, **settings) -> torch.Tensor:
    """The distribution `model.generate(**inputs, do_sample=True, **settings)` draws the first new token from.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: one string, or a list of b strings.
        settings: sampling keyword arguments of generate() (temperature, top_k, top_p, min_p);
            what you leave out is filled in as generate() fills it (see `generate_logits_processors`).
    Returns:
        FloatTensor of shape (vocab,) for one string, (b, vocab) for a list; rows sum to 1 and
        hold 0 for every token generate() can no longer draw.
    Taught in notebook 03.
    """
    require_sampling_settings(settings)
    input_ids, logits = prompt_logits(model, tokenizer, prompts)
    probabilities = distribution_from_processors(generate_logits_processors(model, **settings), input_ids, logits)
    return probabilities[0] if isinstance(prompts, str) else probabilities


def count_candidates(probabilities: torch.Tensor) -> torch.Tensor | int:
    """How many tokens can still be drawn (probability > 0): an int for one row, else a (b,) tensor."""
    counts = (probabilities > 0).sum(dim=-1)
    return int(counts) if counts.dim() == 0 else counts


def percent_or_removed(probability: float, width: int) -> str:
    """A table cell: the probability in % ("4.1%", German "4,1 %"), or "removed" where a filter took it out."""
    text = localized_number(f"{probability:.1%}", current_language()) if probability > 0 else MESSAGES("removed")
    return f"{text:>{width}}"


def compare_settings_table(
    model,
    tokenizer,
    prompt: str,
    settings: Mapping[str, Mapping],
    top: int = 8,
) -> str:
    """A plain-text table: the `top` most likely next tokens and their probability under each setting.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompt: one string; the table is about the token after it.
        settings: column title -> sampling keyword arguments of generate(), e.g.
            {"no filter": {"top_k": None}, "default": {}, "T=0.5": {"temperature": 0.5}}.
            Each column is what `generate(do_sample=True, **settings)` draws from, defaults
            included (`sampling_distribution`).
        top: how many tokens (rows) to show, the most likely ones of the model's own distribution.
    Returns:
        the table as a string, probabilities in % ("removed" where a processor set a token
        to 0), plus a last row "tokens left" with how many tokens of the whole vocabulary
        each setting can still draw.
    Used in notebook 03.
    """
    require_tokenizer(tokenizer)
    require_prompt(prompt)
    settings = require_settings_table(settings)
    require_positive_int("top", top, "It is how many tokens (rows) to show, e.g. 8.")
    input_ids, logits = prompt_logits(model, tokenizer, prompt)
    columns = {
        title: distribution_from_processors(generate_logits_processors(model, **options), input_ids, logits)[0]
        for title, options in settings.items()
    }
    token_ids = torch.topk(torch.softmax(logits[0].float(), dim=-1), min(top, logits.shape[-1])).indices.tolist()
    width = max(9, *(len(title) for title in settings))
    lines = [f"{MESSAGES('token'):<14}" + "".join(f"{title:>{width + 2}}" for title in settings)]
    for token_id in token_ids:
        cells = "".join(percent_or_removed(columns[title][token_id].item(), width + 2) for title in settings)
        lines.append(f"{tokenizer.decode([token_id])!r:<14}" + cells)
    counts = "".join(f"{count_candidates(columns[title]):>{width + 2}}" for title in settings)
    lines.append(f"{MESSAGES('tokens_left'):<14}" + counts)
    return "\n".join(lines)
