"""What changes when the course runs on a GPU: the one table of device-dependent cells, and the hub-model pass.

`make test-gpu` (course_tools/gpu_check.py) runs every notebook on a CUDA GPU and compares its
outputs with the committed CPU outputs (strict nbval), apart from the cells listed in
`DEVICE_DEPENDENT_CELLS`; then it runs every notebook once more with a larger hub model in
4-bit, with the per-notebook parameters of `hub_parameters`. The tests prove both on a CPU
(tests/test_gpu_machinery.py). Notebooks never import this module.
"""

from __future__ import annotations

# The tag that marks a device-dependent cell in the notebook sources (`# %% tags=...,device-dependent`).
# course_tools/tag_device_cells.py writes it from the table below; course_tools/gpu_check.py turns it into
# nbval-ignore-output for the GPU run; on a CPU, strict nbval still compares these cells.
DEVICE_DEPENDENT_TAG = "device-dependent"

DEVICE = "prints the model's device: cpu here, cuda:0 on a GPU"
SAMPLED = "sampled text: CUDA's random stream differs from the CPU's"

# Every code cell whose output legitimately differs between a CPU and a CUDA GPU at the
# notebook's default parameters: (notebook number, a snippet of code that only that cell of
# the notebook contains, reason). tests/test_gpu_machinery.py checks that the cells tagged
# `device-dependent` in notebooks/en are exactly these. Cells already tagged nbval-ignore-output
# for another reason (the setup banner with library versions, timings, bandwidth) are not
# listed. Greedy text is not here: in fp32 it must be the same on both (tests/test_gpu.py,
# and notebooks/greedy_margins.json for how far each greedy choice is from a tie). No cell
# runs a 4-bit or 8-bit model's kernels at the default parameters (06 only measures their
# footprints, which count bytes and are the same on both).
DEVICE_DEPENDENT_CELLS: list[tuple[str, str, str]] = [
    ("01", 'print(type(model).__name__, "on", model.device)', DEVICE),
    ("03", "for sample_number in range(1, 4):", SAMPLED),
    ("03", "fixed_ids = model.generate(", SAMPLED),
    ("03", "def sample_with_seed(seed):", SAMPLED),
    ("03", "plain_ids = sampling_model.generate(", SAMPLED + " (the local copy's generation config samples)"),
    ("03", "for temperature in (0.3, 1.0, 1.5):", SAMPLED),
    ("03", "real_settings = {", SAMPLED + " (three of the real model's five lines are sampled)"),
    ("03", 'story_inputs = tokenizer(["My name is"]', SAMPLED),
    ("07", 'SAMPLING_PROMPT = "I am a cat."', SAMPLED),
    ("07", "candidates = model.generate(", SAMPLED),
    ("07", "for temperature in (1.0, 0.5, 0.1):", SAMPLED),
]

# The hub-model pass of `make test-gpu`: every notebook once more with a larger model from the
# Hugging Face hub, in 4-bit, checked for errors only (nbval --nbval-lax): its text differs.
HUB_MODEL = "openlm-research/open_llama_7b"  # the guide's model: a base model, without a chat template
HUB_INSTRUCT_MODEL = "HuggingFaceTB/SmolLM2-1.7B-Instruct"  # where a notebook needs a chat template
HUB_QUANTIZATION = "4bit"

# Stands for the pass's instruct model in HUB_OVERRIDES (HUB_INSTRUCT_MODEL on the GPU; the CPU
# proof puts a built-in model in its place).
INSTRUCT_MODEL = "<instruct model>"

# Per-notebook parameters of the hub pass, on top of MODEL and QUANTIZATION. Each value is one of
# the notebook's own parameters (its parameters cell names it).
HUB_OVERRIDES: dict[str, dict[str, object]] = {
    # The chat lessons need a chat template; without one, 05 falls back to smollm2-135m and
    # would not test the hub model at all.
    "05": {"MODEL": INSTRUCT_MODEL},
    # 06 loads the model once per entry to measure its footprint; None would be fp32: 28 GB for 7B.
    "06": {"QUANTIZATIONS_TO_COMPARE": ["8bit", "4bit"]},
}


def hub_parameters(
    number: str,
    model: str = HUB_MODEL,
    quantization: str | None = HUB_QUANTIZATION,
    instruct_model: str = HUB_INSTRUCT_MODEL,
) -> dict[str, object]:
    """The papermill parameters of notebook `number` ("01", ...) in the hub-model pass.

    Args:
        number: the notebook's two-digit number.
        model: the MODEL of every notebook without an override (the GPU job: HUB_MODEL).
        quantization: the QUANTIZATION of every notebook ("4bit" for the GPU job).
        instruct_model: what INSTRUCT_MODEL stands for in HUB_OVERRIDES.
    Returns:
        {"MODEL": ..., "QUANTIZATION": ..., plus the notebook's HUB_OVERRIDES}.
    Used by course_tools/gpu_check.py on the GPU and by tests/test_gpu_machinery.py on a CPU, with
    "smollm2-135m" standing in for both hub models.
    """
    parameters: dict[str, object] = {"MODEL": model, "QUANTIZATION": quantization}
    for name, value in HUB_OVERRIDES.get(number, {}).items():
        parameters[name] = instruct_model if value == INSTRUCT_MODEL else value
    return parameters


# The guide's prompts (and notebook 04's padded pair): tests/test_gpu.py checks that greedy
# decoding gives the same tokens on CUDA as on the CPU for them, alone and as one left-padded
# batch; tests/test_greedy_margins.py measures on them how far two equivalent CPU computations
# of the same logits drift apart.
GUIDE_PROMPTS = [
    "A list of colors: red, blue",
    "A sequence of numbers: 1, 2",
    "I am a cat.",
    "My name is",
    "A, B",
    "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7",
]
