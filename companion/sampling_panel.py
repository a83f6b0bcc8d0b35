"""Sliders for temperature, top-k, top-p and min-p that redraw the next-token chart as they move (notebook 03).

`sampling_panel(model, tokenizer, prompt)` returns an ipywidgets panel: four sliders and a
prompt box above a chart of the next-token distribution, the model's own ("original") beside
the one that `generate(do_sample=True, **settings)` draws from with the sliders' settings. It
adds no maths and no chart of its own: the distribution comes from the logits processors
that generate() builds (`companion.sampling.generate_logits_processors`), and the chart from
`companion.plots.plot_distributions`, as for the table and the chart that notebook 03 shows
just before the panel. This module only wires them to widgets. The sliders start where a plain
`generate(do_sample=True)` call stands for this model (`generate_sampling_defaults`: top_k=50
unless the model's generation config says otherwise).

Moving a slider needs a running kernel (JupyterLab, Jupyter Notebook, VS Code, Colab). Where
there is none, the panel still shows its chart: its display carries the chart for the settings
it was built with as a PNG beside the widget view, and a viewer that cannot draw the widget
(GitHub, the course website, an executed notebook opened without its kernel) shows the PNG.
That display is the same on every run: the widget view's model id is numbered in order
(`sampling-panel-1`, ...) instead of random, so a headless run commits the same output every time
and in both editions.
"""

from __future__ import annotations

import itertools

import torch

from companion.dependencies import require
from companion.errors import ArgumentTypeError, CompanionError
from companion.language import Messages
from companion.plots import plot_distributions
from companion.sampling import (
    distribution_from_processors,
    generate_logits_processors,
    generate_sampling_defaults,
    prompt_logits,
)
from companion.validation import (
    SAMPLING_SETTINGS,
    require_model,
    require_positive_int,
    require_sampling_setting,
    require_tokenizer,
)

MESSAGES = Messages(__name__, {
    "purpose": {"en": "for the sampling sliders of notebook 03", "de": "für die Sampling-Regler in Notebook 03"},
})

widgets = require("ipywidgets", MESSAGES("purpose"))

# name -> (slider kind, min, max, step). Every value on a slider is allowed by
# `require_sampling_setting`; the ends that change nothing are top_k=0 (as top_k=None in generate()),
# top_p=1.0 and min_p=0.0.
SLIDERS = {
    "temperature": (widgets.FloatSlider, 0.05, 2.0, 0.05),
    "top_k": (widgets.IntSlider, 0, 100, 1),  # generate()'s default, 50, in the middle
    "top_p": (widgets.FloatSlider, 0.05, 1.0, 0.05),
    "min_p": (widgets.FloatSlider, 0.0, 1.0, 0.01),
}
assert list(SLIDERS) == list(SAMPLING_SETTINGS), "one slider per sampling setting, in the order generate() applies them"

# Model ids of the panels made in this Python process, numbered in order (see the module docstring).
# Comm ids only need to be unique within one kernel, which the counter ensures.
_panel_numbers = itertools.count(1)


def settings_title(settings: dict) -> str:
    """The chart's title for a set of sampling settings: the ones that change something, two per line.

    E.g. {"temperature": 0.7, "top_k": 0, "top_p": 0.9, "min_p": 0.0} -> "T=0.7, top_p=0.9";
    settings that change nothing give "T=1 (unchanged)".
    """
    parts = []
    if settings["temperature"] != 1.0:
        parts.append(f"T={settings['temperature']:g}")
    if settings["top_k"] != 0:
        parts.append(f"top_k={settings['top_k']}")
    if settings["top_p"] != 1.0:
        parts.append(f"top_p={settings['top_p']:g}")
    if settings["min_p"] != 0.0:
        parts.append(f"min_p={settings['min_p']:g}")
    if not parts:
        return "T=1 (unchanged)"
    return "\n".join(", ".join(parts[start:start + 2]) for start in range(0, len(parts), 2))


def chart_png(figure) -> str:
    """The figure as a base64 PNG, exactly as Jupyter's inline backend shows a figure; the figure is closed.

    Closing it keeps the inline backend from showing the figure a second time when the cell ends.
    """
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure

    try:
        return print_figure(figure, "png", bbox_inches="tight", base64=True)
    finally:
        plt.close(figure)


class SamplingPanel(widgets.VBox):
    """Four sliders and a prompt box above the next-token chart they control; made by `sampling_panel`.

    Attributes:
        controls: name -> widget, for "temperature", "top_k", "top_p", "min_p" (sliders) and
            "prompt" (a Text box). Setting a control's `.value` redraws the chart, as moving it does.
        chart: the ipywidgets Output that holds the chart.
        logits: FloatTensor of shape (vocab,): the model's scores for the token after the prompt.
        probabilities: FloatTensor of shape (vocab,), summing to 1: the distribution of the last
            chart drawn, what `generate(do_sample=True, **panel.settings)` draws from
            (`sampling_distribution(model, tokenizer, panel.prompt, **panel.settings)`); 0 where a
            processor removed a token.
        png: the last chart drawn, a base64 PNG.
    """

    def __init__(self, model, tokenizer, prompt: str, *, temperature, top_k, top_p, min_p, top: int):
        controls = {}
        for name, (slider, low, high, step) in SLIDERS.items():
            controls[name] = slider(
                value=low, min=low, max=high, step=step, description=name, continuous_update=True,
                style={"description_width": "7.5em"},
                **({"readout_format": ".2f"} if slider is widgets.FloatSlider else {}),
            )
        controls["prompt"] = widgets.Text(
            value="", description="prompt", continuous_update=False,  # a model call: only on Enter or leaving the box
            style={"description_width": "7.5em"}, layout=widgets.Layout(width="32em"),
        )
        chart = widgets.Output()
        super().__init__(
            children=[
                widgets.HBox([controls["temperature"], controls["top_k"]]),
                widgets.HBox([controls["top_p"], controls["min_p"]]),
                controls["prompt"],
                chart,
            ],
            model_id=f"sampling-panel-{next(_panel_numbers)}",
        )
        self.model, self.tokenizer, self.top = model, tokenizer, top
        self.controls, self.chart = controls, chart
        self.input_ids = self.logits = self.probabilities = self.png = None
        self._logits_prompt = None  # the prompt that self.logits belongs to
        self._redrawing_paused = False
        self.update(prompt=prompt, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
        for control in controls.values():
            control.observe(self._control_moved, names="value")

    @property
    def settings(self) -> dict:
        """The sliders' values: sampling keyword arguments of generate() (and of `sampling_distribution`)."""
        return {name: self.controls[name].value for name in SLIDERS}

    @property
    def prompt(self) -> str:
        """The text in the prompt box."""
        return self.controls["prompt"].value

    def update(self, **changes) -> torch.Tensor:
        """Set controls as moving them would, redraw once, and return the new distribution.

        Args:
            changes: any of prompt (str), temperature, top_k, top_p, min_p (values on the sliders),
                e.g. `panel.update(temperature=0.5, top_k=3)`.
        Returns:
            FloatTensor of shape (vocab,): `self.probabilities`.
        Raises:
            CompanionError (before anything changes) for an unknown name, a value the sampling
            setting does not allow or that lies off its slider, or a prompt the model cannot read.
        """
        for name, value in changes.items():
            if name not in self.controls:
                raise CompanionError(f"The panel has no control {name!r}: use {', '.join(self.controls)}.")
            if name == "prompt":
                if not isinstance(value, str):
                    raise ArgumentTypeError(f"prompt must be a string, got {type(value).__name__}: e.g. 'I am a cat.'.")
                continue
            require_sampling_setting(name, value)
            _, low, high, _ = SLIDERS[name]
            if not low <= value <= high:
                raise CompanionError(f"{name}={value!r} is off the panel's slider, which goes from {low} to {high}.")
        if "prompt" in changes:
            self._read_prompt(changes["prompt"])  # raises for a prompt the model cannot read
        self._redrawing_paused = True  # one redraw for all changes, not one per control
        try:
            for name, value in changes.items():
                self.controls[name].value = value
        finally:
            self._redrawing_paused = False
        self.redraw()
        return self.probabilities

    def redraw(self) -> None:
        """Draw the chart for the current prompt and settings into the panel's Output."""
        logits = self._read_prompt(self.prompt)
        settings = self.settings
        processors = generate_logits_processors(self.model, **settings)
        probabilities = distribution_from_processors(processors, self.input_ids, logits[None])[0]
        original = torch.softmax(logits.float(), dim=-1).cpu()
        figure = plot_distributions(
            self.tokenizer, logits, {"original": original, settings_title(settings): probabilities}, self.top
        )
        self.probabilities, self.png = probabilities, chart_png(figure)
        # Set as widget state, not captured with `with self.chart:`: the same on every frontend,
        # headless ones included, and nothing leaks into the cell's own output.
        self.chart.outputs = (
            {"output_type": "display_data", "data": {"image/png": self.png, "text/plain": repr(self)}, "metadata": {}},
        )

    def _read_prompt(self, prompt: str) -> torch.Tensor:
        """The logits after `prompt` (and its token ids), from the model only when the prompt changed."""
        if prompt != self._logits_prompt:
            input_ids, logits = prompt_logits(self.model, self.tokenizer, prompt)
            self.input_ids, self.logits = input_ids, logits[0].cpu()
            self._logits_prompt = prompt
        return self.logits

    def _control_moved(self, change) -> None:
        """Observer of every control: redraw; a prompt the model cannot read shows its message instead."""
        if self._redrawing_paused:
            return
        try:
            self.redraw()
        except CompanionError as error:
            self.chart.outputs = ({"output_type": "stream", "name": "stderr", "text": f"{error}\n"},)

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.settings.items())
        return f"SamplingPanel(prompt={self.prompt!r}, {settings})"

    def _repr_mimebundle_(self, **kwargs):
        """The widget view, and the chart as a PNG for viewers without a kernel; text/plain is the repr."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        bundle["image/png"] = self.png
        return bundle


def sampling_panel(
    model,
    tokenizer,
    prompt: str,
    *,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    top: int = 12,
) -> SamplingPanel:
    """A panel of sliders (temperature, top-k, top-p, min-p) and a prompt box that redraw the next-token chart.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompt: one string; the chart shows the distribution of the token after it.
        temperature, top_k, top_p, min_p: where the sliders start, as in `generate(do_sample=True, ...)`;
            one left at None starts where a plain `generate(do_sample=True)` stands for this model
            (`generate_sampling_defaults`: top_k 50 in transformers 5.24, unless the model's
            generation config says otherwise). top_k=0, top_p=1.0 and min_p=0.0 keep every token.
            Slider ranges: temperature 0.05 to 2, top_k 0 to 100, top_p 0.05 to 1, min_p 0 to 1.
        top: how many tokens the chart shows, the most likely ones of the model's own distribution.
    Returns:
        SamplingPanel, an ipywidgets VBox; display it (last line of a cell). Its `update(...)` sets
        controls from code, and `probabilities` holds the distribution of the chart on show.
    Taught in notebook 03, after the table and chart of the same four settings.
    """
    require_model(model)
    require_tokenizer(tokenizer)
    require_positive_int("top", top, "It is how many tokens the chart shows, e.g. 12.")
    start = generate_sampling_defaults(model)
    chosen = {"temperature": temperature, "top_k": top_k, "top_p": top_p, "min_p": min_p}
    start.update({name: value for name, value in chosen.items() if value is not None})
    return SamplingPanel(model, tokenizer, prompt, **start, top=top)
