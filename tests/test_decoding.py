"""Tests for companion/decoding.py (notebook 08): recorders and timers around the real generate().

The forward-pass counts are compared with what generate() really returns, and the drafted
and accepted tokens with an independent observer: a streamer that receives every chunk of
tokens generate() accepts. Timings are only checked for being positive and consistent.
"""

import math

import pytest
import torch
from decoding_helpers import REPEATING_PROMPT, ChunkCounter, tokenize

import companion  # noqa: F401  (quiet environment before torch)
from companion.decoding import ForwardPassRecorder, TokenTimer, draft_acceptance, time_prefill_and_decode


@pytest.mark.parametrize("use_cache", [True, False])
def test_recorder_sees_one_pass_per_new_token(tiny, use_cache):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, "A list of colors: red, blue", model)
    prompt_length = model_inputs["input_ids"].shape[1]
    with torch.inference_mode(), ForwardPassRecorder(model) as passes:
        output = model.generate(
            **model_inputs, max_new_tokens=6, min_new_tokens=6, do_sample=False, use_cache=use_cache
        )
    new_tokens = output.shape[1] - prompt_length
    assert passes.count == new_tokens == 6
    if use_cache:
        assert passes.input_lengths == [prompt_length] + [1] * (new_tokens - 1)
    else:
        assert passes.input_lengths == [prompt_length + step for step in range(new_tokens)]
    assert passes.tokens_processed == sum(passes.input_lengths)


def test_recorder_stops_recording_after_the_block(tiny):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, "A list of colors:", model)
    with ForwardPassRecorder(model) as passes:
        model.generate(**model_inputs, max_new_tokens=2, do_sample=False)
    count = passes.count
    model.generate(**model_inputs, max_new_tokens=2, do_sample=False)
    assert passes.count == count
    assert not model._forward_hooks


def test_use_cache_false_gives_the_same_tokens(tiny):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, "A sequence of numbers: 1, 2", model)
    with torch.inference_mode():
        cached = model.generate(**model_inputs, max_new_tokens=8, do_sample=False)
        uncached = model.generate(**model_inputs, max_new_tokens=8, do_sample=False, use_cache=False)
    assert torch.equal(cached, uncached)


def assert_acceptance_matches_generate(model, tokenizer, prompt, max_new_tokens, lookup_tokens):
    model_inputs = tokenize(tokenizer, prompt, model)
    prompt_length = model_inputs["input_ids"].shape[1]
    chunks = ChunkCounter()
    with torch.inference_mode():
        greedy = model.generate(**model_inputs, max_new_tokens=max_new_tokens, do_sample=False)
        with ForwardPassRecorder(model) as passes:
            lookup = model.generate(
                **model_inputs, max_new_tokens=max_new_tokens, do_sample=False,
                prompt_lookup_num_tokens=lookup_tokens, streamer=chunks,
            )
    assert torch.equal(lookup, greedy)  # greedy prompt lookup keeps only the model's own choices
    new_tokens = lookup.shape[1] - prompt_length
    acceptance = draft_acceptance(passes.input_lengths, prompt_length, new_tokens)
    # The streamer gets the prompt, then one chunk per pass: the accepted draft plus one token.
    accepted_chunks = chunks.chunks[1:]
    assert acceptance.forward_passes == len(accepted_chunks)
    assert acceptance.accepted == sum(chunk - 1 for chunk in accepted_chunks)
    assert 0 <= acceptance.accepted <= acceptance.proposed
    assert acceptance.new_tokens == sum(accepted_chunks) == new_tokens
    for length in passes.input_lengths[1:]:
        assert 1 <= length <= lookup_tokens + 1  # last token + a draft of at most lookup_tokens
    return acceptance


def test_draft_acceptance_agrees_with_generate_on_tiny(tiny):
    model, tokenizer = tiny
    acceptance = assert_acceptance_matches_generate(model, tokenizer, REPEATING_PROMPT, 12, 4)
    assert acceptance.accepted > 0, "the repeating prompt should give accepted drafts"
    assert acceptance.tokens_per_pass > 1


def test_draft_acceptance_agrees_with_generate_on_smollm2(smollm2):
    model, tokenizer = smollm2
    prompt = ("Copy this sentence: The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars "
              "in Paris, France.")
    acceptance = assert_acceptance_matches_generate(model, tokenizer, prompt, 16, 10)
    assert acceptance.forward_passes < acceptance.new_tokens


def test_draft_acceptance_of_plain_greedy_passes():
    acceptance = draft_acceptance([7, 1, 1, 1], prompt_length=7, new_tokens=4)
    assert (acceptance.proposed, acceptance.accepted, acceptance.acceptance_rate) == (0, 0, 0.0)
    assert acceptance.tokens_per_pass == 1.0
    with pytest.raises(companion.CompanionError):
        draft_acceptance([], prompt_length=7, new_tokens=0)


def test_token_timer_counts_every_new_token(tiny):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, "A list of colors: red, blue", model)
    timer = TokenTimer()
    with torch.inference_mode():
        output = model.generate(**model_inputs, max_new_tokens=5, min_new_tokens=5, do_sample=False, streamer=timer)
    assert len(timer.token_times) == output.shape[1] - model_inputs["input_ids"].shape[1] == 5
    assert timer.time_to_first_token_ms > 0
    assert timer.ms_per_token > 0
    assert timer.total_ms >= timer.time_to_first_token_ms


def test_token_timer_refuses_a_batch_and_empty_runs(tiny):
    model, tokenizer = tiny
    timer = TokenTimer()
    with pytest.raises(companion.CompanionError):
        _ = timer.time_to_first_token_ms
    model_inputs = companion.tokenize_batch(tokenizer, ["A list of colors:", "I am a cat."], device=model.device)
    with pytest.raises(companion.CompanionError, match="batch of 1"):
        model.generate(**model_inputs, max_new_tokens=2, do_sample=False, streamer=TokenTimer(),
                       pad_token_id=tokenizer.eos_token_id)


def test_time_prefill_and_decode(tiny):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, REPEATING_PROMPT, model)
    times = time_prefill_and_decode(model, model_inputs, new_tokens=4, repeats=2)
    assert times.prompt_tokens == model_inputs["input_ids"].shape[1]
    assert times.new_tokens == 4
    for figure in (times.prefill_ms, times.decode_ms_per_token, times.total_ms, times.prefill_ms_per_prompt_token):
        assert math.isfinite(figure) and figure > 0
    assert times.total_ms >= times.prefill_ms
    lookup = time_prefill_and_decode(model, model_inputs, new_tokens=4, repeats=1, prompt_lookup_num_tokens=3)
    assert lookup.total_ms > 0
    with pytest.raises(companion.CompanionError):
        time_prefill_and_decode(model, model_inputs, new_tokens=1)
