"""Looking inside generate(): forward passes, the two phases of generation, and drafted tokens.

Taught in notebook 08 (the KV cache and faster decoding). Three small tools, each of which
watches a real `model.generate()` call instead of replacing it:

- `ForwardPassRecorder` notes how many tokens every forward pass of the model processes:
  with the KV cache, one pass over the prompt and then one token per pass; without it, the
  whole sequence again at every step; with prompt lookup, several drafted tokens per pass.
- `TokenTimer` is a streamer: `generate(..., streamer=TokenTimer())` notes when each new
  token arrives, which separates the prompt's processing (prefill, time to first token)
  from the time per new token (decode).
- `draft_acceptance` turns the recorded passes of an assisted or prompt-lookup run into
  counts of proposed and accepted draft tokens.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from transformers.generation.streamers import BaseStreamer

from companion.errors import ArgumentTypeError, CompanionError
from companion.validation import (
    require_fits_context,
    require_max_new_tokens,
    require_model,
    require_model_inputs,
    require_positive_int,
)


class ForwardPassRecorder:
    """Count the forward passes of `model` and the tokens each one processes, while in a `with` block.

    Usage::

        with ForwardPassRecorder(model) as passes:
            model.generate(**model_inputs, max_new_tokens=8, do_sample=False)
        passes.input_lengths  # e.g. [24, 1, 1, 1, 1, 1, 1, 1]: the prompt, then one token per step

    It registers a forward hook on the model (the module whose `forward` returns logits),
    so every call that `generate()` makes is seen, whatever the decoding method.
    Attributes:
        input_lengths: list[int], for each pass the length of the `input_ids` (or
            `inputs_embeds`) given to the model, i.e. the positions it computed.
    Used in notebook 08.
    """

    def __init__(self, model):
        self.model = require_model(model)
        self.input_lengths: list[int] = []
        self._handle = None

    def _record(self, module, args, kwargs, output) -> None:
        tokens = kwargs.get("input_ids")
        if tokens is None:
            tokens = kwargs.get("inputs_embeds")
        if tokens is None and args:
            tokens = args[0]
        # (batch, length) ids or (batch, length, hidden) embeddings: the length is dimension 1.
        self.input_lengths.append(int(tokens.shape[1]) if tokens is not None else 0)

    def __enter__(self) -> ForwardPassRecorder:
        self.input_lengths = []
        self._handle = self.model.register_forward_hook(self._record, with_kwargs=True)
        return self

    def __exit__(self, *exception) -> None:
        self._handle.remove()
        self._handle = None

    @property
    def count(self) -> int:
        """How many forward passes were recorded."""
        return len(self.input_lengths)

    @property
    def tokens_processed(self) -> int:
        """The sum of the positions computed over all passes."""
        return sum(self.input_lengths)


@dataclass
class DraftAcceptance:
    """What happened to the drafted tokens of one assisted or prompt-lookup `generate()` call (batch 1)."""

    forward_passes: int  # passes of the main model, the prompt's pass included
    new_tokens: int  # tokens generate() added after the prompt
    proposed: int  # draft tokens the model was asked to verify
    accepted: int  # draft tokens that matched the model's own choice and were kept

    @property
    def acceptance_rate(self) -> float:
        """accepted / proposed (0.0 when nothing was proposed)."""
        return self.accepted / self.proposed if self.proposed else 0.0

    @property
    def tokens_per_pass(self) -> float:
        """New tokens per forward pass: 1.0 for plain greedy decoding, more when drafts are accepted."""
        return self.new_tokens / self.forward_passes


def draft_acceptance(input_lengths: list[int], prompt_length: int, new_tokens: int) -> DraftAcceptance:
    """Count proposed and accepted draft tokens from the forward passes of an assisted `generate()` call.

    Args:
        input_lengths: `ForwardPassRecorder.input_lengths` of the call (batch 1).
        prompt_length: the number of prompt tokens.
        new_tokens: how many tokens the call added (output length - prompt length).
    Returns:
        DraftAcceptance. In transformers 5.24's `_assisted_decoding`, the first pass reads the
        prompt plus the first draft, and every later pass reads the last accepted token plus
        a new draft; each pass keeps the matching part of its draft and adds one token of
        its own, so accepted = new tokens - passes.
    Raises a clear error for an empty or non-list `input_lengths` and for counts that are not
    positive integers (notebook 08).
    """
    if isinstance(input_lengths, (str, bytes)) or not isinstance(input_lengths, (list, tuple)):
        raise ArgumentTypeError(
            f"input_lengths must be a list of ints, got {type(input_lengths).__name__}: pass "
            "ForwardPassRecorder(model).input_lengths of the generate() call."
        )
    if not input_lengths:
        raise CompanionError("input_lengths is empty: record the generate() call with ForwardPassRecorder first.")
    require_positive_int("prompt_length", prompt_length, "It is the number of prompt tokens, input_ids.shape[1].")
    require_positive_int("new_tokens", new_tokens, "It is output length - prompt length of the same call.")
    proposed = input_lengths[0] - prompt_length
    for length in input_lengths[1:]:
        proposed += length - 1
    return DraftAcceptance(
        forward_passes=len(input_lengths),
        new_tokens=new_tokens,
        proposed=proposed,
        accepted=new_tokens - len(input_lengths),
    )


class TokenTimer(BaseStreamer):
    """A streamer that notes the time at which `generate()` hands over each new token (batch 1).

    `generate()` first passes the prompt to `put()`, then every new token as soon as it
    is chosen (several at once when prompt lookup or an assistant got a draft accepted).
    Attributes:
        start: `time.perf_counter()` when the prompt arrived (generation starts right after).
        token_times: one time per new token.
    Used in notebook 08 to split a call into prefill (time to first token) and decode.
    """

    def __init__(self):
        self.start: float | None = None
        self.token_times: list[float] = []

    def put(self, value) -> None:
        now = time.perf_counter()
        if value.dim() > 1 and value.shape[0] > 1:
            raise CompanionError("TokenTimer times one prompt at a time: generate with a batch of 1.")
        if self.start is None:
            self.start = now
            return
        for _ in range(value.numel()):
            self.token_times.append(now)

    def end(self) -> None:
        """Nothing to flush: the times are already recorded."""

    @property
    def time_to_first_token_ms(self) -> float:
        """Milliseconds from the start to the first new token: the prompt's forward pass (prefill)."""
        if self.start is None or not self.token_times:
            raise CompanionError("No new token was recorded: pass streamer=TokenTimer() to generate().")
        return (self.token_times[0] - self.start) * 1000

    @property
    def ms_per_token(self) -> float:
        """Mean milliseconds between new tokens after the first one (decode); needs 2 or more tokens."""
        if len(self.token_times) < 2:
            raise CompanionError("Need at least 2 new tokens to time decoding: raise max_new_tokens.")
        return (self.token_times[-1] - self.token_times[0]) / (len(self.token_times) - 1) * 1000

    @property
    def total_ms(self) -> float:
        """Milliseconds from the start to the last new token."""
        if self.start is None or not self.token_times:
            raise CompanionError("No new token was recorded: pass streamer=TokenTimer() to generate().")
        return (self.token_times[-1] - self.start) * 1000


@dataclass
class PhaseTimes:
    """Median time to first token (prefill), time per new token (decode) and whole time of `generate()` calls."""

    prompt_tokens: int
    new_tokens: int
    prefill_ms: float
    decode_ms_per_token: float
    total_ms: float  # from the start to the last new token

    @property
    def prefill_ms_per_prompt_token(self) -> float:
        return self.prefill_ms / self.prompt_tokens


def time_prefill_and_decode(model, model_inputs, *, new_tokens: int, repeats: int = 3, **generate_kwargs) -> PhaseTimes:
    """Time the two phases of greedy `generate()` for one prompt with a `TokenTimer` streamer.

    Args:
        model: a causal LM.
        model_inputs: the tokenizer's output for one prompt (input_ids (1, t), attention_mask).
        new_tokens: exactly this many tokens are generated (min_new_tokens holds EOS back).
        repeats: runs; each figure is the median over the runs.
        generate_kwargs: more arguments for `generate()` (e.g. prompt_lookup_num_tokens=10).
    Returns:
        PhaseTimes. Call `generate()` once before timing: the first call of a process pays
        one-off costs. Used in notebook 08.
    """
    require_model(model)
    require_model_inputs(model_inputs)
    require_max_new_tokens(new_tokens, name="new_tokens")
    require_positive_int("repeats", repeats, "It is how many timed runs to take the median of, e.g. 3.")
    if model_inputs["input_ids"].shape[0] != 1:
        raise CompanionError(
            f"time_prefill_and_decode times one prompt, got a batch of {model_inputs['input_ids'].shape[0]}: "
            "tokenize a single prompt."
        )
    require_fits_context(model, model_inputs["input_ids"].shape[1], new_tokens, name="new_tokens")
    if new_tokens < 2:
        raise CompanionError("new_tokens must be at least 2 to time decoding separately from the prompt.")
    prefill_times = []
    decode_times = []
    total_times = []
    for _ in range(repeats):
        timer = TokenTimer()
        with torch.inference_mode():
            model.generate(
                **model_inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                streamer=timer, **generate_kwargs,
            )
        prefill_times.append(timer.time_to_first_token_ms)
        decode_times.append(timer.ms_per_token)
        total_times.append(timer.total_ms)
    return PhaseTimes(
        prompt_tokens=int(model_inputs["input_ids"].shape[1]),
        new_tokens=new_tokens,
        prefill_ms=statistics.median(prefill_times),
        decode_ms_per_token=statistics.median(decode_times),
        total_ms=statistics.median(total_times),
    )
