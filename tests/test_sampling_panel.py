"""companion.sampling_panel: the sliders of notebook 03 redraw the chart as the sampling maths says.

The callbacks are driven from code, as a frontend would drive them: `panel.update(...)` and a
control's `.value = ...` (which fires the same observer as moving the slider). What the chart
shows is `panel.probabilities`; each test checks it against the maths, written out here in
plain loops, and against transformers' own logits warpers.
"""

import matplotlib.pyplot as plt
import pytest
import torch
from transformers import (
    LogitsProcessorList,
    MinPLogitsWarper,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from companion.errors import CompanionError
from companion.inspection import next_token_logits
from companion.sampling import sampling_distribution
from companion.sampling_panel import sampling_panel

PROMPT = "I am a cat."
NEUTRAL = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def panel(tiny):
    """A panel on tutorial-tiny after "I am a cat.", every slider at the end that changes nothing
    (top_k=0 switches off generate()'s default top_k=50; the other three start at values that change nothing)."""
    model, tokenizer = tiny
    return sampling_panel(model, tokenizer, PROMPT, top_k=0)


def logits_after(tiny, prompt: str) -> torch.Tensor:
    model, tokenizer = tiny
    return next_token_logits(model, tokenizer, prompt)[0]


def kept_ids(probabilities: torch.Tensor) -> set[int]:
    """The tokens the chart's distribution can still draw."""
    return set(torch.nonzero(probabilities > 0).flatten().tolist())


def transformers_distribution(logits: torch.Tensor, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0) -> torch.Tensor:
    """What generate(do_sample=True, ...) draws from: transformers' warpers, in the order of
    transformers 5.24's `GenerationMixin._get_logits_processor`, each added when it changes something."""
    warpers = LogitsProcessorList()
    if temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(temperature))
    if top_k != 0:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p != 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    if min_p != 0.0:
        warpers.append(MinPLogitsWarper(min_p))
    scores = warpers(torch.zeros(1, 1, dtype=torch.long), logits[None].clone())
    return torch.softmax(scores, dim=-1)[0]


def test_the_panel_starts_with_the_chart_of_its_settings(tiny):
    model, tokenizer = tiny
    panel = sampling_panel(model, tokenizer, PROMPT, temperature=0.7, top_p=0.9)
    logits = logits_after(tiny, PROMPT)
    # top_k starts at generate()'s default, 50: the panel shows what generate(do_sample=True, temperature=0.7,
    # top_p=0.9) draws from
    assert panel.settings == {"temperature": 0.7, "top_k": 50, "top_p": 0.9, "min_p": 0.0}
    assert panel.prompt == PROMPT
    assert torch.equal(panel.logits, logits)
    torch.testing.assert_close(
        panel.probabilities, sampling_distribution(model, tokenizer, PROMPT, temperature=0.7, top_p=0.9)
    )
    assert torch.equal(panel.probabilities, sampling_distribution(model, tokenizer, PROMPT, **panel.settings))
    [output] = panel.chart.outputs
    assert output["output_type"] == "display_data" and output["data"]["image/png"] == panel.png
    bundle = panel._repr_mimebundle_()
    assert bundle["image/png"] == panel.png, "viewers without a kernel show the chart"
    assert bundle["text/plain"] == (
        "SamplingPanel(prompt='I am a cat.', temperature=0.7, top_k=50, top_p=0.9, min_p=0.0)"
    )
    assert WIDGET_VIEW in bundle, "a kernel-backed frontend shows the live widget"


def test_the_neutral_settings_keep_the_models_own_distribution(panel, tiny):
    logits = logits_after(tiny, PROMPT)
    torch.testing.assert_close(panel.probabilities, torch.softmax(logits, dim=-1))
    assert len(kept_ids(panel.probabilities)) == logits.shape[0]


def test_lower_temperature_gives_the_top_token_more_probability(panel, tiny):
    logits = logits_after(tiny, PROMPT)
    top_token = int(logits.argmax())
    top_probabilities = []
    for temperature in (2.0, 1.5, 1.0, 0.7, 0.5, 0.2):
        probabilities = panel.update(temperature=temperature)
        torch.testing.assert_close(probabilities, torch.softmax(logits / temperature, dim=-1))
        assert int(probabilities.argmax()) == top_token, "temperature changes no token's rank"
        assert len(kept_ids(probabilities)) == logits.shape[0], "temperature removes no token"
        top_probabilities.append(probabilities[top_token].item())
    assert top_probabilities == sorted(top_probabilities) and len(set(top_probabilities)) == 6, top_probabilities


@pytest.mark.parametrize("top_k", [1, 3, 10, 50])
def test_top_k_leaves_exactly_k_tokens(panel, tiny, top_k):
    probabilities = panel.update(top_k=top_k)
    most_likely = torch.topk(logits_after(tiny, PROMPT), top_k).indices.tolist()
    assert kept_ids(probabilities) == set(most_likely)
    assert len(kept_ids(probabilities)) == top_k


@pytest.mark.parametrize("top_p", [0.3, 0.6, 0.9, 0.95])
def test_top_p_keeps_the_smallest_prefix_whose_mass_reaches_p(panel, tiny, top_p):
    probabilities = panel.update(top_p=top_p)
    original = torch.softmax(logits_after(tiny, PROMPT), dim=-1)
    prefix, mass = [], 0.0
    for probability, token_id in zip(*torch.sort(original, descending=True), strict=True):
        prefix.append(int(token_id))
        mass += float(probability)
        if mass >= top_p:
            break
    assert kept_ids(probabilities) == set(prefix)
    torch.testing.assert_close(probabilities[prefix], original[prefix] / original[prefix].sum())


@pytest.mark.parametrize("min_p", [0.02, 0.05, 0.1, 0.3])
def test_min_p_drops_the_tokens_below_min_p_times_the_top_probability(panel, tiny, min_p):
    probabilities = panel.update(min_p=min_p)
    original = torch.softmax(logits_after(tiny, PROMPT), dim=-1)
    threshold = min_p * original.max()
    assert kept_ids(probabilities) == {
        token_id for token_id, probability in enumerate(original) if probability >= threshold
    }


@pytest.mark.parametrize("settings", [
    {"temperature": 0.5},
    {"temperature": 1.5},
    {"top_k": 5},
    {"top_p": 0.8},
    {"min_p": 0.1},
    {"temperature": 0.7, "top_p": 0.9},
    {"temperature": 1.5, "min_p": 0.1},
    {"temperature": 1.2, "top_k": 20, "top_p": 0.95, "min_p": 0.05},
])
@pytest.mark.parametrize("prompt", [PROMPT, "I like to"])
def test_the_chart_data_equal_transformers_warpers_and_the_course_helper(panel, tiny, settings, prompt):
    probabilities = panel.update(prompt=prompt, **settings)
    logits = logits_after(tiny, prompt)
    torch.testing.assert_close(probabilities, transformers_distribution(logits, **settings))
    assert torch.equal(probabilities, sampling_distribution(*tiny, prompt, **{**NEUTRAL, **settings}))


def test_moving_a_slider_redraws_the_chart(panel, tiny):
    logits = logits_after(tiny, PROMPT)
    first_chart = panel.png
    panel.controls["top_k"].value = 3  # what the frontend sets when the slider moves
    assert len(kept_ids(panel.probabilities)) == 3
    assert panel.png != first_chart
    assert panel.chart.outputs[0]["data"]["image/png"] == panel.png
    panel.controls["temperature"].value = 0.5
    expected = sampling_distribution(*tiny, PROMPT, temperature=0.5, top_k=3, top_p=1.0, min_p=0.0)
    assert torch.equal(panel.probabilities, expected)
    torch.testing.assert_close(panel.probabilities, transformers_distribution(logits, temperature=0.5, top_k=3))


def test_a_new_prompt_gives_that_prompts_distribution(panel, tiny):
    before = panel.probabilities
    after_update = panel.update(prompt="The cat is")
    torch.testing.assert_close(after_update, torch.softmax(logits_after(tiny, "The cat is"), dim=-1))
    assert not torch.allclose(after_update, before)
    panel.controls["prompt"].value = "I like to"  # typed in the box, then Enter
    assert torch.equal(panel.logits, logits_after(tiny, "I like to"))
    torch.testing.assert_close(panel.probabilities, torch.softmax(panel.logits, dim=-1))


def test_an_update_of_several_controls_redraws_once(panel, monkeypatch):
    redraws = []
    original_redraw = panel.redraw
    monkeypatch.setattr(panel, "redraw", lambda: redraws.append(1) or original_redraw())
    panel.update(temperature=0.5, top_k=3, top_p=0.9, min_p=0.1, prompt="I like to")
    assert len(redraws) == 1


def test_the_display_is_the_same_on_every_run(tiny):
    """A headless run commits the same output every time and in both editions (nbval, tests/test_editions.py)."""
    model, tokenizer = tiny
    first = sampling_panel(model, tokenizer, PROMPT, temperature=0.7, top_p=0.9)._repr_mimebundle_()
    second = sampling_panel(model, tokenizer, PROMPT, temperature=0.7, top_p=0.9)._repr_mimebundle_()
    first_id, second_id = first.pop(WIDGET_VIEW)["model_id"], second.pop(WIDGET_VIEW)["model_id"]
    assert first == second
    assert first_id.startswith("sampling-panel-") and second_id.startswith("sampling-panel-")
    assert int(second_id.rsplit("-", 1)[1]) == int(first_id.rsplit("-", 1)[1]) + 1, "numbered in order, never reused"


def test_drawing_leaves_no_open_figure(tiny):
    """The inline backend would show an open figure a second time under the cell."""
    model, tokenizer = tiny
    open_before = plt.get_fignums()
    panel = sampling_panel(model, tokenizer, PROMPT)
    panel.update(temperature=0.5)
    panel.controls["min_p"].value = 0.2
    assert plt.get_fignums() == open_before


@pytest.mark.parametrize("changes", [
    {"temperature": 0},
    {"temperature": 2.5},
    {"top_k": 101},
    {"top_k": 2.0},
    {"top_p": 0},
    {"min_p": 1.5},
    {"colour": "red"},
    {"prompt": ""},
    {"prompt": 3},
    {"temperature": 0.5, "top_k": -1},
])
def test_a_bad_value_is_refused_before_anything_changes(panel, changes):
    settings, probabilities, chart = panel.settings, panel.probabilities, panel.png
    with pytest.raises(CompanionError):
        panel.update(**changes)
    assert panel.settings == settings and panel.prompt == PROMPT
    assert torch.equal(panel.probabilities, probabilities) and panel.png == chart


def test_an_empty_prompt_typed_in_the_box_shows_the_message_instead_of_the_chart(panel):
    probabilities = panel.probabilities
    panel.controls["prompt"].value = ""
    [output] = panel.chart.outputs
    assert output["output_type"] == "stream" and "empty string" in output["text"]
    assert torch.equal(panel.probabilities, probabilities), "probabilities stay those of the last chart drawn"


def test_sampling_panel_refuses_bad_arguments(tiny):
    model, tokenizer = tiny
    with pytest.raises(CompanionError, match="top"):
        sampling_panel(model, tokenizer, PROMPT, top=0)
    with pytest.raises(CompanionError, match="temperature"):
        sampling_panel(model, tokenizer, PROMPT, temperature=0)
    with pytest.raises(CompanionError):
        sampling_panel(None, tokenizer, PROMPT)
