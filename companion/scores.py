"""How likely was each generated token? Tables, sequence scores and a coloured-text chart.

Taught in notebook 07 (token scores). The notebook first makes the plain calls,

    outputs = model.generate(**inputs, max_new_tokens=..., do_sample=...,
                             output_scores=True, return_dict_in_generate=True)
    log_probs = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)

and these helpers then recap and draw what those calls return. Every helper takes a batch:
`sequences` has shape (b, t + n), where the first t columns are the (left-padded) prompts
and the last n columns are the new tokens, laid out as `generate()` returns them. A row
that ends early with an end-of-sequence token is filled up with padding by `generate()`;
that padding is not part of the text, so the helpers leave it out: `generated_token_mask`
(the one place that finds where a row's text ends, in `companion.generation`; notebook 07
imports it from here) marks it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from companion.errors import ArgumentTypeError, CompanionError
from companion.generation import end_of_sequence_ids, generated_token_mask
from companion.inspection import position_ids_for
from companion.language import Messages, current_language, localized_number
from companion.validation import require_new_token_scores, require_positive_int, require_tokenizer

# The column headers of format_token_probability_table, in the notebook's language.
MESSAGES = Messages(__name__, {
    "position": {"en": "pos", "de": "Pos."},
    "token": {"en": "token", "de": "Token"},
    "token_id": {"en": "id", "de": "ID"},
    "log_probability": {"en": "log-prob", "de": "Log-Wahrsch."},
    "probability": {"en": "probability", "de": "Wahrscheinlichkeit"},
})


@dataclass(frozen=True)
class TokenScore:
    """One generated token and how likely it was when it was chosen."""

    position: int  # 0 = the first new token after the prompt
    token_id: int  # index into the vocabulary
    token: str  # the token decoded on its own, e.g. " green" (leading space included)
    log_probability: float  # natural log of the probability, <= 0
    probability: float  # between 0 and 1


def as_table_batch(table_batch) -> list[list[TokenScore]]:
    """Return `table_batch` as a non-empty list of lists of TokenScore, else raise an error that says what to pass.

    Used by `sequence_log_probabilities` and `plot_token_probabilities` (notebook 07); one
    table (a list of TokenScore) in place of a batch is the usual slip.
    """
    if isinstance(table_batch, (str, bytes)) or not isinstance(table_batch, Sequence):
        raise ArgumentTypeError(
            f"table_batch must be a list of tables from token_probability_table, got {type(table_batch).__name__}."
        )
    if not table_batch:
        raise CompanionError("table_batch is empty: pass token_probability_table(...), one table per sequence.")
    for table in table_batch:
        if isinstance(table, TokenScore):
            raise ArgumentTypeError(
                "table_batch must be a list of tables, got one table (a list of TokenScore): wrap it, [table]."
            )
        if isinstance(table, (str, bytes)) or not isinstance(table, Sequence) or not all(
            isinstance(score, TokenScore) for score in table
        ):
            raise ArgumentTypeError(
                f"Each table must be a list of TokenScore from token_probability_table, got {type(table).__name__}."
            )
    return [list(table) for table in table_batch]


def token_probability_table(
    tokenizer,
    sequences: torch.Tensor,
    transition_scores: torch.Tensor,
    prompt_length: int,
    *,
    end_token_ids: Sequence[int] | None = None,
) -> list[list[TokenScore]]:
    """One row of TokenScore per new token, for every sequence of a batch.

    Args:
        tokenizer: decodes each token id on its own.
        sequences: LongTensor of shape (b, t + n), `outputs.sequences`.
        transition_scores: FloatTensor of shape (b, n): log-probabilities of the chosen tokens,
            `model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)`.
        prompt_length: t, `inputs["input_ids"].shape[1]` (the same for every row: left padding).
        end_token_ids: ids that end a row (default: the tokenizer's EOS id); the padding that
            follows a row's first end token is left out of its list.
    Returns:
        list of b lists of TokenScore, in the order of the new tokens; probability = exp(log-probability).
    Used in notebook 07.
    """
    require_tokenizer(tokenizer)
    require_new_token_scores(sequences, transition_scores, prompt_length)
    end_ids = end_of_sequence_ids(tokenizer=tokenizer, eos_token_id=end_token_ids)  # no model here: the tokenizer's EOS
    mask = generated_token_mask(sequences, prompt_length, end_ids)
    tables = []
    for row in range(sequences.shape[0]):
        table = []
        for position in range(transition_scores.shape[1]):
            if not mask[row, position]:
                break
            token_id = int(sequences[row, prompt_length + position])
            log_probability = float(transition_scores[row, position])
            probability = math.exp(log_probability)
            table.append(TokenScore(position, token_id, tokenizer.decode([token_id]), log_probability, probability))
        tables.append(table)
    return tables


def format_token_probability_table(table: Sequence[TokenScore]) -> str:
    """A plain-text table of one sequence's new tokens: position, token, id, log-prob and probability.

    Tokens are shown with repr() so that leading spaces and newlines stay visible.
    Used in notebook 07.
    """
    if isinstance(table, (str, bytes)) or not isinstance(table, Sequence) or not all(
        isinstance(score, TokenScore) for score in table
    ):
        raise ArgumentTypeError(
            f"table must be one list of TokenScore, got {type(table).__name__}: pass one sequence's table, "
            "e.g. token_probability_table(...)[0]."
        )
    language = current_language()  # numbers as it writes them: -1,981 and 13,8 % in German
    headers = [MESSAGES(key) for key in ("position", "token", "token_id", "log_probability", "probability")]
    # Each column is as wide as its header in the notebook's language, at least as the English.
    position, token, token_id, log_probability, probability = (
        max(width, len(header)) for width, header in zip((3, 14, 6, 8, 11), headers, strict=True)
    )
    lines = [f"{headers[0]:>{position}}  {headers[1]:<{token}}  {headers[2]:>{token_id}}  "
             f"{headers[3]:>{log_probability}}  {headers[4]:>{probability}}"]
    for score in table:
        lines.append(f"{score.position:>{position}}  {score.token!r:<{token}}  {score.token_id:>{token_id}}  "
                     f"{localized_number(f'{score.log_probability:.3f}', language):>{log_probability}}  "
                     f"{localized_number(f'{score.probability:.1%}', language):>{probability}}")
    return "\n".join(lines)


def sequence_log_probabilities(table_batch: Sequence[Sequence[TokenScore]]) -> list[float]:
    """The log-probability of each whole generated text: the sum of its tokens' log-probabilities.

    Args:
        table_batch: the lists of `token_probability_table` (padding after an end token is
            already left out).
    Returns:
        list of b floats (<= 0); exp() of one is the probability of that exact continuation.
    Used in notebook 07 to compare candidate outputs.
    """
    totals = []
    for table in as_table_batch(table_batch):
        total = 0.0
        for score in table:
            total += score.log_probability
        totals.append(total)
    return totals


def model_log_probabilities(
    model, sequences: torch.Tensor, prompt_length: int, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The model's own log-probability of every new token, from one forward pass (no processors).

    Scores any text, generated or not: for greedy decoding with a model whose generation
    config adds no logits processors, it equals compute_transition_scores on
    `outputs.scores`; when sampling, it equals compute_transition_scores on `outputs.logits`.

    Args:
        model: a causal LM.
        sequences: LongTensor of shape (b, t + n): left-padded prompts followed by n new tokens.
        prompt_length: t, the number of prompt columns.
        attention_mask: LongTensor of shape (b, t) (the prompt's mask) or (b, t + n); None = no padding.
            The new tokens count as real tokens, as `generate()` treats them.
    Returns:
        FloatTensor of shape (b, n) on the CPU: log P(new token i | everything before it).
    Used by the exercise checks of notebook 07 and its tests.
    """
    if prompt_length < 1 or prompt_length > sequences.shape[1]:
        raise CompanionError(f"prompt_length must be between 1 and {sequences.shape[1]}, got {prompt_length!r}.")
    sequences = sequences.to(model.device)
    if attention_mask is None:
        attention_mask = torch.ones_like(sequences)
    attention_mask = attention_mask.to(model.device)
    if attention_mask.shape[1] == prompt_length:
        new_columns = sequences.shape[1] - prompt_length
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(sequences.shape[0], new_columns)], dim=-1)
    with torch.inference_mode():
        logits = model(
            input_ids=sequences, attention_mask=attention_mask, position_ids=position_ids_for(attention_mask)
        ).logits.float()  # (b, t + n, vocab)
    # The scores at position i predict the token at position i + 1.
    log_probabilities = torch.log_softmax(logits[:, prompt_length - 1:-1], dim=-1)  # (b, n, vocab)
    chosen = sequences[:, prompt_length:, None]  # (b, n, 1)
    return log_probabilities.gather(-1, chosen).squeeze(-1).cpu()


def probability_color(probability: float):
    """The colour of a token with this probability: red (unlikely) through yellow to green (likely)."""
    import matplotlib

    return matplotlib.colormaps["RdYlGn"](0.1 + 0.8 * probability)  # avoid the darkest ends: text stays readable


def plot_token_probabilities(
    table_batch: Sequence[Sequence[TokenScore]], titles: Sequence[str] | None = None, *, tokens_per_line: int = 8
):
    """The generated text, one coloured box per token: green = the model was sure, red = it was not.

    Args:
        table_batch: lists of TokenScore, e.g. from `token_probability_table` (one panel each).
        titles: one title per panel (e.g. the prompt), or None.
        tokens_per_line: how many token boxes fit on one line of a panel.
    Returns:
        matplotlib Figure with one Axes per sequence. Each box shows the token (repr, so that
        spaces stay visible) and its probability. Same input, same picture: nbval-safe.
    Used in notebook 07.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    table_batch = as_table_batch(table_batch)
    if isinstance(titles, str):
        raise ArgumentTypeError(f"titles must be a list with one title per sequence, got the string {titles!r}: "
                                "wrap it, titles=[title].")
    if titles is not None and len(titles) != len(table_batch):
        raise CompanionError(f"Give one title per sequence: {len(table_batch)} sequences, {len(titles)} titles.")
    require_positive_int("tokens_per_line", tokens_per_line, "It is how many token boxes fit on one line, e.g. 8.")
    lines_per_panel = [max(1, -(-len(table) // tokens_per_line)) for table in table_batch]
    figure, all_axes = plt.subplots(
        len(table_batch), 1, figsize=(1.2 * tokens_per_line, sum(0.75 * lines + 0.6 for lines in lines_per_panel)),
        squeeze=False, gridspec_kw={"height_ratios": lines_per_panel},
    )
    for panel, (axes, table) in enumerate(zip(all_axes[:, 0], table_batch, strict=True)):
        lines = lines_per_panel[panel]
        for score in table:
            column = score.position % tokens_per_line
            line = score.position // tokens_per_line
            axes.add_patch(Rectangle((column + 0.03, line + 0.05), 0.94, 0.9,
                                     facecolor=probability_color(score.probability), edgecolor="white"))
            label = repr(score.token)
            if len(label) > 12:
                label = label[:11] + "…"
            axes.text(column + 0.5, line + 0.38, label, ha="center", va="center", fontsize=9)
            percent = localized_number(f"{score.probability:.0%}", current_language())
            axes.text(column + 0.5, line + 0.72, percent, ha="center", va="center", fontsize=8)
        axes.set_xlim(0, tokens_per_line)
        axes.set_ylim(lines, 0)  # first line on top
        axes.axis("off")
        if titles is not None:
            axes.set_title(titles[panel], fontsize=10, loc="left")
    figure.tight_layout()
    return figure
