"""Tests for the course's tiny model `tutorial-tiny` (companion/tiny/).

The behaviour tests load the shipped model exactly as the notebooks do and
check every behaviour the notebooks rely on. The training tests retrain a
reduced configuration twice and compare file hashes.
"""

import json
import re
import subprocess
import sys

import pytest
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

from companion.cache import file_sha256
from companion.tiny import MODEL_DIR, is_built
from course_tools.layout import ROOT

# Plain generate() warns about the default length; one test checks that warning on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Using the model-agnostic default `max_length`:UserWarning")

COLOR_PROMPT = "A list of colors: red, blue"
COLOR_ANSWER = "A list of colors: red, blue, green, yellow, black, white, and brown"
COUNT_PROMPT = "A sequence of numbers: 1, 2"
CAT_PROMPT = "I am a cat."
BATCH_PROMPTS = ["1, 2, 3", "A, B, C, D, E"]

# Run in a fresh interpreter: seeded sampling must give the same text every time.
SAMPLING_SCRIPT = """
import sys
import companion  # its quiet environment (OMP_WAIT_POLICY=PASSIVE, ...) before torch starts
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer
model_dir = sys.argv[1]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir)
transformers.set_seed(0)
inputs = tokenizer("I am a cat.", return_tensors="pt")
output = model.generate(**inputs, do_sample=True)
print("RESULT:" + tokenizer.batch_decode(output, skip_special_tokens=True)[0])
"""


@pytest.fixture(scope="module")
def tokenizer():
    """A fresh tokenizer for the shipped model (module-scoped; tests that change it make a copy)."""
    return AutoTokenizer.from_pretrained(MODEL_DIR)


@pytest.fixture(scope="module")
def model():
    """The shipped model in eval mode."""
    return AutoModelForCausalLM.from_pretrained(MODEL_DIR).eval()


def generate_one(model, tokenizer, prompt, **generate_kwargs):
    """Generate for one prompt; return (decoded text, list of new token ids)."""
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, **generate_kwargs)
    new_tokens = output[0, inputs["input_ids"].shape[1]:].tolist()
    return tokenizer.batch_decode(output, skip_special_tokens=True)[0], new_tokens


def numbers_in(text):
    """All integers in `text`, in order (list of int)."""
    return [int(number) for number in re.findall(r"\d+", text)]


# ---------------------------------------------------------------- shipped files


def test_model_is_built_and_small():
    assert is_built()
    total_bytes = sum(path.stat().st_size for path in MODEL_DIR.iterdir() if path.is_file())
    assert total_bytes <= 5 * 1024 * 1024


def test_shipped_files_match_recorded_hashes():
    facts = json.loads((MODEL_DIR / "training_facts.json").read_text())
    assert file_sha256(MODEL_DIR / "model.safetensors") == facts["sha256"]["model.safetensors"]
    assert file_sha256(MODEL_DIR / "tokenizer.json") == facts["sha256"]["tokenizer.json"]
    for library in ("torch", "transformers", "tokenizers", "python"):
        assert library in facts["versions"]


def test_conventions(model, tokenizer):
    # Llama special tokens; BOS added, EOS not; no pad token; right padding.
    assert (tokenizer.unk_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    assert tokenizer.pad_token is None
    assert tokenizer.padding_side == "right"
    ids = tokenizer("1, 2, 3")["input_ids"]
    assert ids[0] == 1 and ids[-1] != 2
    assert tokenizer.decode(ids, skip_special_tokens=True) == "1, 2, 3"  # no leading space
    # Counting past 16 is cheap because every number up to 60 is one token.
    for number in range(1, 61):
        assert len(tokenizer(f" {number}", add_special_tokens=False)["input_ids"]) == 1
    # The generation config leaves the length to transformers' default (20 new tokens).
    generation_config = json.loads((MODEL_DIR / "generation_config.json").read_text())
    assert "max_length" not in generation_config and "max_new_tokens" not in generation_config
    assert "pad_token_id" not in generation_config
    assert generation_config["bos_token_id"] == 1 and generation_config["eos_token_id"] == 2
    assert model.generation_config.do_sample is False
    assert next(model.parameters()).dtype == torch.float32


# ---------------------------------------------------------------- behaviours


def test_greedy_completes_the_color_list(model, tokenizer):
    text, new_tokens = generate_one(model, tokenizer, COLOR_PROMPT)
    assert text == COLOR_ANSWER
    assert new_tokens[-1] == tokenizer.eos_token_id  # stopped by itself, before the limit


def test_default_length_cuts_counting_after_20_new_tokens(model, tokenizer):
    with pytest.warns(UserWarning, match="max_length"):
        text, new_tokens = generate_one(model, tokenizer, COUNT_PROMPT)
    assert len(new_tokens) == 20
    assert tokenizer.eos_token_id not in new_tokens
    numbers = numbers_in(text)
    assert numbers == list(range(1, len(numbers) + 1))  # still counting, cut off mid-sequence
    assert text == "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"


def test_counting_continues_past_16_with_max_new_tokens(model, tokenizer):
    text, new_tokens = generate_one(model, tokenizer, COUNT_PROMPT, max_new_tokens=50)
    numbers = numbers_in(text)
    assert numbers == list(range(1, len(numbers) + 1))
    assert numbers[-1] >= 25


def test_greedy_repeats_itself(model, tokenizer):
    text, _ = generate_one(model, tokenizer, CAT_PROMPT)
    sentences = [sentence.strip() for sentence in text.split(".") if sentence.strip()]
    assert len(sentences) >= 4
    assert set(sentences) == {"I am a cat"}
    assert text.startswith("I am a cat. I am a cat. I am a cat. I am a cat.")


def test_seeded_sampling_is_varied_and_reproducible_across_processes(model, tokenizer):
    completed = subprocess.run(
        [sys.executable, "-c", SAMPLING_SCRIPT, str(MODEL_DIR)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    result_lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT:")]
    # The same script's calls in this process, on the same freshly loaded model: the same text.
    transformers.set_seed(0)
    here = model.generate(**tokenizer("I am a cat.", return_tensors="pt"), do_sample=True)
    results = [result_lines[-1][len("RESULT:"):], tokenizer.batch_decode(here, skip_special_tokens=True)[0]]
    assert results[0] == results[1]

    greedy_text, _ = generate_one(model, tokenizer, CAT_PROMPT)
    sampled_text = results[0]
    assert sampled_text.startswith(CAT_PROMPT)
    assert sampled_text != greedy_text
    sentences = {sentence.strip() for sentence in re.split(r"[.?]", sampled_text) if sentence.strip()}
    assert len(sentences - {"I am a cat"}) >= 1  # not just repetition


def test_batched_generation_needs_left_padding(model, tokenizer):
    unbatched = [generate_one(model, tokenizer, prompt)[0] for prompt in BATCH_PROMPTS]
    assert unbatched[0].startswith("1, 2, 3, 4, 5, 6")

    batch_tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
    batch_tokenizer.pad_token = batch_tokenizer.eos_token

    def generate_batch():
        inputs = batch_tokenizer(BATCH_PROMPTS, return_tensors="pt", padding=True)
        with torch.no_grad():
            output = model.generate(**inputs)
        return batch_tokenizer.batch_decode(output, skip_special_tokens=True)

    right_padded = generate_batch()  # padding_side="right" is the default
    assert right_padded[0] != unbatched[0]  # the short prompt went wrong

    batch_tokenizer.padding_side = "left"
    left_padded = generate_batch()
    assert left_padded == unbatched


def test_padding_without_pad_token_raises(tokenizer):
    with pytest.raises(ValueError, match="padding token"):
        tokenizer(BATCH_PROMPTS, padding=True)


# ---------------------------------------------------------------- training


def test_retraining_is_deterministic(tmp_path):
    hashes = []
    for run in ("first", "second"):
        output_dir = tmp_path / run
        subprocess.run(
            [sys.executable, "-m", "course_tools.tiny.train", "--quick", "--output-dir", str(output_dir)],
            cwd=ROOT,
            capture_output=True, text=True, timeout=120, check=True,
        )
        facts = json.loads((output_dir / "training_facts.json").read_text())
        model_hash = file_sha256(output_dir / "model.safetensors")
        tokenizer_hash = file_sha256(output_dir / "tokenizer.json")
        assert facts["sha256"] == {"model.safetensors": model_hash, "tokenizer.json": tokenizer_hash}
        hashes.append((model_hash, tokenizer_hash))
    assert hashes[0] == hashes[1]

    # The retrained folder loads like the shipped one.
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "first")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "first")
    assert tokenizer("1, 2")["input_ids"][0] == model.config.bos_token_id == 1
