"""Bar charts of next-token probabilities (notebooks 01 and 03).

The charts are deterministic: fixed size, fixed order (most likely token on top), no
timestamps, so re-running a notebook draws the same picture. They return the matplotlib
Figure; in Jupyter it is shown once when the cell ends (assign it to a name, e.g.
`figure = plot_top_tokens(...)`, so that its text form is not printed as well).
matplotlib is imported only when a chart is drawn.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from companion.inspection import TokenProbability
from companion.sampling import count_candidates, sampling_distribution

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

    figure, axes = plt.subplots(figsize=(6.4, 0.35 * len(rows) + 1.2))
    labels = [token_label(row.token) for row in rows]
    probabilities = [row.probability for row in rows]
    positions = list(range(len(rows)))
    axes.barh(positions, probabilities, color=BAR_COLOR)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()  # most likely token on top
    for position, probability in zip(positions, probabilities):
        axes.text(probability, position, f" {probability:.1%}", va="center", fontsize=9)
    axes.set_xlim(0, min(1.0, max(probabilities) * 1.25 + 0.02))
    axes.set_xlabel("probability of being the next token")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    return figure


def plot_sampling_settings(
    logits: torch.Tensor,
    tokenizer,
    settings: Mapping[str, Mapping],
    top: int = 8,
):
    """Side-by-side bar charts of one distribution under different sampling settings.

    Args:
        logits: FloatTensor of shape (vocab,) for one prompt.
        tokenizer: decodes the token ids for the labels.
        settings: panel title -> keyword arguments of `companion.sampling.sampling_distribution`.
        top: how many tokens to draw, the most likely ones of the unchanged distribution.
    Returns:
        matplotlib Figure with one Axes per setting; tokens a filter removed are grey.
    Used in notebook 03.
    """
    import matplotlib.pyplot as plt

    token_ids = torch.topk(torch.softmax(logits, dim=-1), min(top, logits.shape[0])).indices.tolist()
    labels = [token_label(tokenizer.decode([token_id])) for token_id in token_ids]
    positions = list(range(len(token_ids)))
    figure, all_axes = plt.subplots(
        1, len(settings), figsize=(2.8 * len(settings), 0.35 * len(token_ids) + 1.4), sharey=True, squeeze=False
    )
    for axes, (title, options) in zip(all_axes[0], settings.items()):
        distribution = sampling_distribution(logits, **options)
        probabilities = [distribution[token_id].item() for token_id in token_ids]
        colors = [BAR_COLOR if probability > 0 else REMOVED_COLOR for probability in probabilities]
        axes.barh(positions, probabilities, color=colors)
        for position, probability in zip(positions, probabilities):
            axes.text(probability, position, f" {probability:.0%}" if probability > 0 else " removed",
                      va="center", fontsize=8)
        axes.set_xlim(0, 1.25)  # room for the labels right of the bars
        axes.set_xticks([0, 0.5, 1.0])
        axes.set_title(f"{title}\n({count_candidates(distribution)} tokens left)", fontsize=10)
        axes.set_xlabel("probability")
    all_axes[0][0].set_yticks(positions, labels)
    all_axes[0][0].invert_yaxis()
    figure.tight_layout()
    return figure
