"""Tests for companion/throughput.py, the measuring helpers of notebook 06 and course_tools.bench.

They run on the shipped tutorial-tiny model (no downloads) and compare with the real
`model.generate()`; timings are only checked for being positive and finite.
"""

import math

import pytest
import torch

import companion  # noqa: F401  (quiet environment before torch)
from companion.memory import bytes_per_parameter
from companion.models import load_model
from companion.throughput import (
    BATCH_PROMPTS,
    decode_ms_per_token,
    linear_layers_ms,
    measure_batching,
    median_seconds_and_result,
    memory_bandwidth_gb_per_s,
    new_token_lists,
    weight_bytes,
)


@pytest.fixture(scope="module")
def tiny():
    return load_model("tutorial-tiny")


def test_batch_prompts_are_sixteen_different_lengths(tiny):
    _, tokenizer = tiny
    assert len(BATCH_PROMPTS) == 16
    lengths = {len(tokenizer(prompt)["input_ids"]) for prompt in BATCH_PROMPTS}
    assert len(lengths) > 1  # a batch of them needs padding


def test_new_token_lists_cut_at_eos():
    sequences = torch.tensor([[5, 6, 7, 2, 0, 0], [5, 6, 8, 9, 10, 11]])
    assert new_token_lists(sequences, 2, 2) == [[7, 2], [8, 9, 10, 11]]
    assert new_token_lists(sequences, 2, [9, 2]) == [[7, 2], [8, 9]]
    assert new_token_lists(sequences, 2, None) == [[7, 2, 0, 0], [8, 9, 10, 11]]


def test_measure_batching_matches_generate_one_by_one(tiny):
    model, tokenizer = tiny
    prompts = BATCH_PROMPTS[:4]
    result = measure_batching(model, tokenizer, prompts, max_new_tokens=12)
    for prompt, text in zip(prompts, result.sequential_texts, strict=True):
        # The reference: the plain generate() call of the guide, one prompt at a time.
        model_inputs = tokenizer(prompt, return_tensors="pt")
        generated = model.generate(
            **model_inputs, max_new_tokens=12, do_sample=False, pad_token_id=tokenizer.eos_token_id
        )
        expected = tokenizer.decode(generated[0, model_inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        assert text == expected
    assert result.equal_rows + len(result.first_differences) == len(prompts)
    assert result.all_equal == (result.batched_texts == result.sequential_texts)
    assert 0 < result.sequential_new_tokens <= 12 * len(prompts)
    for figure in (result.sequential_tokens_per_second, result.batched_tokens_per_second, result.speedup):
        assert math.isfinite(figure) and figure > 0


def test_measure_batching_rejects_missing_token_budget(tiny):
    model, tokenizer = tiny
    with pytest.raises(companion.CompanionError):
        measure_batching(model, tokenizer, ["a"], max_new_tokens=None)


def test_weight_bytes_counts_each_parameter_once(tiny):
    model, _ = tiny
    expected = sum(parameter.numel() * parameter.element_size() for parameter in model.parameters())
    assert weight_bytes(model) == expected
    # get_memory_footprint also counts buffers (e.g. rotary frequencies): never less.
    assert model.get_memory_footprint() >= weight_bytes(model)


def test_bytes_per_parameter_is_bits_over_eight(tiny):
    assert [bytes_per_parameter(bits) for bits in (32, 16, 8, 4)] == [4.0, 2.0, 1.0, 0.5]
    model, _ = tiny
    # The same conversion as torch's own element size for the model's dtype (float32 here).
    parameter = next(model.parameters())
    assert bytes_per_parameter(parameter.dtype.itemsize * 8) == parameter.element_size()


def test_decode_ms_per_token_and_bandwidth_are_positive(tiny):
    model, tokenizer = tiny
    ms_per_token = decode_ms_per_token(model, tokenizer, "A list of colors: red, blue", new_tokens=4, repeats=1)
    assert math.isfinite(ms_per_token) and ms_per_token > 0
    kernels_ms = linear_layers_ms(model, repeats=2)
    assert math.isfinite(kernels_ms) and kernels_ms > 0
    bandwidth = memory_bandwidth_gb_per_s(megabytes=32, repeats=2)
    assert set(bandwidth) == {"copy_gb_per_s", "read_gb_per_s"}
    assert all(math.isfinite(value) and value > 0 for value in bandwidth.values())


def test_median_seconds_and_result_calls_the_function_each_time():
    calls = []
    seconds, result = median_seconds_and_result(lambda: calls.append(1) or len(calls), repeats=3)
    assert len(calls) == 3 and seconds >= 0 and result == 3
