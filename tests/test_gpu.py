"""The course on a CUDA GPU: run by `make test-gpu` (course_tools/gpu_check.py), skipped cleanly without CUDA.

The built-in models load on CUDA and generate; generate_text gives model.generate's tokens;
bitsandbytes 4-bit and 8-bit load and generate there; and greedy decoding in fp32 gives the
same tokens on CUDA as on the CPU for the guide's prompts, alone and as a left-padded batch
(the notebooks' strict nbval on the GPU relies on that; notebooks/greedy_margins.json says how
far each greedy choice of the notebooks is from a tie).
"""

import pytest
import torch

import companion
from companion.generation import generate_ids, pad_token_id_or_eos
from course_tools.devices import GUIDE_PROMPTS

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

BUILTIN_MODELS = ["tutorial-tiny", "smollm2-135m"]
MAX_NEW_TOKENS = 30


@pytest.fixture(scope="module", params=BUILTIN_MODELS)
def on_both_devices(request):
    """(name, (cpu model, tokenizer), (cuda model, tokenizer)) of one built-in model in fp32."""
    name = request.param
    return name, companion.load_model(name, device_map="cpu"), companion.load_model(name, device_map="cuda")


def test_fp32_matrix_products_are_full_precision_on_cuda():
    """With TF32 on, CUDA fp32 products would round inputs to 10 mantissa bits and greedy paths could flip."""
    assert torch.get_float32_matmul_precision() == "highest", (
        "TF32 is on: set torch.set_float32_matmul_precision('highest')"
    )


def test_builtin_model_loads_on_cuda_and_generates(on_both_devices):
    name, _, (model, tokenizer) = on_both_devices
    assert model.device.type == "cuda", name
    assert all(parameter.device.type == "cuda" for parameter in model.parameters())
    texts = companion.generate_text(model, tokenizer, GUIDE_PROMPTS[:3], max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    assert len(texts) == 3 and all(text.strip() for text in texts), texts


def test_generate_text_equals_model_generate_token_for_token_on_cuda(on_both_devices):
    name, _, (model, tokenizer) = on_both_devices
    sequences, prompt_ids = generate_ids(model, tokenizer, GUIDE_PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
    saved_side, saved_pad = tokenizer.padding_side, tokenizer.pad_token
    tokenizer.padding_side = "left"  # by hand, as notebook 04 teaches
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    try:
        inputs = tokenizer(GUIDE_PROMPTS, padding=True, return_tensors="pt").to(model.device)
    finally:
        tokenizer.padding_side, tokenizer.pad_token = saved_side, saved_pad
    with torch.inference_mode():
        expected = model.generate(
            **inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, pad_token_id=pad_token_id_or_eos(tokenizer)
        )
    assert torch.equal(sequences, expected), name
    texts = companion.generate_text(model, tokenizer, GUIDE_PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
    assert texts == tokenizer.batch_decode(expected[:, prompt_ids.shape[1]:], skip_special_tokens=True)


@pytest.mark.parametrize("quantization, layer_name", [("4bit", "Linear4bit"), ("8bit", "Linear8bitLt")])
def test_bitsandbytes_model_loads_and_generates_on_cuda(quantization, layer_name):
    model, tokenizer = companion.load_model("smollm2-135m", quantization=quantization, device_map="cuda")
    layers = [module for module in model.modules() if type(module).__name__ == layer_name]
    assert layers, f"no {layer_name} layer: the model was not quantized"
    assert all(layer.weight.device.type == "cuda" for layer in layers)
    texts = companion.generate_text(model, tokenizer, GUIDE_PROMPTS[:3], max_new_tokens=12, do_sample=False)
    assert all(text.strip() for text in texts), texts


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "left-padded batch"])
def test_greedy_tokens_on_cuda_equal_the_cpus(on_both_devices, batched):
    name, (cpu_model, cpu_tokenizer), (cuda_model, cuda_tokenizer) = on_both_devices
    batches = [GUIDE_PROMPTS] if batched else [[prompt] for prompt in GUIDE_PROMPTS]
    for prompts in batches:
        on_cpu, _ = generate_ids(cpu_model, cpu_tokenizer, prompts, max_new_tokens=MAX_NEW_TOKENS)
        on_cuda, _ = generate_ids(cuda_model, cuda_tokenizer, prompts, max_new_tokens=MAX_NEW_TOKENS)
        assert torch.equal(on_cpu, on_cuda.cpu()), (
            f"{name}: greedy tokens differ between CPU and CUDA for {prompts}:\n"
            f"cpu:  {cpu_tokenizer.batch_decode(on_cpu)}\ncuda: {cuda_tokenizer.batch_decode(on_cuda)}"
        )
