"""How robust the notebooks' greedy text is: every greedy choice they show, compared with a measured threshold.

A greedy step chooses the highest score; its margin is that score minus the runner-up's.
Computing the same logits in two equivalent ways (a left-padded batch with the KV cache, or
each prompt alone in one full forward pass; a CPU or a CUDA GPU) changes them in the last
bits, because the same numbers are added in a different order. A step can flip only where
that change exceeds its margin. notebooks/greedy_margins.json holds the smallest margin of
every greedy path the notebooks decode at their default parameters (written by
`python -m course_tools.margins record`, i.e. `make margins`); this module fails if one of them
is below THRESHOLD, and re-measures the drift that THRESHOLD is derived from.
Run with `pytest -s tests/test_greedy_margins.py` to see the report.
"""

import json

import pytest
import torch

from companion.generation import pad_token_id_or_eos, tokenize_batch
from companion.throughput import BATCH_PROMPTS
from course_tools.devices import GUIDE_PROMPTS
from course_tools.layout import notebook_paths
from course_tools.margins import SUMMARY_PATH, greedy_margins

# The largest change of a logit between two equivalent CPU computations of the same greedy paths
# (drift_between_equivalent_computations below: 30 new tokens, one left-padded batch with the KV
# cache vs each prompt alone in one full forward pass, fp32, one thread), measured on 2026-11-25
# on the README's benchmark machine (AMD EPYC, AVX-512; torch 2.13.0+cpu, transformers 5.24.0):
# smollm2-135m 5.9e-5 on this module's 22 prompts and 7.6e-5 on the 16 BATCH_PROMPTS alone as
# one batch, the largest we saw (its logits reach 42); tutorial-tiny 7.6e-6 on both. The margins
# themselves moved by at most 2.3e-5. CUDA vs CPU in fp32 differs for the same reason
# (another summation order), as long as CUDA's fp32 products are not TF32 (tests/test_gpu.py).
MEASURED_DRIFT = 7.6e-5
# 10x the largest measured drift (7.6e-4), rounded up: a margin above it flips only if another
# machine's drift is ten times this one's.
THRESHOLD = 1e-3
# The re-measured drift must stay below THRESHOLD / HEADROOM on the machine that runs the tests:
# a CPU with other vector units sums in another order (7.6e-5 here leaves 3.3x), and THRESHOLD
# keeps at least this factor above whatever drift that machine shows.
HEADROOM = 4
DRIFT_PROMPTS = GUIDE_PROMPTS + [prompt for prompt in BATCH_PROMPTS if prompt not in GUIDE_PROMPTS]


def drift_between_equivalent_computations(model, tokenizer, prompts: list[str], max_new_tokens: int = 30) -> float:
    """The largest absolute difference of a logit between two equivalent computations of the same greedy paths.

    One: `generate()` on all `prompts` as one left-padded batch, with the KV cache (output_logits).
    Two: each prompt alone, unpadded, its greedy continuation read in one full forward pass.
    Compared at every step up to each row's end of sequence, over the whole vocabulary.
    """
    inputs = tokenize_batch(tokenizer, prompts, device=model.device)
    prompt_length = inputs["input_ids"].shape[1]
    with torch.inference_mode():
        outputs = model.generate(
            **inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad_token_id_or_eos(tokenizer),
            output_logits=True, return_dict_in_generate=True,
        )
    batched = torch.stack(outputs.logits, dim=1)  # (b, n, vocabulary)
    steps_per_row = greedy_margins(model, outputs.sequences, prompt_length, inputs["attention_mask"]).valid.sum(dim=1)
    largest = 0.0
    for row, steps in enumerate(steps_per_row.tolist()):
        prompt_ids = inputs["input_ids"][row][inputs["attention_mask"][row].bool()]
        path = torch.cat([prompt_ids, outputs.sequences[row, prompt_length:prompt_length + steps]])
        with torch.inference_mode():
            alone = model(input_ids=path[None], use_cache=False).logits[0, -steps - 1:-1].float()
        largest = max(largest, (alone - batched[row, :steps]).abs().max().item())
    return largest


@pytest.mark.parametrize("model_fixture", ["tiny", pytest.param("smollm2", marks=pytest.mark.slow)])
def test_equivalent_computations_drift_well_below_the_threshold(model_fixture, request):
    model, tokenizer = request.getfixturevalue(model_fixture)
    drift = drift_between_equivalent_computations(model, tokenizer, DRIFT_PROMPTS)
    print(f"\n{model_fixture}: largest logit drift between two equivalent computations: {drift:.2g} "
          f"(recorded: {MEASURED_DRIFT:.2g}; THRESHOLD {THRESHOLD:g})")
    assert drift < THRESHOLD / HEADROOM, (
        f"the logits drift by {drift:.2g} here, more than THRESHOLD/{HEADROOM} = {THRESHOLD / HEADROOM:g}: "
        "measure again and raise THRESHOLD (and MEASURED_DRIFT) to stay ten times above it"
    )


def margins_report(summary: dict) -> str:
    """A table of the smallest margin per notebook and model, then every path below THRESHOLD."""
    lines = [f"Smallest greedy margins (THRESHOLD {THRESHOLD:g}, measured drift {MEASURED_DRIFT:.2g}):"]
    for number, models in sorted(summary["notebooks"].items()):
        for model, entries in models.items():
            smallest = min(entries, key=lambda entry: entry["min_margin"])
            lines.append(
                f"  {number} {model:<28} {len(entries):3d} paths, smallest {smallest['min_margin']:9.4f} in cell "
                f"{smallest['cell']} (row {smallest['row']}, step {smallest['step']}: "
                f"{smallest['token']!r} over {smallest['runner_up']!r})"
            )
    below = [
        (number, model, entry) for number, models in sorted(summary["notebooks"].items())
        for model, entries in models.items() for entry in entries if entry["min_margin"] < THRESHOLD
    ]
    for number, model, entry in below:
        lines.append(f"  BELOW THRESHOLD: {number} {model} cell {entry['cell']}: {entry}")
    return "\n".join(lines)


def test_every_greedy_path_of_the_notebooks_is_farther_from_a_tie_than_the_threshold():
    if not SUMMARY_PATH.exists():
        pytest.skip("notebooks/greedy_margins.json does not exist yet: record it with `make margins`")
    summary = json.loads(SUMMARY_PATH.read_text())
    report = margins_report(summary)
    print("\n" + report)
    numbers = [path.name[:2] for path in notebook_paths("en")]
    assert summary["notebooks_recorded"] == numbers, "record every notebook again: make margins"
    assert summary["errors"] == [], f"the recorder failed on some calls: {summary['errors']}\n{report}"
    assert summary["environment"]["device"] == "cpu", "the committed outputs, and so the margins, come from a CPU"
    smallest = min(
        entry["min_margin"]
        for models in summary["notebooks"].values()
        for entries in models.values()
        for entry in entries
    )
    assert smallest >= THRESHOLD, report
