"""Looking inside generation: the next-token distribution and the autoregressive loop by hand.

Taught in notebook 01 (generating text): a causal language model returns logits of shape
(batch, length, vocab); the last position holds the scores for the *next* token, and
`generate()` is a loop that picks one token from them, appends it and asks again.
Notebook 03 reuses `next_token_logits` to show what sampling settings do to the distribution.

Every function takes one prompt or a batch. Batches are padded on the left (see
`companion.tokenize_batch`), so the last column is a real token in every row, and the
attention mask and matching position ids are passed to the model, as `generate()` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from companion.errors import CompanionError
from companion.generation import end_of_sequence_ids, pad_token_id_or_eos, tokenize_batch
from companion.language import Messages, current_language, localized_number
from companion.validation import (
    as_prompt_list,
    require_fits_context,
    require_left_padded,
    require_max_new_tokens,
    require_model,
    require_positive_int,
    require_tokenizer,
)

# The column headers of format_token_table, in the notebook's language.
MESSAGES = Messages(__name__, {
    "rank": {"en": "rank", "de": "Rang"},
    "token_id": {"en": "token id", "de": "Token-ID"},
    "token": {"en": "token", "de": "Token"},
    "probability": {"en": "probability", "de": "Wahrscheinlichkeit"},
})


@dataclass(frozen=True)
class TokenProbability:
    """One row of a next-token table: a candidate token and how likely the model finds it."""

    rank: int  # 1 = most likely
    token_id: int  # index into the vocabulary (the last axis of the logits)
    token: str  # the token decoded on its own, e.g. " green" (leading space included)
    probability: float  # between 0 and 1


def position_ids_for(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position of each token counted from the row's first real token, as `generate()` computes it.

    Args:
        attention_mask: LongTensor of shape (b, t); 1 = real token, 0 = left padding.
    Returns:
        LongTensor of shape (b, t): 0, 1, 2, ... from the first real token; 0 on padding.
    Without it, a left-padded row would start counting at its padding.
    """
    position_ids = attention_mask.long().cumsum(dim=-1) - 1
    return position_ids.masked_fill(attention_mask == 0, 0)


def forward_last_position(
    model, input_ids: torch.Tensor, attention_mask: torch.Tensor, *, allow_right_padding: bool = False
) -> torch.Tensor:
    """One forward pass over a left-padded batch; return the logits at the last position.

    Args:
        input_ids, attention_mask: LongTensors of shape (b, t), padded on the left.
        allow_right_padding: skip the left-padding check (notebook 04 looks at what a
            right-padded batch predicts, on purpose).
    Returns:
        FloatTensor of shape (b, vocab): the scores for the token that comes next.
    """
    if not allow_right_padding:
        require_left_padded(attention_mask)
    require_fits_context(model, input_ids.shape[1])
    with torch.inference_mode():
        outputs = model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids_for(attention_mask),
            use_cache=False,
        )
    # outputs.logits has shape (b, t, vocab): one score vector per position.
    return outputs.logits[:, -1, :].float()


def next_token_logits(model, tokenizer, prompts: str | Sequence[str]) -> torch.Tensor:
    """The model's raw scores (logits) for the token after each prompt.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: one string or a list of b strings.
    Returns:
        FloatTensor of shape (b, vocab) on the CPU; row i belongs to prompts[i].
    Used in notebooks 01 and 03.
    """
    require_model(model)
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device)
    logits = forward_last_position(model, model_inputs["input_ids"], model_inputs["attention_mask"])
    return logits.cpu()


def next_token_distribution(model, tokenizer, prompts: str | Sequence[str]) -> torch.Tensor:
    """The probability of every vocabulary token being the next one, for each prompt.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: one string or a list of b strings.
    Returns:
        FloatTensor of shape (b, vocab); each row sums to 1 (softmax of the last logits).
    Taught in notebook 01.
    """
    return torch.softmax(next_token_logits(model, tokenizer, prompts), dim=-1)


def top_tokens(probabilities: torch.Tensor, tokenizer, top_k: int = 10) -> list[TokenProbability]:
    """The `top_k` most likely tokens of one distribution, most likely first.

    Args:
        probabilities: FloatTensor of shape (vocab,), e.g. one row of `next_token_distribution`.
        tokenizer: decodes the token ids to text.
        top_k: how many rows to return (fewer if the vocabulary is smaller).
    Returns:
        list of TokenProbability, sorted by probability (ties: lower token id first).
    """
    if probabilities.dim() != 1:
        raise CompanionError(
            f"top_tokens takes one distribution of shape (vocab,), got shape {tuple(probabilities.shape)}; "
            "pass one row, e.g. probabilities[0]."
        )
    require_positive_int("top_k", top_k, "It is how many candidate tokens to list, e.g. 10.")
    top_k = min(top_k, probabilities.shape[0])
    values, token_ids = torch.topk(probabilities, top_k)
    rows = []
    for rank, (probability, token_id) in enumerate(zip(values.tolist(), token_ids.tolist(), strict=True), start=1):
        rows.append(TokenProbability(rank, token_id, tokenizer.decode([token_id]), probability))
    return rows


def next_token_probabilities(
    model, tokenizer, prompts: str | Sequence[str], top_k: int = 10
) -> list[list[TokenProbability]]:
    """The `top_k` most likely next tokens after each prompt, with their probabilities.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: one string or a list of b strings (padded on the left internally).
        top_k: how many candidate tokens to list per prompt.
    Returns:
        list of b lists of TokenProbability, most likely first; one list per prompt.
    Taught in notebook 01 (the table and bar chart of the next token).
    """
    require_positive_int("top_k", top_k, "It is how many candidate tokens to list, e.g. 10.")
    distribution = next_token_distribution(model, tokenizer, prompts)
    return [top_tokens(row, tokenizer, top_k) for row in distribution]


def format_probability(probability: float) -> str:
    """A probability in percent, with as many decimals as it takes not to read as 0% or 100%.

    Args:
        probability: a float between 0 and 1.
    Returns:
        e.g. "97.6%", "99.98%" (not "100.0%" while it is below 1), "0.012%" (two significant
        digits for anything below 0.1%), "0%" only for exactly zero.
    Used by `format_token_table` (notebook 01): rows of "0.0%" would hide how likely the
    runners-up still are.
    """
    percent = probability * 100
    if percent == 0:
        return "0%"
    if percent >= 0.1:
        decimals = 1
        # 99.98% rounds to "100.0"; add decimals until the text shows that it is below 100.
        while percent < 100 and f"{percent:.{decimals}f}" == f"{100:.{decimals}f}" and decimals < 6:
            decimals += 1
        return f"{percent:.{decimals}f}%"
    # Two significant digits: 0.0123 -> "0.012", 0.000456 -> "0.00046".
    decimals = 1 - math.floor(math.log10(percent))
    if decimals > 8:
        return f"{percent:.1e}%"
    return f"{percent:.{decimals}f}%"


def format_token_table(rows: Sequence[TokenProbability]) -> str:
    """A plain-text table of next-token candidates (rank, id, token, probability in %).

    Tokens are shown with repr() so that leading spaces and newlines stay visible; small
    probabilities keep two significant digits (see `format_probability`).
    """
    rank, token_id, token, probability = (MESSAGES(key) for key in ("rank", "token_id", "token", "probability"))
    # Each column is as wide as its header in the notebook's language, at least as the English.
    widths = max(4, len(rank)), max(8, len(token_id)), max(14, len(token)), max(11, len(probability))
    lines = [f"{rank:>{widths[0]}}  {token_id:>{widths[1]}}  {token:<{widths[2]}}  {probability:>{widths[3]}}"]
    for row in rows:
        lines.append(f"{row.rank:>{widths[0]}}  {row.token_id:>{widths[1]}}  {row.token!r:<{widths[2]}}  "
                     f"{localized_number(format_probability(row.probability), current_language()):>{widths[3]}}")
    return "\n".join(lines)


@dataclass(frozen=True)
class GreedyStep:
    """One turn of the autoregressive loop, as drawn by `companion.plots.plot_autoregressive_loop`."""

    input_ids: list[int]  # what the model read at this step: the prompt plus the tokens picked so far
    new_tokens: int  # how many of input_ids (at the end) were picked in earlier steps
    candidates: list[TokenProbability]  # the most likely next tokens, most likely first
    picked: TokenProbability  # the token greedy decoding appends: candidates[0]


def greedy_steps(model, tokenizer, prompt: str, steps: int, top_k: int = 3) -> list[GreedyStep]:
    """Run `steps` turns of greedy decoding on one prompt and record what happens in each.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompt: one string (no batch: this is for looking at, not for speed).
        steps: how many tokens to append (a positive int); no early stop at EOS.
        top_k: how many candidates to keep per step.
    Returns:
        list of `steps` GreedyStep; step i read the prompt's ids plus i picked tokens.
    The picked tokens are those of `model.generate(**inputs, max_new_tokens=steps,
    do_sample=False)` until an EOS token (tested). Used in notebook 01 for the loop diagram.
    """
    require_model(model)
    require_tokenizer(tokenizer)
    prompt_list = as_prompt_list(prompt)
    if len(prompt_list) != 1:
        raise CompanionError(
            f"greedy_steps follows one prompt, got a list of {len(prompt_list)}: pass one string, e.g. prompts[0]."
        )
    require_positive_int("steps", steps, "It is how many tokens to append, e.g. 4.")
    require_positive_int("top_k", top_k, "It is how many candidates to show per step, e.g. 3.")
    input_ids = tokenizer(prompt_list[0], return_tensors="pt")["input_ids"].to(model.device)  # (1, t)
    require_fits_context(model, input_ids.shape[1], steps, name="steps")
    records = []
    for step in range(steps):
        logits = forward_last_position(model, input_ids, torch.ones_like(input_ids))  # (1, vocab)
        candidates = top_tokens(torch.softmax(logits[0], dim=-1).cpu(), tokenizer, top_k)
        records.append(GreedyStep(input_ids[0].tolist(), step, candidates, candidates[0]))
        next_id = torch.tensor([[candidates[0].token_id]], device=input_ids.device)
        input_ids = torch.cat([input_ids, next_id], dim=-1)  # append the pick and ask again
    return records


def greedy_generate_by_hand(
    model, tokenizer, prompts: str | Sequence[str], *, max_new_tokens: int | None = None
) -> torch.Tensor:
    """Greedy decoding written as a plain loop: forward pass, pick the argmax, append, repeat.

    Gives the same ids as `model.generate(**inputs, max_new_tokens=..., do_sample=False)`
    for a model whose generation config adds no logits processors (both course models):
    a row that has produced an EOS token gets padding afterwards, and the loop stops
    early once every row has finished. It recomputes the whole sequence at every step
    (no key/value cache), which is slower than `generate()` but easy to follow.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: one string or a list of b strings (padded on the left internally).
        max_new_tokens: required; the most tokens to add to each prompt.
    Returns:
        LongTensor of shape (b, t + n) on the CPU, n <= max_new_tokens: the left-padded
        prompts followed by the new tokens, laid out like `generate()`'s output.
    Taught in notebook 01; tested token for token against `generate()`.
    """
    require_model(model)
    require_max_new_tokens(max_new_tokens)
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device)
    require_fits_context(model, model_inputs["input_ids"].shape[1], max_new_tokens)
    input_ids = model_inputs["input_ids"]
    attention_mask = model_inputs["attention_mask"]
    stop_ids = torch.tensor(end_of_sequence_ids(model, tokenizer), dtype=torch.long, device=input_ids.device)
    pad_token_id = pad_token_id_or_eos(tokenizer)
    finished = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    for _ in range(max_new_tokens):
        logits = forward_last_position(model, input_ids, attention_mask)  # (b, vocab)
        next_ids = logits.argmax(dim=-1)  # (b,): the most likely token of each row
        if pad_token_id is not None:
            # Rows that already ended keep receiving padding, as in generate().
            next_ids = torch.where(finished, torch.full_like(next_ids, pad_token_id), next_ids)
        input_ids = torch.cat([input_ids, next_ids[:, None]], dim=-1)
        attention_mask = torch.cat([attention_mask, torch.ones_like(next_ids)[:, None]], dim=-1)
        finished = finished | torch.isin(next_ids, stop_ids)
        if finished.all():
            break
    return input_ids.cpu()
