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

from companion.errors import ArgumentTypeError, CompanionError
from companion.language import Messages

# The labels of compare_settings_table (and of companion.plots' sampling charts), in the
# notebook's language.
MESSAGES = Messages(__name__, {
    "token": {"en": "token", "de": "Token"},
    "removed": {"en": "removed", "de": "entfernt"},
    "tokens_left": {"en": "tokens left", "de": "Tokens übrig"},
})


# The sampling settings `generate(do_sample=True, ...)` reads, with their allowed values and
# what to pass instead; transformers 5.24's warpers (logits_process.py) accept the same ranges.
SAMPLING_SETTINGS = {
    "temperature": ("a number > 0", "Typical: 0.7 to 1.0. For 'always the most likely token' use greedy "
                    "decoding instead: do_sample=False, without a temperature."),
    "top_k": ("a whole number >= 1", "Typical: 50; None (or 0) keeps every token."),
    "top_p": ("a number in (0, 1]", "Typical: 0.9 to 0.95; None (or 1.0) keeps every token."),
    "min_p": ("a number in [0, 1]", "Typical: 0.05 to 0.2; None keeps every token."),
}


def require_sampling_setting(name: str, value):
    """Return `value` if it is allowed for the sampling setting `name`, else raise a message with the fix.

    Args:
        name: "temperature", "top_k", "top_p" or "min_p".
        value: what was passed; None means "not set" (allowed for all but temperature).
    Raises:
        ArgumentTypeError for a wrong type (a string, a bool), CompanionError for a number
        out of range: temperature <= 0, top_k < 0, top_p outside (0, 1], min_p outside [0, 1].
    The one check for every sampling setting: used by `warp_logits`, `sampling_distribution`,
    `compare_settings_table` (notebook 03) and by `companion.generate_ids` /
    `companion.generate_text` (every notebook that samples), before generate() would raise
    from inside transformers (or, with do_sample=False, warn and ignore the value).
    """
    rule, fix = SAMPLING_SETTINGS[name]
    if value is None and name != "temperature":
        return value
    if name == "top_k":
        number_type_ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        number_type_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number_type_ok:
        raise ArgumentTypeError(f"{name} must be {rule}, got {type(value).__name__} {value!r}. {fix}")
    in_range = {
        "temperature": value > 0,
        "top_k": value >= 0,
        "top_p": 0 < value <= 1,
        "min_p": 0 <= value <= 1,
    }[name]
    if not in_range:
        raise CompanionError(f"{name} must be {rule}, got {value!r}. {fix}")
    return value


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


def require_one_logits_row(logits) -> torch.Tensor:
    """Return `logits` if it is one prompt's FloatTensor of shape (vocab,), else raise an error that says what to pass.

    Used by `compare_settings_table` and `companion.plots.plot_sampling_settings` (notebook 03).
    """
    if not isinstance(logits, torch.Tensor):
        raise ArgumentTypeError(
            f"logits must be a tensor of shape (vocab,), got {type(logits).__name__}: pass one row of "
            "next_token_logits(model, tokenizer, prompt), e.g. [0]."
        )
    if logits.dim() != 1 or logits.shape[0] == 0:
        raise CompanionError(
            f"Pass the logits of one prompt, shape (vocab,), got {tuple(logits.shape)}: take one row, e.g. logits[0]."
        )
    return logits


def require_settings_table(settings) -> dict[str, dict]:
    """Return `settings` if it maps titles to keyword arguments of `sampling_distribution`, else raise with the fix.

    Each value's names must be sampling settings and each value in range (`require_sampling_setting`).
    Used by `compare_settings_table` and `companion.plots.plot_sampling_settings` (notebook 03).
    """
    example = '{"original": {}, "T=0.5": {"temperature": 0.5}}'
    if not isinstance(settings, Mapping):
        raise ArgumentTypeError(f"settings must be a dict of title -> settings, got {type(settings).__name__}: e.g. {example}.")
    if not settings:
        raise CompanionError(f"settings is empty: give at least one column, e.g. {example}.")
    for title, options in settings.items():
        if not isinstance(options, Mapping):
            raise ArgumentTypeError(
                f"settings[{title!r}] must be a dict of sampling settings, got {type(options).__name__}: e.g. {example}."
            )
        for name, value in options.items():
            if name not in SAMPLING_SETTINGS:
                raise CompanionError(
                    f"settings[{title!r}] has {name!r}, which is not a sampling setting: use "
                    f"{', '.join(SAMPLING_SETTINGS)}."
                )
            require_sampling_setting(name, value)
    return {str(title): dict(options) for title, options in settings.items()}


def count_candidates(probabilities: torch.Tensor) -> torch.Tensor | int:
    """How many tokens can still be drawn (probability > 0): an int for one row, else a (b,) tensor."""
    counts = (probabilities > 0).sum(dim=-1)
    return int(counts) if counts.dim() == 0 else counts


def percent_or_removed(probability: float, width: int) -> str:
    """A table cell: the probability in %, or "removed" (German "entfernt") for a token a filter took out."""
    text = f"{probability:.1%}" if probability > 0 else MESSAGES("removed")
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
    from companion.generation import require_positive_int, require_tokenizer  # generation imports this module

    require_one_logits_row(logits)
    require_tokenizer(tokenizer)
    settings = require_settings_table(settings)
    require_positive_int("top", top, "It is how many tokens (rows) to show, e.g. 8.")
    columns = {title: sampling_distribution(logits, **options) for title, options in settings.items()}
    token_ids = torch.topk(torch.softmax(logits, dim=-1), min(top, logits.shape[0])).indices.tolist()
    width = max(9, *(len(title) for title in settings))
    lines = [f"{MESSAGES('token'):<14}" + "".join(f"{title:>{width + 2}}" for title in settings)]
    for token_id in token_ids:
        cells = "".join(percent_or_removed(columns[title][token_id].item(), width + 2) for title in settings)
        lines.append(f"{tokenizer.decode([token_id])!r:<14}" + cells)
    counts = "".join(f"{count_candidates(columns[title]):>{width + 2}}" for title in settings)
    lines.append(f"{MESSAGES('tokens_left'):<14}" + counts)
    return "\n".join(lines)

