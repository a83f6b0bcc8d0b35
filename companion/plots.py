"""Bar charts of next-token probabilities (notebooks 01 and 03).

The charts are deterministic: fixed size, fixed order (most likely token on top), no
timestamps, so re-running a notebook draws the same picture. Their own labels come from
MESSAGES, in the notebook's language, and so do their numbers ("84,8 %" in German). They
return the matplotlib Figure; in Jupyter it is shown once when the cell ends (assign it to
a name, e.g. `figure = plot_top_tokens(...)`, so that its text form is not printed as well).
matplotlib is imported only when a chart is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from companion.inspection import GreedyStep, TokenProbability, format_probability
from companion.language import Messages, current_language, localized_number
from companion.sampling import MESSAGES as SAMPLING_MESSAGES
from companion.sampling import count_candidates, distribution_from_processors, generate_logits_processors, prompt_logits
from companion.validation import (
    require_items,
    require_positive_int,
    require_prompt,
    require_settings_table,
    require_tokenizer,
)

MESSAGES = Messages(__name__, {
    "next_token_axis": {
        "en": "probability of being the next token",
        "de": "Wahrscheinlichkeit, der nächste Token zu sein",
    },
    "probability_axis": {"en": "probability", "de": "Wahrscheinlichkeit"},
    "step": {"en": "step {number}", "de": "Schritt {number}"},
    "model": {"en": "model", "de": "Modell"},
    "append": {"en": "append,\nask again", "de": "anhängen,\nneu fragen"},
    "reads_header": {"en": "token ids the model reads (grey: prompt, blue: picked earlier)",
                     "de": "Token-IDs, die das Modell liest (grau: Prompt, blau: vorher gewählt)"},
    "candidates_header": {"en": "most likely next tokens", "de": "Top-Kandidaten"},
    "pick_header": {"en": "greedy pick", "de": "Greedy-Wahl"},
})


def localize_tick_labels(axes) -> None:
    """Write the x axis's numbers as the notebook's language does ("0,5" in German)."""
    from matplotlib.ticker import ScalarFormatter

    class LocalizedFormatter(ScalarFormatter):
        def __call__(self, value, position=None):
            return localized_number(super().__call__(value, position), current_language())

    axes.xaxis.set_major_formatter(LocalizedFormatter())


def percent(probability: float, decimals: int) -> str:
    """A probability in percent as the notebook's language writes it: "84.8%" or "84,8 %"."""
    return localized_number(f"{probability:.{decimals}%}", current_language())


BAR_COLOR = "#4C72B0"
REMOVED_COLOR = "#BBBBBB"


def token_label(token: str) -> str:
    """How a token is written on an axis: repr() keeps leading spaces and newlines visible."""
    return repr(token)


def plot_top_tokens(rows: Sequence[TokenProbability], title: str = ""):
    """A horizontal bar chart of next-token candidates, most likely on top.

    Args:
        rows: one prompt's list from `companion.inspection.next_token_probabilities`.
        title: shown above the chart (e.g. the prompt).
    Returns:
        matplotlib Figure with one Axes; bar i has length rows[i].probability.
    Replaces the guide's "forward pass" animation in notebook 01.
    """
    import matplotlib.pyplot as plt

    rows = require_items("rows", rows, TokenProbability, "next_token_probabilities(model, tokenizer, prompt)[0]")
    figure, axes = plt.subplots(figsize=(6.4, 0.35 * len(rows) + 1.2))
    labels = [token_label(row.token) for row in rows]
    probabilities = [row.probability for row in rows]
    positions = list(range(len(rows)))
    axes.barh(positions, probabilities, color=BAR_COLOR)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()  # most likely token on top
    for position, probability in zip(positions, probabilities, strict=True):
        axes.text(probability, position, f" {percent(probability, 1)}", va="center", fontsize=9)
    axes.set_xlim(0, min(1.0, max(probabilities) * 1.25 + 0.02))
    axes.set_xlabel(MESSAGES("next_token_axis"))
    localize_tick_labels(axes)
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return figure


def plot_sampling_settings(
    model,
    tokenizer,
    prompt: str,
    settings: Mapping[str, Mapping],
    top: int = 8,
):
    """Side-by-side bar charts of the next-token distribution under different sampling settings.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompt: one string; the charts are about the token after it.
        settings: panel title -> sampling keyword arguments of generate(); each panel shows what
            `generate(do_sample=True, **settings)` draws from, defaults included
            (`companion.sampling.sampling_distribution`).
        top: how many tokens to draw, the most likely ones of the model's own distribution.
    Returns:
        matplotlib Figure with one Axes per setting; tokens a processor removed are grey.
    Used in notebook 03.
    """
    require_tokenizer(tokenizer)
    require_prompt(prompt)
    settings = require_settings_table(settings)
    require_positive_int("top", top, "It is how many tokens to draw, e.g. 8.")
    input_ids, logits = prompt_logits(model, tokenizer, prompt)
    distributions = {
        title: distribution_from_processors(generate_logits_processors(model, **options), input_ids, logits)[0]
        for title, options in settings.items()
    }
    return plot_distributions(tokenizer, logits[0], distributions, top)


def plot_distributions(tokenizer, logits: torch.Tensor, distributions: Mapping[str, torch.Tensor], top: int):
    """Draw `plot_sampling_settings`'s charts from distributions already computed.

    Args:
        tokenizer: decodes the token ids for the labels.
        logits: FloatTensor of shape (vocab,), the model's own scores; its `top` most likely
            tokens are the rows.
        distributions: panel title -> FloatTensor of shape (vocab,), probabilities summing to 1.
        top: how many tokens to draw.
    Returns:
        matplotlib Figure with one Axes per distribution. Also used by the slider panel.
    """
    import matplotlib.pyplot as plt

    token_ids = torch.topk(torch.softmax(logits.float(), dim=-1), min(top, logits.shape[0])).indices.tolist()
    labels = [token_label(tokenizer.decode([token_id])) for token_id in token_ids]
    positions = list(range(len(token_ids)))
    figure, all_axes = plt.subplots(
        1, len(distributions), figsize=(2.8 * len(distributions), 0.35 * len(token_ids) + 1.4), sharey=True,
        squeeze=False,
    )
    for axes, (title, distribution) in zip(all_axes[0], distributions.items(), strict=True):
        probabilities = [distribution[token_id].item() for token_id in token_ids]
        colors = [BAR_COLOR if probability > 0 else REMOVED_COLOR for probability in probabilities]
        axes.barh(positions, probabilities, color=colors)
        for position, probability in zip(positions, probabilities, strict=True):
            label = percent(probability, 0) if probability > 0 else SAMPLING_MESSAGES("removed")
            axes.text(probability, position, f" {label}", va="center", fontsize=8)
        axes.set_xlim(0, 1.25)  # room for the labels right of the bars
        axes.set_xticks([0, 0.5, 1.0])
        axes.set_title(f"{title}\n({count_candidates(distribution)} {SAMPLING_MESSAGES('tokens_left')})", fontsize=10)
        axes.set_xlabel(MESSAGES("probability_axis"))
        localize_tick_labels(axes)
    all_axes[0][0].set_yticks(positions, labels)
    all_axes[0][0].invert_yaxis()
    figure.tight_layout()
    return figure


PROMPT_TOKEN_COLOR = "#DDDDDD"
NEW_TOKEN_COLOR = "#A8C6E8"


def loop_token_label(tokenizer, token_id: int) -> str:
    """One token as it appears in a box of the loop diagram: its text, newlines written as \\n."""
    return tokenizer.decode([token_id]).replace("\n", "\\n")


def plot_autoregressive_loop(steps, tokenizer):
    """A diagram of greedy generation: one row per step, tokens -> model -> distribution -> pick.

    Args:
        steps: list of `companion.inspection.GreedyStep`, from `greedy_steps(model, tokenizer, prompt, n)`.
        tokenizer: decodes the token ids for the boxes.
    Returns:
        matplotlib Figure with one Axes (axis hidden). Each row shows the ids the model read
        (prompt tokens grey, tokens picked in earlier steps blue), the top candidates with their
        probabilities, and the picked token, which is appended in the row below.
    Drawn in notebook 01. Everything is placed on a grid of character widths, so the same steps
    always give the same picture.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    steps = require_items("steps", steps, GreedyStep, "greedy_steps(model, tokenizer, prompt, steps=4)")
    require_tokenizer(tokenizer)
    character = 0.75  # one character of the monospace font, in data units
    gap = 0.6  # space between two token boxes
    row_height = 3.2

    def box_width(label: str) -> float:
        return (len(label) + 1) * character

    def candidate_text(row: TokenProbability) -> str:
        return f"{row.token!r} {localized_number(format_probability(row.probability), current_language())}"

    widest_context = 0.0
    for step in steps:
        width = sum(box_width(loop_token_label(tokenizer, token_id)) + gap for token_id in step.input_ids)
        widest_context = max(widest_context, width)
    # As wide as the German text ("99,96 %" is one character longer), so that both editions
    # draw a figure of the same size.
    candidate_width = max(
        len(f"{row.token!r} {localized_number(format_probability(row.probability), 'de')}")
        for step in steps for row in step.candidates
    )
    model_x = widest_context + 3.0
    distribution_x = model_x + 9.0
    pick_x = distribution_x + candidate_width + 4.0
    total_width = pick_x + 14.0
    rows_height = row_height * len(steps)

    step_margin = 7.0  # room left of the rows for "step 4" and the German "Schritt 4"
    figure, axes = plt.subplots(figsize=(0.1 * (total_width + step_margin), 1.0 * len(steps) + 0.6))
    axes.set_xlim(-step_margin, total_width)
    axes.set_ylim(-rows_height + 0.6, 2.4)
    axes.axis("off")
    text_style = {"family": "monospace", "fontsize": 8, "va": "center"}
    arrow_style = {"arrowstyle": "->", "color": "#444444", "lw": 1.0}

    for index, step in enumerate(steps):
        y = -index * row_height
        axes.text(-step_margin, y, MESSAGES("step", number=index + 1), ha="left", **{**text_style, "fontsize": 7})
        x = 0.0
        prompt_length = len(step.input_ids) - step.new_tokens
        for position, token_id in enumerate(step.input_ids):
            label = loop_token_label(tokenizer, token_id)
            color = PROMPT_TOKEN_COLOR if position < prompt_length else NEW_TOKEN_COLOR
            axes.add_patch(FancyBboxPatch((x, y - 0.7), box_width(label), 1.4, boxstyle="round,pad=0.05",
                                          facecolor=color, edgecolor="#888888", lw=0.6))
            axes.text(x + box_width(label) / 2, y, label, ha="center", **text_style)
            x += box_width(label) + gap
        axes.annotate("", xy=(model_x, y), xytext=(x + 0.3, y), arrowprops=arrow_style)
        axes.add_patch(FancyBboxPatch((model_x, y - 0.8), 6.0, 1.6, boxstyle="round,pad=0.1",
                                      facecolor="#FFF2CC", edgecolor="#B08800", lw=0.8))
        axes.text(model_x + 3.0, y, MESSAGES("model"), ha="center", **text_style)
        axes.annotate("", xy=(distribution_x - 0.4, y), xytext=(model_x + 6.3, y), arrowprops=arrow_style)
        line_height = 2.4 / max(len(step.candidates), 1)
        for rank, row in enumerate(step.candidates):
            line_y = y + 1.2 - line_height * (rank + 0.5)
            weight = "bold" if rank == 0 else "normal"
            axes.text(distribution_x, line_y, candidate_text(row),
                      ha="left", fontweight=weight, **{**text_style, "fontsize": 7})
        axes.annotate("", xy=(pick_x, y), xytext=(distribution_x + candidate_width + 0.8, y), arrowprops=arrow_style)
        label = loop_token_label(tokenizer, step.picked.token_id)
        axes.add_patch(FancyBboxPatch((pick_x, y - 0.7), box_width(label), 1.4, boxstyle="round,pad=0.05",
                                      facecolor=NEW_TOKEN_COLOR, edgecolor="#2F5D8A", lw=1.0))
        axes.text(pick_x + box_width(label) / 2, y, label, ha="center", **text_style)
        if index + 1 < len(steps):
            axes.text(pick_x + box_width(label) + 1.0, y, MESSAGES("append"), ha="left",
                      **{**text_style, "fontsize": 7})
    header_style = {**text_style, "fontsize": 7, "color": "#444444"}
    axes.text(0, 1.9, MESSAGES("reads_header"), ha="left", **header_style)
    axes.text(distribution_x, 1.9, MESSAGES("candidates_header"), ha="left", **header_style)
    axes.text(pick_x, 1.9, MESSAGES("pick_header"), ha="left", **header_style)
    figure.tight_layout()
    return figure
