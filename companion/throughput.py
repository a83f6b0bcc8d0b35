"""Measuring generation speed: batching, time per new token, and the memory-bandwidth floor.

Taught in notebook 06 (going further: latency, throughput, memory) and used by
`course_tools.bench`, so the notebook and the benchmark measure the same way.

Two facts drive everything here:

- Generating one token reads every weight of the model once. On a CPU (and for small
  batches on a GPU) that read, not the arithmetic, sets the pace: the fastest possible
  time per token is `weight_bytes(model) / memory bandwidth`.
- A batch of b prompts reads the weights once per step for all b rows, so it produces
  up to b tokens for roughly the price of one: `measure_batching` shows the speed-up.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from companion.errors import CompanionError
from companion.generation import (
    end_of_sequence_ids,
    generate_ids,
    generated_token_mask,
    pad_token_id_or_eos,
    tokenize_batch,
)
from companion.validation import (
    as_prompt_list,
    require_fits_context,
    require_max_new_tokens,
    require_model,
    require_positive_int,
    require_tokenizer,
)

# Sixteen prompts of different lengths, so that a batch really needs padding.
BATCH_PROMPTS = [
    "A list of colors: red, blue",
    "A sequence of numbers: 1, 2",
    "I am a cat.",
    "The capital of France is",
    "Once upon a time, there was a little",
    "The best way to learn a new language is",
    "Water boils at a temperature of",
    "My favourite food is",
    "The three primary colors are",
    "In the morning I like to",
    "A good book should",
    "The sun rises in the",
    "Here is a short poem about the sea:",
    "The most important thing in life is",
    "To make a cup of tea, first",
    "Dogs are popular pets because",
]


def fastest_seconds(function: Callable[[], object], repeats: int) -> float:
    """Call `function()` `repeats` times and return the shortest wall-clock time in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def median_seconds_and_result(function: Callable[[], object], repeats: int) -> tuple[float, object]:
    """The median wall time of `repeats` calls of `function()`, and what the last call returned."""
    durations = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations), result


def new_token_lists(sequences: torch.Tensor, prompt_length: int, eos_token_id) -> list[list[int]]:
    """Cut the new tokens out of `generate()`'s output, one list per row, up to and including EOS.

    Args:
        sequences: LongTensor (b, t + n) returned by `model.generate()`.
        prompt_length: t, the (padded) prompt length.
        eos_token_id: an int, a list of ints, or None.
    Returns:
        b lists of token ids. Rows that finished early are padded by `generate()` until the
        whole batch is done; that padding is not part of the answer and is dropped here
        (`companion.generation.generated_token_mask` says where each row's text ends).
    Used by `measure_batching` (notebook 06).
    """
    mask = generated_token_mask(sequences, prompt_length, eos_token_id)  # (b, n)
    new_tokens = sequences[:, prompt_length:]  # (b, n)
    rows = []
    for row in range(new_tokens.shape[0]):
        rows.append(new_tokens[row][mask[row]].tolist())
    return rows


@dataclass
class BatchingResult:
    """What `measure_batching` found: the same prompts generated one by one and as one batch."""

    prompts: list[str]
    max_new_tokens: int
    sequential_seconds: float
    batched_seconds: float
    sequential_new_tokens: int
    batched_new_tokens: int
    equal_rows: int  # rows whose new tokens are identical both ways
    first_differences: list[tuple[int, int]] = field(default_factory=list)  # (row, first differing position)
    sequential_texts: list[str] = field(default_factory=list)
    batched_texts: list[str] = field(default_factory=list)

    @property
    def sequential_tokens_per_second(self) -> float:
        return self.sequential_new_tokens / self.sequential_seconds

    @property
    def batched_tokens_per_second(self) -> float:
        return self.batched_new_tokens / self.batched_seconds

    @property
    def speedup(self) -> float:
        """Batched tokens per second divided by one-by-one tokens per second."""
        return self.batched_tokens_per_second / self.sequential_tokens_per_second

    @property
    def all_equal(self) -> bool:
        return self.equal_rows == len(self.prompts)


def measure_batching(
    model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int, repeats: int = 1
) -> BatchingResult:
    """Greedy-generate `prompts` one by one and as one left-padded batch; time both, compare tokens.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: b strings (different lengths are fine: the batch is padded on the left).
        max_new_tokens: the most new tokens per prompt (rows stop early at EOS).
        repeats: time each way this many times and keep the median.
    Returns:
        BatchingResult. Tokens are counted up to and including each row's EOS, so both
        ways are credited only with the tokens of the answers.
    Greedy decoding on both sides means the texts should agree; in float32 a batched
    matrix product may add up in a different order than a single row, and a near-tie
    between two tokens can then flip (`equal_rows` reports it instead of hiding it).
    """
    require_model(model)
    require_tokenizer(tokenizer)
    prompt_list = as_prompt_list(prompts)
    require_max_new_tokens(max_new_tokens)
    require_positive_int("repeats", repeats, "It is how many times to time each way, e.g. 1.")
    eos_token_id = end_of_sequence_ids(model, tokenizer)  # where generate() stops a row
    # Checked here with the real budget: the warm-up below asks for only 2 tokens.
    require_fits_context(model, tokenize_batch(tokenizer, prompt_list)["input_ids"].shape[1], max_new_tokens)

    def one_by_one():
        rows = []
        for prompt in prompt_list:
            sequences, prompt_ids = generate_ids(
                model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False
            )
            rows.extend(new_token_lists(sequences, prompt_ids.shape[1], eos_token_id))
        return rows

    def as_one_batch():
        sequences, prompt_ids = generate_ids(
            model, tokenizer, prompt_list, max_new_tokens=max_new_tokens, do_sample=False
        )
        return new_token_lists(sequences, prompt_ids.shape[1], eos_token_id)

    # Warm-up: the first generate() call of a process pays one-off costs (memory allocation).
    generate_ids(model, tokenizer, prompt_list, max_new_tokens=2, do_sample=False)
    sequential_seconds, sequential_rows = median_seconds_and_result(one_by_one, repeats)
    batched_seconds, batched_rows = median_seconds_and_result(as_one_batch, repeats)

    equal_rows = 0
    first_differences = []
    for row_index, (alone, batched) in enumerate(zip(sequential_rows, batched_rows, strict=True)):
        if alone == batched:
            equal_rows += 1
            continue
        position = 0
        while position < min(len(alone), len(batched)) and alone[position] == batched[position]:
            position += 1
        first_differences.append((row_index, position))
    return BatchingResult(
        prompts=prompt_list,
        max_new_tokens=max_new_tokens,
        sequential_seconds=sequential_seconds,
        batched_seconds=batched_seconds,
        sequential_new_tokens=sum(len(row) for row in sequential_rows),
        batched_new_tokens=sum(len(row) for row in batched_rows),
        equal_rows=equal_rows,
        first_differences=first_differences,
        sequential_texts=tokenizer.batch_decode(sequential_rows, skip_special_tokens=True),
        batched_texts=tokenizer.batch_decode(batched_rows, skip_special_tokens=True),
    )


def decode_ms_per_token(
    model, tokenizer, prompt: str, *, new_tokens: int = 32, repeats: int = 3, **generate_kwargs
) -> float:
    """Milliseconds per new token of greedy generation for one prompt (batch 1), prompt excluded.

    Times `generate()` for 1 new token and for 1 + `new_tokens` new tokens (both forced
    with `min_new_tokens`, so EOS cannot stop them early); the difference divided by
    `new_tokens` is the cost of one decoding step, without the prompt's processing.
    Each is the fastest of `repeats` runs after a warm-up: the run least disturbed by other
    processes, comparable with the best-of bandwidth of `memory_bandwidth_gb_per_s`.
    Extra keyword arguments (e.g. cache_implementation="static") go to `generate()`.
    """
    require_model(model)
    require_tokenizer(tokenizer)
    prompt_list = as_prompt_list(prompt)
    if len(prompt_list) != 1:
        raise CompanionError(f"decode_ms_per_token times one prompt, got {len(prompt_list)}: pass one string.")
    require_max_new_tokens(new_tokens, name="new_tokens")
    require_positive_int("repeats", repeats, "It is how many runs to take the fastest of, e.g. 3.")
    model_inputs = {
        name: tensor.to(model.device) for name, tensor in tokenizer(prompt_list[0], return_tensors="pt").items()
    }
    require_fits_context(model, model_inputs["input_ids"].shape[1], 1 + new_tokens, name="1 + new_tokens")
    pad_token_id = pad_token_id_or_eos(tokenizer)

    def generate(count: int) -> Callable[[], object]:
        def run():
            with torch.inference_mode():
                model.generate(
                    **model_inputs, max_new_tokens=count, min_new_tokens=count, do_sample=False,
                    pad_token_id=pad_token_id, **generate_kwargs,
                )
        return run

    generate(2)()  # warm-up: first calls allocate caches (and compile, if the model is compiled)
    prompt_only = fastest_seconds(generate(1), repeats)
    with_new_tokens = fastest_seconds(generate(1 + new_tokens), repeats)
    return max(with_new_tokens - prompt_only, 1e-9) / new_tokens * 1000


def weight_bytes(model) -> int:
    """Bytes of all parameters (tied weights counted once): what one decoding step reads (notebooks 06, 08)."""
    require_model(model)
    total = 0
    for parameter in model.parameters():
        total += parameter.numel() * parameter.element_size()
    return total


def linear_layers_ms(model, repeats: int = 5) -> float:
    """Milliseconds to run every `nn.Linear` layer of the model on one row (batch 1), nothing else.

    This is the matrix-vector work of one decoding step at batch 1, done by the same
    kernels as in `generate()` (bitsandbytes' for a quantized model, whose layers subclass
    `nn.Linear`), without attention, norms, the cache, sampling or the Python loop around
    them. Comparing it with `decode_ms_per_token` shows how much of a step is these kernels
    and how much is everything else (notebook 06, `course_tools.bench`).
    Returns the fastest of `repeats` runs.
    """
    require_model(model)
    require_positive_int("repeats", repeats, "It is how many runs to take the fastest of, e.g. 5.")
    layers = []
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            layers.append(module)
    # A quantized layer stores packed integers; its input has the model's floating-point dtype.
    input_dtype = next(parameter.dtype for parameter in model.parameters() if parameter.dtype.is_floating_point)
    best = float("inf")
    with torch.inference_mode():
        rows = []
        for layer in layers:
            dtype = layer.weight.dtype if layer.weight.dtype.is_floating_point else input_dtype
            rows.append(torch.ones(1, layer.in_features, dtype=dtype, device=layer.weight.device))
        for _ in range(repeats + 1):  # the first run only warms up
            start = time.perf_counter()
            for row, layer in zip(rows, layers, strict=True):
                layer(row)
            best = min(best, time.perf_counter() - start)
    return best * 1000


def memory_bandwidth_gb_per_s(megabytes: int = 512, repeats: int = 5) -> dict[str, float]:
    """Measure this machine's memory bandwidth with large torch tensors (all threads torch uses).

    Returns:
        {"copy_gb_per_s": best copy speed counting read + write bytes,
         "read_gb_per_s": best speed of summing a tensor (reads only)}.
    The tensors are far larger than any CPU cache, so this is main-memory speed (notebook 06).
    """
    require_positive_int("megabytes", megabytes, "It is the size of the test tensors, e.g. 256.")
    require_positive_int("repeats", repeats, "It is how many runs to take the best of, e.g. 3.")
    element_count = megabytes * 1024 * 1024 // torch.float32.itemsize
    source = torch.ones(element_count, dtype=torch.float32)
    target = torch.empty_like(source)
    target.copy_(source)  # touch every page once before timing
    byte_count = source.numel() * source.element_size()
    best_copy = float("inf")
    best_read = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        target.copy_(source)
        best_copy = min(best_copy, time.perf_counter() - start)
        start = time.perf_counter()
        source.sum()
        best_read = min(best_read, time.perf_counter() - start)
    return {"copy_gb_per_s": 2 * byte_count / best_copy / 1e9, "read_gb_per_s": byte_count / best_read / 1e9}
