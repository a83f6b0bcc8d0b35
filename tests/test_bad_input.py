"""Bad input to every public function the notebooks call: one table, one parametrized test.

Each row is (id, function, positional arguments, keyword arguments, expected, fragment):
- expected TypeError or ValueError: the call raises it, the exception is a
  `companion.CompanionError` raised by companion's own code (the traceback ends in the
  companion package, not inside transformers or torch), and its message contains `fragment`
  (the argument's name or the fix).
- expected NOT_YET: an exercise check given a wrong answer; it must not raise, and it prints
  "Not yet. Hint: ..." (with `fragment` in the hint).
- expected Handled(...): the call succeeds as the docstring documents, and the row's
  predicate checks the documented result.

Arguments may hold placeholders (MODEL, TOKENIZER, ...), filled in from the tutorial-tiny
model when the test runs; tokenizers that a row changes are deep copies (the shared
fixture's tokenizer stays as it is). tutorial-tiny's context is 256 positions
(max_position_embeddings in companion/tiny/tutorial-tiny/config.json).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch

import companion
from companion import chat as chat_module
from companion import decoding, inspection, padding, plots, sampling, scores, throughput
from companion.exercises import (
    faster_decoding,
    generating_text,
    generation_mode,
    going_further,
    output_length,
    padding_side,
    prompt_format,
    token_scores,
)

COMPANION_FOLDER = str(Path(companion.__file__).parent)
NOT_YET = "not yet"


@dataclass(frozen=True)
class Handled:
    """The call succeeds; `check(result, env)` is the documented result."""

    what: str
    check: Callable[[Any, Env], bool]


class Placeholder:
    """A stand-in in the table for an object built from the model when the test runs."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


MODEL, TOKENIZER = Placeholder("MODEL"), Placeholder("TOKENIZER")
RIGHT_PADDING_TOKENIZER = Placeholder("RIGHT_PADDING_TOKENIZER")  # pad token set, padding_side="right"
NO_PAD_NO_EOS_TOKENIZER = Placeholder("NO_PAD_NO_EOS_TOKENIZER")  # neither a pad nor an EOS token
CHAT_TOKENIZER = Placeholder("CHAT_TOKENIZER")  # a copy with a (real, minimal) chat template
LONG_PROMPT = Placeholder("LONG_PROMPT")  # 300+ tokens: more than the context of 256
NEAR_FULL_PROMPT = Placeholder("NEAR_FULL_PROMPT")  # 240 tokens: fits alone, not with 30 new tokens
LONG_INPUTS = Placeholder("LONG_INPUTS")  # tokenizer output of LONG_PROMPT
ONE_INPUTS = Placeholder("ONE_INPUTS")  # tokenizer output of "I am a cat."
LOGITS = Placeholder("LOGITS")  # next_token_logits(...)[0], shape (vocab,)
SEQUENCES = Placeholder("SEQUENCES")  # generate() output for "I am a cat.", 4 new tokens
SCORES = Placeholder("SCORES")  # matching transition scores, shape (1, 4)
TABLE = Placeholder("TABLE")  # token_probability_table(...)[0], one list of TokenScore
ROWS = Placeholder("ROWS")  # next_token_probabilities(...)[0], one list of TokenProbability
MASK = Placeholder("MASK")  # attention mask of a left-padded batch of two prompts

PROMPT = "I am a cat."
PROMPTS = ["1, 2", "A list of colors: red, blue"]
EMPTY_INPUTS = {"input_ids": torch.zeros(1, 0, dtype=torch.long), "attention_mask": torch.zeros(1, 0, dtype=torch.long)}
MESSAGES = [{"role": "user", "content": "Name three colors."}]
CHATS = [MESSAGES, [{"role": "user", "content": "A list of colors: red, blue, green"}]]  # different lengths
CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}\n{% endfor %}"


@dataclass(frozen=True)
class Case:
    id: str
    function: Callable
    args: tuple
    kwargs: dict = field(default_factory=dict)
    expected: Any = ValueError  # TypeError, ValueError, NOT_YET or Handled(...)
    fragment: str = ""  # must appear in the message (or, for NOT_YET, in the printed hint)


def row(id, function, args, kwargs=None, expected=ValueError, fragment=""):
    return pytest.param(Case(id, function, tuple(args), kwargs or {}, expected, fragment), id=id)


def same_as_left_padded(result, env) -> bool:
    reference = companion.generate_text(env.model, env.tokenizer, PROMPTS, max_new_tokens=5, do_sample=False)
    return result == reference and env.placeholders["RIGHT_PADDING_TOKENIZER"].padding_side == "right"


def one_text(result, env) -> bool:
    return isinstance(result, list) and len(result) == 1 and isinstance(result[0], str)


def two_texts_pad_token_still_none(result, env) -> bool:
    return len(result) == 2 and all(isinstance(text, str) for text in result) and env.tokenizer.pad_token is None


def same_top_tokens_as_left_padded(result, env) -> bool:
    reference = inspection.next_token_probabilities(env.model, env.tokenizer, PROMPTS, top_k=3)
    return [[r.token_id for r in rows] for rows in result] == [[r.token_id for r in rows] for rows in reference]


def header_line_only(result, env) -> bool:
    return result.splitlines() == [result] and result.split() == ["rank", "token", "id", "token", "probability"]


def keeps_every_token(result, env) -> bool:
    return sampling.count_candidates(result) == result.shape[-1]


def left_rows_match_alone(result, env) -> bool:
    return all(c.left_matches for c in result) and env.placeholders["RIGHT_PADDING_TOKENIZER"].padding_side == "right"


def same_as_rendered_chats(result, env) -> bool:
    tokenizer = env.placeholders["CHAT_TOKENIZER"]
    prompts = [chat_module.render_chat(tokenizer, chat) for chat in CHATS]
    expected = companion.generate_text(env.model, tokenizer, prompts, max_new_tokens=3)
    return result == expected and tokenizer.pad_token is None


def same_mask_as_list_of_ids(result, env) -> bool:
    return torch.equal(result, scores.generated_token_mask(env.placeholders["SEQUENCES"], 6, [2]))


def eos_fallback_batch(result, env) -> bool:
    eos = env.tokenizer.eos_token_id
    return result["attention_mask"][0, 0] == 0 and result["input_ids"][0, 0] == eos and env.tokenizer.pad_token is None


generate_text, generate_ids, tokenize_batch = companion.generate_text, companion.generate_ids, companion.tokenize_batch

CASES = [
    # ---- companion.generate_text / generate_ids / tokenize_batch (notebooks 01-08)
    row("generate_text-model-None", generate_text,
        (None, TOKENIZER, PROMPT), {"max_new_tokens": 5},
        TypeError, "model must be"),
    row("generate_text-model-name-string", generate_text,
        ("tutorial-tiny", TOKENIZER, PROMPT), {"max_new_tokens": 5},
        TypeError, "companion.load_model('tutorial-tiny')"),
    row("generate_text-swapped-model-tokenizer", generate_text,
        (TOKENIZER, MODEL, PROMPT), {"max_new_tokens": 5},
        TypeError, "swap model and tokenizer"),
    row("generate_text-tokenizer-None", generate_text,
        (MODEL, None, PROMPT), {"max_new_tokens": 5},
        TypeError, "tokenizer must be"),
    row("generate_text-prompts-None", generate_text,
        (MODEL, TOKENIZER, None), {"max_new_tokens": 5},
        TypeError, "prompts must be a string"),
    row("generate_text-prompts-int", generate_text,
        (MODEL, TOKENIZER, 42), {"max_new_tokens": 5},
        TypeError, "prompts must be a string"),
    row("generate_text-prompts-token-ids", generate_text,
        (MODEL, TOKENIZER, [1, 2]), {"max_new_tokens": 5},
        TypeError, "not token ids"),
    row("generate_text-prompts-empty-list", generate_text,
        (MODEL, TOKENIZER, []), {"max_new_tokens": 5},
        ValueError, "No prompts given"),
    row("generate_text-prompt-empty-string", generate_text,
        (MODEL, TOKENIZER, ""), {"max_new_tokens": 5},
        ValueError, "prompts[0] is an empty string"),
    row("generate_text-prompts-one-empty", generate_text,
        (MODEL, TOKENIZER, ["hi", ""]), {"max_new_tokens": 5},
        ValueError, "prompts[1] is an empty string"),
    row("generate_text-max_new_tokens-missing", generate_text,
        (MODEL, TOKENIZER, PROMPT), {},
        ValueError, "Pass max_new_tokens"),
    row("generate_text-max_new_tokens-None", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": None},
        ValueError, "Pass max_new_tokens"),
    row("generate_text-max_new_tokens-0", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 0},
        ValueError, "max_new_tokens must be a positive integer"),
    row("generate_text-max_new_tokens--5", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": -5},
        ValueError, "max_new_tokens must be a positive integer"),
    row("generate_text-max_new_tokens-str", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": "20"},
        TypeError, "max_new_tokens must be a positive integer"),
    row("generate_text-max_new_tokens-float", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5.0},
        TypeError, "max_new_tokens must be a positive integer"),
    row("generate_text-max_length", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "max_length": 20},
        ValueError, "Use max_new_tokens instead"),
    row("generate_text-do_sample-str", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": "yes"},
        TypeError, "do_sample must be True"),
    row("generate_text-side-up", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "side": "up"},
        ValueError, "side must be 'left' or 'right'"),
    row("generate_text-temperature-0", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "temperature": 0.0},
        ValueError, "temperature must be a number > 0"),
    row("generate_text-temperature-negative", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "temperature": -1.0},
        ValueError, "temperature must be a number > 0"),
    row("generate_text-temperature-0-greedy", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "temperature": 0},
        ValueError, "do_sample=False, without a temperature"),
    row("generate_text-temperature-str", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "temperature": "hot"},
        TypeError, "temperature must be a number > 0"),
    row("generate_text-top_p-0", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "top_p": 0.0},
        ValueError, "top_p must be a number in (0, 1]"),
    row("generate_text-top_p-1.5", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "top_p": 1.5},
        ValueError, "top_p must be a number in (0, 1]"),
    row("generate_text-top_p-1.5-greedy", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "top_p": 1.5},
        ValueError, "top_p must be a number in (0, 1]"),
    row("generate_text-top_k--1", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "top_k": -1},
        ValueError, "top_k must be a whole number >= 1"),
    row("generate_text-top_k-float", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "top_k": 2.5},
        TypeError, "top_k must be a whole number >= 1"),
    row("generate_text-top_k-0", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 3, "do_sample": True, "top_k": 0},
        Handled("top_k=0 keeps every token, as in generate()", one_text)),
    row("generate_text-min_p--0.1", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "min_p": -0.1},
        ValueError, "min_p must be a number in [0, 1]"),
    row("generate_text-min_p-2", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 5, "do_sample": True, "min_p": 2.0},
        ValueError, "min_p must be a number in [0, 1]"),
    row("generate_text-prompt-longer-than-context", generate_text,
        (MODEL, TOKENIZER, LONG_PROMPT), {"max_new_tokens": 5},
        ValueError, "more than the model's context of 256"),
    row("generate_text-prompt-plus-new-tokens-too-long", generate_text,
        (MODEL, TOKENIZER, NEAR_FULL_PROMPT), {"max_new_tokens": 30},
        ValueError, "shorten the prompt to at most 226 tokens, or lower max_new_tokens"),
    row("generate_text-max_new_tokens-beyond-context", generate_text,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 1000},
        ValueError, "lower max_new_tokens"),
    row("generate_text-tokenizer-without-pad-token", generate_text,
        (MODEL, TOKENIZER, PROMPTS), {"max_new_tokens": 5},
        Handled("EOS stands in for the missing pad token", two_texts_pad_token_still_none)),
    row("generate_text-right-padding-tokenizer", generate_text,
        (MODEL, RIGHT_PADDING_TOKENIZER, PROMPTS), {"max_new_tokens": 5},
        Handled("padded on the left anyway, tokenizer left as it was", same_as_left_padded)),
    row("generate_text-no-pad-no-eos-tokenizer", generate_text,
        (MODEL, NO_PAD_NO_EOS_TOKENIZER, PROMPTS), {"max_new_tokens": 5},
        ValueError, "neither a pad token nor an EOS token"),
    row("generate_ids-prompts-None", generate_ids,
        (MODEL, TOKENIZER, None), {"max_new_tokens": 5},
        TypeError, "prompts must be a string"),
    row("generate_ids-max_new_tokens-0", generate_ids,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": 0},
        ValueError, "max_new_tokens must be a positive integer"),
    row("generate_ids-prompt-longer-than-context", generate_ids,
        (MODEL, TOKENIZER, LONG_PROMPT), {"max_new_tokens": 5},
        ValueError, "model.config.max_position_embeddings"),
    row("tokenize_batch-tokenizer-None", tokenize_batch, (None, PROMPTS), {}, TypeError, "tokenizer must be"),
    row("tokenize_batch-model-as-tokenizer", tokenize_batch,
        (MODEL, PROMPTS), {},
        TypeError, "swap model and tokenizer"),
    row("tokenize_batch-prompts-empty", tokenize_batch, (TOKENIZER, []), {}, ValueError, "No prompts given"),
    row("tokenize_batch-tokenizer-without-pad-token", tokenize_batch,
        (TOKENIZER, PROMPTS), {},
        Handled("left padding with EOS as pad token, tokenizer unchanged", eos_fallback_batch)),
    row("tokenize_batch-no-pad-no-eos-tokenizer", tokenize_batch,
        (NO_PAD_NO_EOS_TOKENIZER, PROMPTS), {},
        ValueError, "tokenizer.pad_token = tokenizer.unk_token"),
    row("require_left_padded-1d-mask", companion.require_left_padded,
        (torch.ones(4),), {},
        ValueError, "attention_mask must have shape (batch, length)"),
    row("require_left_padded-right-padded", companion.require_left_padded,
        (torch.tensor([[1, 1, 0], [1, 1, 1]]),), {},
        ValueError, "padding_side = 'left'"),
    # ---- companion.load_model (notebooks 01-08; companion/models.py belongs to another engineer)
    row("load_model-unknown-name", companion.load_model, ("no-such-model",), {}, ValueError, "Built-in names"),
    row("load_model-None", companion.load_model, (None,), {}, ValueError, "model name must be a non-empty string"),
    row("load_model-empty-string", companion.load_model,
        ("",), {},
        ValueError, "model name must be a non-empty string"),
    row("load_model-file-not-folder", companion.load_model,
        (str(Path(companion.__file__).parent / "tiny" / "tutorial-tiny" / "config.json"),), {},
        ValueError, "not a folder"),
    row("load_model-quantization-3bit", companion.load_model,
        ("tutorial-tiny",), {"quantization": "3bit"},
        ValueError, "quantization must be None, '4bit' or '8bit'"),
    # ---- companion.inspection (notebooks 01, 03)
    row("next_token_logits-model-None", inspection.next_token_logits,
        (None, TOKENIZER, PROMPT), {},
        TypeError, "model must be"),
    row("next_token_logits-prompts-empty-list", inspection.next_token_logits,
        (MODEL, TOKENIZER, []), {},
        ValueError, "No prompts given"),
    row("next_token_logits-prompt-longer-than-context", inspection.next_token_logits,
        (MODEL, TOKENIZER, LONG_PROMPT), {},
        ValueError, "more than the model's context of 256"),
    row("next_token_probabilities-top_k-0", inspection.next_token_probabilities,
        (MODEL, TOKENIZER, PROMPT), {"top_k": 0},
        ValueError, "top_k must be a positive integer"),
    row("next_token_probabilities-top_k-str", inspection.next_token_probabilities,
        (MODEL, TOKENIZER, PROMPT), {"top_k": "5"},
        TypeError, "top_k must be a positive integer"),
    row("next_token_probabilities-tokenizer-None", inspection.next_token_probabilities,
        (MODEL, None, PROMPT), {},
        TypeError, "tokenizer must be"),
    row("next_token_probabilities-prompt-empty-string", inspection.next_token_probabilities,
        (MODEL, TOKENIZER, ""), {},
        ValueError, "empty string"),
    row("next_token_probabilities-right-padding-tokenizer", inspection.next_token_probabilities,
        (MODEL, RIGHT_PADDING_TOKENIZER, PROMPTS), {"top_k": 3},
        Handled("padded on the left anyway", same_top_tokens_as_left_padded)),
    row("greedy_steps-steps-0", inspection.greedy_steps,
        (MODEL, TOKENIZER, PROMPT), {"steps": 0},
        ValueError, "steps must be a positive integer"),
    row("greedy_steps-steps--3", inspection.greedy_steps,
        (MODEL, TOKENIZER, PROMPT), {"steps": -3},
        ValueError, "steps must be a positive integer"),
    row("greedy_steps-steps-None", inspection.greedy_steps,
        (MODEL, TOKENIZER, PROMPT), {"steps": None},
        TypeError, "steps must be a positive integer"),
    row("greedy_steps-top_k-0", inspection.greedy_steps,
        (MODEL, TOKENIZER, PROMPT), {"steps": 2, "top_k": 0},
        ValueError, "top_k must be a positive integer"),
    row("greedy_steps-prompt-None", inspection.greedy_steps,
        (MODEL, TOKENIZER, None), {"steps": 2},
        TypeError, "prompts must be a string"),
    row("greedy_steps-prompt-list-of-two", inspection.greedy_steps,
        (MODEL, TOKENIZER, PROMPTS), {"steps": 2},
        ValueError, "greedy_steps follows one prompt"),
    row("greedy_steps-prompt-plus-steps-too-long", inspection.greedy_steps,
        (MODEL, TOKENIZER, NEAR_FULL_PROMPT), {"steps": 30},
        ValueError, "240 tokens + steps=30 = 270 positions"),
    row("greedy_generate_by_hand-max_new_tokens-missing", inspection.greedy_generate_by_hand,
        (MODEL, TOKENIZER, PROMPT), {},
        ValueError, "Pass max_new_tokens"),
    row("greedy_generate_by_hand-max_new_tokens--1", inspection.greedy_generate_by_hand,
        (MODEL, TOKENIZER, PROMPT), {"max_new_tokens": -1},
        ValueError, "max_new_tokens must be a positive integer"),
    row("greedy_generate_by_hand-prompt-too-long", inspection.greedy_generate_by_hand,
        (MODEL, TOKENIZER, LONG_PROMPT), {"max_new_tokens": 5},
        ValueError, "more than the model's context of 256"),
    row("format_token_table-empty", inspection.format_token_table,
        ([],), {},
        Handled("an empty list gives only the header line", header_line_only)),
    # ---- companion.sampling (notebook 03)
    row("sampling_distribution-temperature-0", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"temperature": 0},
        ValueError, "temperature must be a number > 0"),
    row("sampling_distribution-temperature-None", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"temperature": None},
        TypeError, "temperature must be a number > 0"),
    row("sampling_distribution-top_p-0", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"top_p": 0},
        ValueError, "top_p must be a number in (0, 1]"),
    row("sampling_distribution-top_p-1.01", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"top_p": 1.01},
        ValueError, "top_p must be a number in (0, 1]"),
    row("sampling_distribution-top_k--2", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"top_k": -2},
        ValueError, "top_k must be a whole number >= 1"),
    row("sampling_distribution-top_k-0", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"top_k": 0},
        Handled("top_k=0 keeps every token, as in generate()", keeps_every_token)),
    row("sampling_distribution-min_p-1.5", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"min_p": 1.5},
        ValueError, "min_p must be a number in [0, 1]"),
    row("sampling_distribution-min_p--0.1", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"min_p": -0.1},
        ValueError, "min_p must be a number in [0, 1]"),
    row("sampling_distribution-min_p-str", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"min_p": "0.1"},
        TypeError, "min_p must be a number in [0, 1]"),
    row("sampling_distribution-unknown-setting", sampling.sampling_distribution,
        (MODEL, TOKENIZER, PROMPT), {"topk": 3},
        ValueError, "'topk', which is not a sampling setting"),
    row("compare_settings_table-prompt-list", sampling.compare_settings_table,
        (MODEL, TOKENIZER, [PROMPT, PROMPT], {"original": {}}), {},
        TypeError, "prompt must be one string"),
    row("compare_settings_table-prompt-empty", sampling.compare_settings_table,
        (MODEL, TOKENIZER, "", {"original": {}}), {},
        ValueError, "prompt is empty"),
    row("compare_settings_table-settings-empty", sampling.compare_settings_table,
        (MODEL, TOKENIZER, PROMPT, {}), {},
        ValueError, "settings is empty"),
    row("compare_settings_table-settings-list", sampling.compare_settings_table,
        (MODEL, TOKENIZER, PROMPT, [{"top_k": 3}]), {},
        TypeError, "settings must be a dict"),
    row("compare_settings_table-unknown-setting", sampling.compare_settings_table,
        (MODEL, TOKENIZER, PROMPT, {"k": {"topk": 3}}), {},
        ValueError, "'topk', which is not a sampling setting"),
    row("compare_settings_table-top_p-out-of-range", sampling.compare_settings_table,
        (MODEL, TOKENIZER, PROMPT, {"p": {"top_p": 2}}), {},
        ValueError, "top_p must be a number in (0, 1]"),
    row("compare_settings_table-top-0", sampling.compare_settings_table,
        (MODEL, TOKENIZER, PROMPT, {"original": {}}), {"top": 0},
        ValueError, "top must be a positive integer"),
    row("count_candidates-all-removed", sampling.count_candidates,
        (torch.zeros(5),), {},
        Handled("0 tokens left", lambda result, env: result == 0)),
    # ---- companion.plots (notebooks 01, 03)
    row("plot_top_tokens-empty", plots.plot_top_tokens, ([],), {}, ValueError, "rows is empty"),
    row("plot_top_tokens-None", plots.plot_top_tokens,
        (None,), {},
        TypeError, "rows must be a list of TokenProbability"),
    row("plot_top_tokens-batch-instead-of-rows", plots.plot_top_tokens,
        ([ROWS],), {},
        TypeError, "take one prompt's list"),
    row("plot_sampling_settings-settings-empty", plots.plot_sampling_settings,
        (MODEL, TOKENIZER, PROMPT, {}), {},
        ValueError, "settings is empty"),
    row("plot_sampling_settings-temperature-0", plots.plot_sampling_settings,
        (MODEL, TOKENIZER, PROMPT, {"T=0": {"temperature": 0}}), {},
        ValueError, "temperature must be a number > 0"),
    row("plot_sampling_settings-prompt-None", plots.plot_sampling_settings,
        (MODEL, TOKENIZER, None, {"original": {}}), {},
        TypeError, "prompt must be one string"),
    row("plot_sampling_settings-top--1", plots.plot_sampling_settings,
        (MODEL, TOKENIZER, PROMPT, {"original": {}}), {"top": -1},
        ValueError, "top must be a positive integer"),
    row("plot_autoregressive_loop-empty", plots.plot_autoregressive_loop,
        ([], TOKENIZER), {},
        ValueError, "steps is empty"),
    row("plot_autoregressive_loop-steps-None", plots.plot_autoregressive_loop,
        (None, TOKENIZER), {},
        TypeError, "steps must be a list of GreedyStep"),
    # ---- companion.padding (notebook 04)
    row("padding_table-model_inputs-None", padding.padding_table,
        (TOKENIZER, None), {},
        TypeError, "model_inputs must be the tokenizer's output"),
    row("padding_table-model_inputs-lists", padding.padding_table,
        (TOKENIZER, {"input_ids": [[1, 2]], "attention_mask": [[1, 1]]}), {},
        TypeError, "return_tensors='pt'"),
    row("padding_table-tokenizer-None", padding.padding_table, (None, ONE_INPUTS), {}, TypeError, "tokenizer must be"),
    row("predicted_next_tokens-model-None", padding.predicted_next_tokens,
        (None, TOKENIZER, ONE_INPUTS), {},
        TypeError, "model must be"),
    row("predicted_next_tokens-empty-batch", padding.predicted_next_tokens,
        (MODEL, TOKENIZER, EMPTY_INPUTS), {},
        ValueError, "length >= 1"),
    row("predicted_next_tokens-too-long", padding.predicted_next_tokens,
        (MODEL, TOKENIZER, LONG_INPUTS), {},
        ValueError, "more than the model's context of 256"),
    row("compare_padding_sides-prompts-empty", padding.compare_padding_sides,
        (MODEL, TOKENIZER, []), {"max_new_tokens": 5},
        ValueError, "No prompts given"),
    row("compare_padding_sides-max_new_tokens-missing", padding.compare_padding_sides,
        (MODEL, TOKENIZER, PROMPTS), {},
        ValueError, "Pass max_new_tokens"),
    row("compare_padding_sides-no-pad-no-eos", padding.compare_padding_sides,
        (MODEL, NO_PAD_NO_EOS_TOKENIZER, PROMPTS), {"max_new_tokens": 3},
        ValueError, "neither a pad token nor an EOS token"),
    row("compare_padding_sides-right-padding-tokenizer", padding.compare_padding_sides,
        (MODEL, RIGHT_PADDING_TOKENIZER, PROMPTS), {"max_new_tokens": 4},
        Handled("left-padded rows match the prompts alone; tokenizer unchanged", left_rows_match_alone)),
    # ---- companion.chat (notebook 05)
    row("chat-base-model-tokenizer", chat_module.chat,
        (MODEL, TOKENIZER, MESSAGES), {"max_new_tokens": 5},
        ValueError, "has no chat template"),
    row("chat-model-None", chat_module.chat,
        (None, CHAT_TOKENIZER, MESSAGES), {"max_new_tokens": 5},
        TypeError, "model must be"),
    row("chat-tokenizer-None", chat_module.chat,
        (MODEL, None, MESSAGES), {"max_new_tokens": 5},
        TypeError, "tokenizer must be"),
    row("chat-messages-string", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, "Hello"), {"max_new_tokens": 5},
        TypeError, "messages_batch must be one chat"),
    row("chat-messages-None", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, None), {"max_new_tokens": 5},
        TypeError, "messages_batch must be one chat"),
    row("chat-messages-empty", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, []), {"max_new_tokens": 5},
        ValueError, "messages_batch is empty"),
    row("chat-one-empty-chat", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, [[]]), {"max_new_tokens": 5},
        ValueError, "The chat has no messages"),
    row("chat-message-without-role", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, [{"content": "Hi"}]), {"max_new_tokens": 5},
        TypeError, "'role' and 'content'"),
    row("chat-unknown-role", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, [{"role": "human", "content": "Hi"}]), {"max_new_tokens": 5},
        ValueError, "use 'user' for questions"),
    row("chat-content-None", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, [{"role": "user", "content": None}]), {"max_new_tokens": 5},
        TypeError, "content is text"),
    row("chat-max_new_tokens-0", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, MESSAGES), {"max_new_tokens": 0},
        ValueError, "max_new_tokens must be a positive integer"),
    row("chat-max_new_tokens-missing", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, MESSAGES), {},
        ValueError, "Pass max_new_tokens"),
    row("chat-too-long", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, [{"role": "user", "content": LONG_PROMPT}]), {"max_new_tokens": 5},
        ValueError, "more than the model's context of 256"),
    row("chat-batch-tokenizer-without-pad-token", chat_module.chat,
        (MODEL, CHAT_TOKENIZER, CHATS), {"max_new_tokens": 3},
        Handled("EOS stands in for the pad token; equals generate_text on render_chat", same_as_rendered_chats)),
    row("render_chat-tokenizer-None", chat_module.render_chat, (None, MESSAGES), {}, TypeError, "tokenizer must be"),
    row("render_chat-dict-not-list", chat_module.render_chat,
        (CHAT_TOKENIZER, {"role": "user", "content": "Hi"}), {},
        TypeError, "A chat is a list of messages"),
    row("require_chat_template-base-model", chat_module.require_chat_template,
        (TOKENIZER,), {},
        ValueError, "Use an instruct model"),
    # ---- companion.scores (notebook 07)
    row("token_probability_table-tokenizer-None", scores.token_probability_table,
        (None, SEQUENCES, SCORES, 6), {},
        TypeError, "tokenizer must be"),
    row("token_probability_table-sequences-list", scores.token_probability_table,
        (TOKENIZER, [[1, 2, 3]], SCORES, 1), {},
        TypeError, "sequences must be a LongTensor"),
    row("token_probability_table-prompt_length--1", scores.token_probability_table,
        (TOKENIZER, SEQUENCES, SCORES, -1), {},
        ValueError, "prompt_length must be the prompt's number of columns"),
    row("token_probability_table-scores-wrong-shape", scores.token_probability_table,
        (TOKENIZER, SEQUENCES, torch.zeros(1, 2), 6), {},
        ValueError, "transition_scores must have shape"),
    row("generated_token_mask-prompt_length-too-big", scores.generated_token_mask,
        (SEQUENCES, 99, [2]), {},
        ValueError, "prompt_length must be the prompt's number of columns"),
    row("generated_token_mask-end-id-int", scores.generated_token_mask,
        (SEQUENCES, 6, 2), {},
        Handled("a single end id works like [id]", same_mask_as_list_of_ids)),
    row("generated_token_mask-end-ids-None", scores.generated_token_mask,
        (SEQUENCES, 6, None), {},
        Handled("None = no end token: every new token counts", lambda result, env: bool(result.all()))),
    row("sequence_log_probabilities-one-table", scores.sequence_log_probabilities,
        (TABLE,), {},
        TypeError, "wrap it, [table]"),
    row("sequence_log_probabilities-empty", scores.sequence_log_probabilities,
        ([],), {},
        ValueError, "table_batch is empty"),
    row("format_token_probability_table-batch", scores.format_token_probability_table,
        ([TABLE],), {},
        TypeError, "token_probability_table(...)[0]"),
    row("plot_token_probabilities-empty", scores.plot_token_probabilities,
        ([],), {},
        ValueError, "table_batch is empty"),
    row("plot_token_probabilities-titles-string", scores.plot_token_probabilities,
        ([TABLE],), {"titles": "my prompt"},
        TypeError, "titles=[title]"),
    row("plot_token_probabilities-tokens_per_line-0", scores.plot_token_probabilities,
        ([TABLE],), {"tokens_per_line": 0},
        ValueError, "tokens_per_line must be a positive integer"),
    # ---- companion.throughput (notebooks 06, 08)
    row("measure_batching-prompts-empty", throughput.measure_batching,
        (MODEL, TOKENIZER, []), {"max_new_tokens": 3},
        ValueError, "No prompts given"),
    row("measure_batching-max_new_tokens-0", throughput.measure_batching,
        (MODEL, TOKENIZER, PROMPTS), {"max_new_tokens": 0},
        ValueError, "max_new_tokens must be a positive integer"),
    row("measure_batching-repeats-0", throughput.measure_batching,
        (MODEL, TOKENIZER, PROMPTS), {"max_new_tokens": 3, "repeats": 0},
        ValueError, "repeats must be a positive integer"),
    row("measure_batching-too-long", throughput.measure_batching,
        (MODEL, TOKENIZER, [LONG_PROMPT]), {"max_new_tokens": 3},
        ValueError, "+ max_new_tokens=3 ="),
    row("decode_ms_per_token-new_tokens-0", throughput.decode_ms_per_token,
        (MODEL, TOKENIZER, PROMPT), {"new_tokens": 0},
        ValueError, "new_tokens must be a positive integer"),
    row("decode_ms_per_token-prompt-None", throughput.decode_ms_per_token,
        (MODEL, TOKENIZER, None), {},
        TypeError, "prompts must be a string"),
    row("decode_ms_per_token-too-long", throughput.decode_ms_per_token,
        (MODEL, TOKENIZER, NEAR_FULL_PROMPT), {"new_tokens": 32},
        ValueError, "1 + new_tokens=33"),
    row("weight_bytes-None", throughput.weight_bytes, (None,), {}, TypeError, "model must be"),
    row("memory_bandwidth-megabytes-0", throughput.memory_bandwidth_gb_per_s,
        (), {"megabytes": 0},
        ValueError, "megabytes must be a positive integer"),
    row("linear_layers_ms-repeats--1", throughput.linear_layers_ms,
        (MODEL,), {"repeats": -1},
        ValueError, "repeats must be a positive integer"),
    # ---- companion.decoding (notebook 08)
    row("ForwardPassRecorder-model-None", decoding.ForwardPassRecorder, (None,), {}, TypeError, "model must be"),
    row("draft_acceptance-empty", decoding.draft_acceptance, ([], 5, 3), {}, ValueError, "input_lengths is empty"),
    row("draft_acceptance-None", decoding.draft_acceptance,
        (None, 5, 3), {},
        TypeError, "input_lengths must be a list"),
    row("draft_acceptance-new_tokens-0", decoding.draft_acceptance,
        ([6, 1], 5, 0), {},
        ValueError, "new_tokens must be a positive integer"),
    row("time_prefill_and_decode-new_tokens-1", decoding.time_prefill_and_decode,
        (MODEL, ONE_INPUTS), {"new_tokens": 1},
        ValueError, "new_tokens must be at least 2"),
    row("time_prefill_and_decode-new_tokens-missing", decoding.time_prefill_and_decode,
        (MODEL, ONE_INPUTS), {"new_tokens": None},
        ValueError, "Pass new_tokens"),
    row("time_prefill_and_decode-repeats-0", decoding.time_prefill_and_decode,
        (MODEL, ONE_INPUTS), {"new_tokens": 3, "repeats": 0},
        ValueError, "repeats must be a positive integer"),
    row("time_prefill_and_decode-inputs-string", decoding.time_prefill_and_decode,
        (MODEL, PROMPT), {"new_tokens": 3},
        TypeError, "model_inputs must be the tokenizer's output"),
    row("time_prefill_and_decode-too-long", decoding.time_prefill_and_decode,
        (MODEL, LONG_INPUTS), {"new_tokens": 3},
        ValueError, "new_tokens=3"),
    # ---- exercise checks: a wrong answer never raises, it prints "Not yet. Hint: ..."
    row("ex01-check_logits_shape-None", generating_text.check_logits_shape,
        (None, MODEL, TOKENIZER, PROMPT), {},
        NOT_YET, "tuple of three"),
    row("ex01-check_logits_shape-negative", generating_text.check_logits_shape,
        ((1, -5, 768), MODEL, TOKENIZER, PROMPT), {},
        NOT_YET, "second axis"),
    row("ex01-check_most_likely_token-None", generating_text.check_most_likely_token,
        (None, MODEL, TOKENIZER, PROMPT), {},
        NOT_YET, "largest score"),
    row("ex01-check_most_likely_token-empty-string", generating_text.check_most_likely_token,
        ("", MODEL, TOKENIZER, PROMPT), {},
        NOT_YET, "give one token"),
    row("ex01-check_most_likely_token-list", generating_text.check_most_likely_token,
        ([], MODEL, TOKENIZER, PROMPT), {},
        NOT_YET, "give one token"),
    row("ex01-check_pipeline_new_text-None", generating_text.check_pipeline_new_text,
        (None, MODEL, TOKENIZER, PROMPT, 12), {},
        NOT_YET, "pipeline returned"),
    row("ex01-check_pipeline_new_text-empty-list", generating_text.check_pipeline_new_text,
        ([], MODEL, TOKENIZER, PROMPT, 12), {},
        NOT_YET, "pipeline returned"),
    row("ex01-check_greedy_loop-None", generating_text.check_greedy_loop,
        (None, MODEL, TOKENIZER, PROMPT), {"steps": 5},
        NOT_YET, "as a tensor"),
    row("ex01-check_greedy_loop-list", generating_text.check_greedy_loop,
        ([1, 2, 3], MODEL, TOKENIZER, PROMPT), {"steps": 5},
        NOT_YET, "as a tensor"),
    row("ex01-check_greedy_loop-empty-tensor", generating_text.check_greedy_loop,
        (torch.tensor([], dtype=torch.long), MODEL, TOKENIZER, PROMPT), {"steps": 5},
        NOT_YET, "start with the prompt's own ids"),
    row("ex02-check_max_length_new_tokens-None", output_length.check_max_length_new_tokens,
        (None, MODEL, TOKENIZER, PROMPT, 20), {},
        NOT_YET, "whole number"),
    row("ex02-check_max_length_new_tokens-negative", output_length.check_max_length_new_tokens,
        (-3, MODEL, TOKENIZER, PROMPT, 20), {},
        NOT_YET, "compare the length"),
    row("ex02-check_max_length_new_tokens-str", output_length.check_max_length_new_tokens,
        ("20", MODEL, TOKENIZER, PROMPT, 20), {},
        NOT_YET, "whole number"),
    row("ex02-check_new_text_only-None", output_length.check_new_text_only,
        (None, MODEL, TOKENIZER, PROMPT, 15), {},
        NOT_YET, "one string"),
    row("ex02-check_new_text_only-empty", output_length.check_new_text_only,
        ("", MODEL, TOKENIZER, PROMPT, 15), {},
        NOT_YET, "Not yet"),
    row("ex02-check_stop_string-None", output_length.check_stop_string,
        (None, MODEL, TOKENIZER, "A sequence of numbers: 1, 2", "10", 30), {},
        NOT_YET, "one string"),
    row("ex02-check_generation_config-None", output_length.check_generation_config,
        (None, MODEL, TOKENIZER, PROMPT, 20, 25), {},
        NOT_YET, "GenerationConfig object"),
    row("ex02-check_generation_config-dict", output_length.check_generation_config,
        ({"max_new_tokens": 25}, MODEL, TOKENIZER, PROMPT, 20, 25), {},
        NOT_YET, "GenerationConfig object"),
    row("ex03-check_decoding_modes-None", generation_mode.check_decoding_modes,
        (None,), {},
        NOT_YET, "fill in the dictionary"),
    row("ex03-check_decoding_modes-empty", generation_mode.check_decoding_modes,
        ({},), {},
        NOT_YET, 'give "greedy" or "sampling"'),
    row("ex03-check_tokens_left-None", generation_mode.check_tokens_left,
        (None, MODEL, TOKENIZER, "I like to"), {"top_p": 0.8},
        NOT_YET, "store one whole number"),
    row("ex03-check_tokens_left-negative", generation_mode.check_tokens_left,
        (-1, MODEL, TOKENIZER, "I like to"), {"top_p": 0.8},
        NOT_YET, "running total"),
    row("ex03-check_greedy_predictions-None", generation_mode.check_greedy_predictions,
        (None, MODEL, TOKENIZER, PROMPT, 10, 0), {},
        NOT_YET, "fill in the dictionary"),
    row("ex03-check_greedy_predictions-list", generation_mode.check_greedy_predictions,
        ([], MODEL, TOKENIZER, PROMPT, 10, 0), {},
        NOT_YET, "fill in the dictionary"),
    row("ex03-check_greedy_predictions-empty", generation_mode.check_greedy_predictions,
        ({}, MODEL, TOKENIZER, PROMPT, 10, 0), {},
        NOT_YET, "give True or False"),
    row("ex03-check_fixed_sampling-None", generation_mode.check_fixed_sampling,
        (None, MODEL, TOKENIZER, "My name is", 10, 0), {},
        NOT_YET, "store the token ids"),
    row("ex03-check_fixed_sampling-text", generation_mode.check_fixed_sampling,
        ("My name is", MODEL, TOKENIZER, "My name is", 10, 0), {},
        NOT_YET, "not the decoded text"),
    row("ex03-check_fixed_sampling-empty-tensor", generation_mode.check_fixed_sampling,
        (torch.zeros(1, 0, dtype=torch.long), MODEL, TOKENIZER, "My name is", 10, 0), {},
        NOT_YET, "keep max_new_tokens"),
    row("ex03-check_loop_breaking_penalty-None", generation_mode.check_loop_breaking_penalty,
        (None, MODEL, TOKENIZER, PROMPT, 30), {},
        NOT_YET, "store a number in answer"),
    row("ex03-check_loop_breaking_penalty-str", generation_mode.check_loop_breaking_penalty,
        ("1.4", MODEL, TOKENIZER, PROMPT, 30), {},
        NOT_YET, "Not yet"),
    row("ex03-check_loop_breaking_penalty-negative", generation_mode.check_loop_breaking_penalty,
        (-1.0, MODEL, TOKENIZER, PROMPT, 30), {},
        NOT_YET, "Not yet"),
    row("ex03-repeats_a_sentence-empty", generation_mode.repeats_a_sentence,
        ("",), {},
        Handled("empty text repeats nothing", lambda result, env: result is False)),
    row("ex04-check_batch_ready-None", padding_side.check_batch_ready_for_generation,
        (None,), {},
        NOT_YET, "Store what the tokenizer returns"),
    row("ex04-check_batch_ready-empty-dict", padding_side.check_batch_ready_for_generation,
        ({},), {},
        NOT_YET, "input_ids and attention_mask"),
    row("ex04-check_position_ids-None", padding_side.check_position_ids, (MASK, None), {}, NOT_YET, "Compute a tensor"),
    row("ex04-check_position_ids-wrong-shape", padding_side.check_position_ids,
        (MASK, torch.zeros(3)), {},
        NOT_YET, "one position per token"),
    row("ex04-check_batch_continuations-None", padding_side.check_batch_continuations,
        (MODEL, TOKENIZER, PROMPTS, None, 5), {},
        NOT_YET, "list of 2 strings"),
    row("ex04-check_batch_continuations-empty", padding_side.check_batch_continuations,
        (MODEL, TOKENIZER, PROMPTS, [], 5), {},
        NOT_YET, "needs 2 strings"),
    row("ex05-check_header_token_count-base-model", prompt_format.check_header_token_count,
        (TOKENIZER, MESSAGES, 3), {},
        ValueError, "has no chat template"),
    row("ex05-check_header_token_count-None", prompt_format.check_header_token_count,
        (CHAT_TOKENIZER, MESSAGES, None), {},
        NOT_YET, "whole number"),
    row("ex05-check_header_token_count-negative", prompt_format.check_header_token_count,
        (CHAT_TOKENIZER, MESSAGES, -2), {},
        NOT_YET, "Not yet"),
    row("ex05-check_fixed_chat_batch-None", prompt_format.check_fixed_chat_batch,
        (MODEL, CHAT_TOKENIZER, [MESSAGES], None), {"max_new_tokens": 5},
        NOT_YET, "Store the list"),
    row("ex05-check_fixed_chat_batch-empty", prompt_format.check_fixed_chat_batch,
        (MODEL, CHAT_TOKENIZER, [MESSAGES], []), {"max_new_tokens": 5},
        NOT_YET, "list of 1 strings"),
    row("ex05-check_continued_message-None", prompt_format.check_continued_message,
        (CHAT_TOKENIZER, MESSAGES + [{"role": "assistant", "content": "1."}], None), {},
        NOT_YET, "Store the prompt text"),
    row("ex05-check_continued_message-ids", prompt_format.check_continued_message,
        (CHAT_TOKENIZER, MESSAGES + [{"role": "assistant", "content": "1."}], [1, 2]), {},
        NOT_YET, "not token ids"),
    row("ex06-check_floor_ms_per_token-None", going_further.check_floor_ms_per_token,
        (None, MODEL, 10.0), {},
        NOT_YET, "one number"),
    row("ex06-check_floor_ms_per_token-negative", going_further.check_floor_ms_per_token,
        (-1.0, MODEL, 10.0), {},
        NOT_YET, "Not yet"),
    row("ex06-check_floor_ms_per_token-bandwidth-0", going_further.check_floor_ms_per_token,
        (1.0, MODEL, 0), {},
        ValueError, "bandwidth_gb_per_s must be a positive number"),
    row("ex06-check_seven_billion_memory-None", going_further.check_seven_billion_memory,
        (None,), {},
        NOT_YET, '"fp32"'),
    row("ex06-check_seven_billion_memory-empty", going_further.check_seven_billion_memory,
        ({},), {},
        NOT_YET, '"fp32"'),
    row("ex06-check_seven_billion_memory-None-values", going_further.check_seven_billion_memory,
        ({"fp32": None, "bf16": None, "4bit": None},), {},
        NOT_YET, "multiply 7 billion"),
    row("ex06-check_batch_forward_passes-None", going_further.check_batch_forward_passes,
        (None, MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "one whole number"),
    row("ex06-check_batch_forward_passes-str", going_further.check_batch_forward_passes,
        ("3", MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "one whole number"),
    row("ex06-check_batch_forward_passes-negative", going_further.check_batch_forward_passes,
        (-4, MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "count the passes"),
    row("ex06-check_left_padded_answers-None", going_further.check_left_padded_answers,
        (None, MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "list of strings"),
    row("ex06-check_left_padded_answers-empty", going_further.check_left_padded_answers,
        ([], MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "one answer per prompt"),
    row("ex06-check_quantization_for_gpu-None", going_further.check_quantization_for_gpu,
        (None,), {},
        NOT_YET, "store the bits per weight"),
    row("ex06-check_quantization_for_gpu-3bit", going_further.check_quantization_for_gpu,
        ("3bit",), {},
        NOT_YET, "bits per weight"),
    row("ex06-check_quantization_for_gpu-list", going_further.check_quantization_for_gpu,
        ([],), {},
        NOT_YET, "bits per weight"),
    row("ex07-check_top_k_one_prediction-None", token_scores.check_top_k_one_prediction,
        (None, MODEL, TOKENIZER, PROMPT, 5), {},
        NOT_YET, "one number between 0 and 1"),
    row("ex07-check_top_k_one_prediction-percent", token_scores.check_top_k_one_prediction,
        (100, MODEL, TOKENIZER, PROMPT, 5), {},
        NOT_YET, "not a percentage"),
    row("ex07-check_least_certain_token-None", token_scores.check_least_certain_token,
        (None, MODEL, TOKENIZER, PROMPT, 5), {},
        NOT_YET, "give one token"),
    row("ex07-check_least_certain_token-empty", token_scores.check_least_certain_token,
        ("", MODEL, TOKENIZER, PROMPT, 5), {},
        NOT_YET, "give one token"),
    row("ex07-check_batch_probabilities-None", token_scores.check_batch_probabilities,
        (None, MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "as a tensor"),
    row("ex07-check_batch_probabilities-list", token_scores.check_batch_probabilities,
        ([0.5], MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "as a tensor"),
    row("ex07-check_batch_probabilities-empty-tensor", token_scores.check_batch_probabilities,
        (torch.zeros(0), MODEL, TOKENIZER, PROMPTS, 4), {},
        NOT_YET, "should have shape"),
    row("ex07-check_confident_temperature-0", token_scores.check_confident_temperature,
        (0, MODEL, TOKENIZER, PROMPT, 5, 0), {},
        NOT_YET, "above 0"),
    row("ex07-check_confident_temperature-None", token_scores.check_confident_temperature,
        (None, MODEL, TOKENIZER, PROMPT, 5, 0), {},
        NOT_YET, "one positive number"),
    row("ex08-check_cache_shape-None", faster_decoding.check_cache_shape,
        (None, MODEL, ONE_INPUTS), {},
        NOT_YET, "four whole numbers"),
    row("ex08-check_cache_shape-negative", faster_decoding.check_cache_shape,
        ((1, 4, -5, 16), MODEL, ONE_INPUTS), {},
        NOT_YET, "Not yet"),
    row("ex08-check_fixed_lookup_call-None", faster_decoding.check_fixed_lookup_call,
        (None, MODEL, ONE_INPUTS), {},
        NOT_YET, "as a dict"),
    row("ex08-check_fixed_lookup_call-max_new_tokens-0", faster_decoding.check_fixed_lookup_call,
        ({"max_new_tokens": 0, "do_sample": False, "prompt_lookup_num_tokens": 3}, MODEL, ONE_INPUTS), {},
        NOT_YET, "whole number from 1"),
    row("ex08-check_fixed_lookup_call-lookup--3", faster_decoding.check_fixed_lookup_call,
        ({"max_new_tokens": 8, "do_sample": False, "prompt_lookup_num_tokens": -3}, MODEL, ONE_INPUTS), {},
        NOT_YET, "Not yet"),
    row("ex08-check_smallest_lookup_tokens-0", faster_decoding.check_smallest_lookup_tokens,
        (0, MODEL, ONE_INPUTS, 8), {},
        NOT_YET, "whole number from 1"),
    row("ex08-check_smallest_lookup_tokens-None", faster_decoding.check_smallest_lookup_tokens,
        (None, MODEL, ONE_INPUTS, 8), {},
        NOT_YET, "whole number from 1"),
]


class Env:
    """The objects the placeholders stand for, built once per module from tutorial-tiny."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer
        right = copy.deepcopy(tokenizer)
        right.pad_token = right.eos_token
        right.padding_side = "right"
        bare = copy.deepcopy(tokenizer)
        bare.pad_token = None
        bare.eos_token = None
        chat_tokenizer = copy.deepcopy(tokenizer)
        chat_tokenizer.chat_template = CHAT_TEMPLATE
        long_prompt = "word " * 300
        near_full = " ".join(["1"] * 400)
        ids = tokenizer(near_full)["input_ids"][:240]
        near_full = tokenizer.decode(ids, skip_special_tokens=True)
        while len(tokenizer(near_full)["input_ids"]) > 240:
            near_full = near_full[:-2]
        one_inputs = dict(tokenizer(PROMPT, return_tensors="pt"))
        sequences = model.generate(**one_inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False,
                                   pad_token_id=tokenizer.eos_token_id, output_scores=True,
                                   return_dict_in_generate=True)
        transition_scores = model.compute_transition_scores(
            sequences.sequences, sequences.scores, normalize_logits=True
        )
        prompt_length = one_inputs["input_ids"].shape[1]
        table = scores.token_probability_table(tokenizer, sequences.sequences, transition_scores, prompt_length)[0]
        self.placeholders = {
            "MODEL": model,
            "TOKENIZER": tokenizer,
            "RIGHT_PADDING_TOKENIZER": right,
            "NO_PAD_NO_EOS_TOKENIZER": bare,
            "CHAT_TOKENIZER": chat_tokenizer,
            "LONG_PROMPT": long_prompt,
            "NEAR_FULL_PROMPT": near_full,
            "LONG_INPUTS": dict(tokenizer(long_prompt, return_tensors="pt")),
            "ONE_INPUTS": one_inputs,
            "LOGITS": inspection.next_token_logits(model, tokenizer, PROMPT)[0],
            "SEQUENCES": sequences.sequences,
            "SCORES": transition_scores,
            "TABLE": table,
            "ROWS": inspection.next_token_probabilities(model, tokenizer, PROMPT, top_k=3)[0],
            "MASK": companion.tokenize_batch(tokenizer, PROMPTS)["attention_mask"],
        }
        assert prompt_length == 6, "SEQUENCES rows assume a prompt of 6 tokens"
        assert len(tokenizer(near_full)["input_ids"]) == 240

    def fill(self, value):
        """Replace the placeholders in (nested) arguments by the objects they stand for."""
        if isinstance(value, Placeholder):
            return self.placeholders[value.name]
        if isinstance(value, tuple):
            return tuple(self.fill(item) for item in value)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value


@pytest.fixture(scope="module")
def env(tiny):
    return Env(*tiny)


def raised_in_companion(excinfo) -> bool:
    """True if the last frame of the traceback (where the exception was raised) is companion's code."""
    return str(excinfo.traceback[-1].path).startswith(COMPANION_FOLDER)


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: Case, env, tiny, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # load_model rows: fail fast instead of trying the network
    args, kwargs = env.fill(case.args), env.fill(case.kwargs)
    if case.expected in (TypeError, ValueError):
        with pytest.raises(case.expected) as excinfo:
            case.function(*args, **kwargs)
        message = str(excinfo.value)
        assert isinstance(excinfo.value, companion.CompanionError), f"not a CompanionError: {excinfo.value!r}"
        assert raised_in_companion(excinfo), f"raised inside {excinfo.traceback[-1].path}: {message}"
        assert case.fragment in message, f"{case.fragment!r} not in: {message}"
    elif case.expected == NOT_YET:
        verdict = case.function(*args, **kwargs)
        printed = capsys.readouterr().out
        assert not verdict and printed.startswith("Not yet. Hint:"), printed
        assert case.fragment in printed, f"{case.fragment!r} not in: {printed}"
    else:
        result = case.function(*args, **kwargs)
        assert case.expected.check(result, env), f"{case.expected.what}: got {result!r}"


def test_every_row_has_a_unique_id():
    ids = [param.id for param in CASES]
    assert len(ids) == len(set(ids))
