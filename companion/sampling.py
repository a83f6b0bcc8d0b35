"""Temperature, top-k, top-p and min-p applied by hand to a next-token distribution, to see what they do.

Taught in notebook 03 (wrong generation mode). With `do_sample=True`, `generate()` reshapes
the logits of every step before it draws a token: first temperature, then top-k, then
top-p, then min-p (the order in which transformers 5.24's `GenerationMixin._get_logits_processor`
adds its `TemperatureLogitsWarper`, `TopKLogitsWarper`, `TopPLogitsWarper` and
`MinPLogitsWarper`). These functions do the same on a tensor you can print and plot; the
tests check them against transformers' own warpers.

Shapes: `logits` is a FloatTensor of shape (vocab,) or (b, vocab); every function keeps it.
A token that a filter removes gets the logit -inf, i.e. probability 0 after softmax.
"""

from __future__ import annotations

from typing import Mapping

import torch

from companion.errors import CompanionError


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide the logits by `temperature`: < 1 sharpens the distribution, > 1 flattens it.

    Temperature 1 leaves it unchanged. Temperature 0 is not allowed: the limit is greedy
    decoding, so use `do_sample=False` instead.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature <= 0:
        raise CompanionError(
            f"temperature must be a number > 0, got {temperature!r}. "
            "For 'always the most likely token' use greedy decoding (do_sample=False)."
        )
    return logits / temperature


def keep_top_k(logits: torch.Tensor, top_k: int | None) -> torch.Tensor:
    """Keep the `top_k` highest logits per row (and any tied with the k-th); set the rest to -inf.

    `top_k=None` or 0 keeps everything, as in `generate()`.
    """
    if top_k is None or top_k == 0:
        return logits
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise CompanionError(f"top_k must be a positive integer (or None to keep all tokens), got {top_k!r}.")
    top_k = min(top_k, logits.shape[-1])
    kth_highest = torch.topk(logits, top_k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_highest, float("-inf"))


def keep_top_p(logits: torch.Tensor, top_p: float | None, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Nucleus filtering: keep the most likely tokens until their probabilities add up to `top_p`.

    A token is kept if the tokens more likely than it sum to less than `top_p`, so the kept
    set is the smallest one whose total reaches `top_p`. At least `min_tokens_to_keep`
    tokens always survive. `top_p=None` or 1.0 keeps everything.
    """
    if top_p is None or top_p == 1.0:
        return logits
    if isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1:
        raise CompanionError(f"top_p must be a number in (0, 1], got {top_p!r}.")
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
    if min_p is None:
        return logits
    if isinstance(min_p, bool) or not isinstance(min_p, (int, float)) or not 0 <= min_p <= 1:
        raise CompanionError(f"min_p must be a number in [0, 1] (typical: 0.05 to 0.2), got {min_p!r}.")
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


def sampling_distribution(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
) -> torch.Tensor:
    """The distribution `generate(do_sample=True, ...)` draws the next token from.

    Args:
        logits: FloatTensor of shape (vocab,) or (b, vocab), e.g. from
            `companion.inspection.next_token_logits`.
        temperature, top_k, top_p, min_p: the sampling settings (see `warp_logits`).
    Returns:
        FloatTensor of the same shape with probabilities; each row sums to 1.
    Taught in notebook 03.
    """
    warped = warp_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    return torch.softmax(warped, dim=-1)


def count_candidates(probabilities: torch.Tensor) -> torch.Tensor | int:
    """How many tokens can still be drawn (probability > 0): an int for one row, else a (b,) tensor."""
    counts = (probabilities > 0).sum(dim=-1)
    return int(counts) if counts.dim() == 0 else counts


def percent_or_removed(probability: float, width: int) -> str:
    """A table cell: the probability in %, or "removed" for a token a filter took out."""
    text = f"{probability:.1%}" if probability > 0 else "removed"
    return f"{text:>{width}}"


def compare_settings_table(
    logits: torch.Tensor,
    tokenizer,
    settings: Mapping[str, Mapping],
    top: int = 8,
) -> str:
    """A plain-text table: the `top` most likely tokens and their probability under each setting.

    Args:
        logits: FloatTensor of shape (vocab,) for one prompt.
        tokenizer: decodes token ids for the first column.
        settings: column title -> keyword arguments of `sampling_distribution`,
            e.g. {"original": {}, "T=0.5": {"temperature": 0.5}, "min_p=0.1": {"min_p": 0.1}}.
        top: how many tokens (rows) to show, taken from the unchanged distribution.
    Returns:
        the table as a string, probabilities in % ("removed" where a filter set a token
        to 0), plus a last row "tokens left" with how
        many tokens of the whole vocabulary each setting can still draw.
    Used in notebook 03.
    """
    if logits.dim() != 1:
        raise CompanionError(f"Pass the logits of one prompt, shape (vocab,), got {tuple(logits.shape)}.")
    columns = {title: sampling_distribution(logits, **options) for title, options in settings.items()}
    token_ids = torch.topk(torch.softmax(logits, dim=-1), min(top, logits.shape[0])).indices.tolist()
    width = max(9, *(len(title) for title in settings))
    lines = [f"{'token':<14}" + "".join(f"{title:>{width + 2}}" for title in settings)]
    for token_id in token_ids:
        cells = "".join(percent_or_removed(columns[title][token_id].item(), width + 2) for title in settings)
        lines.append(f"{tokenizer.decode([token_id])!r:<14}" + cells)
    counts = "".join(f"{count_candidates(columns[title]):>{width + 2}}" for title in settings)
    lines.append(f"{'tokens left':<14}" + counts)
    return "\n".join(lines)

