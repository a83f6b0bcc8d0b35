"""Tests for companion/doctor.py (notebook 09): every rule of the pitfall doctor, proven against the real generate().

For each rule: a call that hits it (the doctor finds it, and `model.generate()` of transformers
5.24 really misbehaves as the finding says) and the fixed call (the doctor is silent, and the
output is right). Nothing is mocked: the models are the course's own, the calls are real, and
the expected results are computed from the model in use. The README's rule table names these
tests (test_readme_lists_every_rule_with_its_test checks it). That the doctor raises no false
alarm on the notebooks' own generate() calls is the sweep that rides along strict nbval
(tests/doctor_sweep.py; its static checks are in tests/test_diagnose_notebooks.py).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from transformers import set_seed

import companion
from companion.doctor import RULES, Diagnosis, diagnose
from companion.errors import ArgumentTypeError, CompanionError
from companion.language import set_language
from companion.models import tutorial_tiny_folder

README = Path(__file__).resolve().parent.parent / "README.md"


@contextmanager
def transformers_log():
    """Collect what transformers logs (its warnings go to the "transformers" logger, which does not propagate)."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    logging.Logger.warning_once.cache_clear()  # transformers' warning_once: show this test's warnings again
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def generate(model, inputs, **kwargs) -> torch.Tensor:
    with torch.inference_mode():
        if isinstance(inputs, torch.Tensor):
            return model.generate(inputs, **kwargs)
        return model.generate(**inputs, **kwargs)


def new_ids(output: torch.Tensor, inputs) -> torch.Tensor:
    input_ids = inputs if isinstance(inputs, torch.Tensor) else inputs["input_ids"]
    return output[:, input_ids.shape[1]:]


@pytest.fixture()
def tiny_padded(tiny):
    """A copy of tutorial-tiny's tokenizer with EOS as pad token (Llama has none), for batches."""
    tokenizer = copy.deepcopy(tiny[1])
    tokenizer.pad_token = tokenizer.eos_token
    return tiny[0], tokenizer


BATCH = ["A list of colors: red, blue", "I am a cat."]  # of different lengths: the second is padded
LONG_BATCH = ["A sequence of numbers: 1, 2, 3, 4, 5, 6, 7", "I am a cat."]  # the second gets 13 pad tokens


def alone(model, tokenizer, prompt, max_new_tokens):
    """The greedy new ids of `prompt` on its own (no padding): the right answer for its row of a batch."""
    inputs = tokenizer([prompt], return_tensors="pt")
    return new_ids(generate(model, inputs, max_new_tokens=max_new_tokens, do_sample=False), inputs)[0]


def same_until_end(row: torch.Tensor, reference: torch.Tensor, eos_id: int) -> bool:
    """True if a batch row's new ids equal the reference up to the reference's EOS
    (a finished row is padded after it)."""
    length = reference.shape[0]
    if eos_id in reference.tolist():
        length = reference.tolist().index(eos_id) + 1
    return torch.equal(row[:length], reference[:length])


# ------------------------------------------------------------------------------------------ rules


def test_right_padding(tiny_padded):
    model, tokenizer = tiny_padded
    tokenizer.padding_side = "right"
    broken = tokenizer(BATCH, return_tensors="pt", padding=True)
    findings = diagnose(model, tokenizer, broken, max_new_tokens=10, do_sample=False)
    assert findings.rules == ["right_padding"]
    assert "[1]" in findings[0].evidence
    with transformers_log() as log:
        output = generate(model, broken, max_new_tokens=10, do_sample=False)
    assert any("right-padding was detected" in line for line in log)
    reference = alone(model, tokenizer, BATCH[1], 10)
    assert not same_until_end(new_ids(output, broken)[1], reference, tokenizer.eos_token_id)

    tokenizer.padding_side = "left"
    fixed = tokenizer(BATCH, return_tensors="pt", padding=True)
    assert diagnose(model, tokenizer, fixed, max_new_tokens=10, do_sample=False) == []
    output = generate(model, fixed, max_new_tokens=10, do_sample=False)
    for row, prompt in enumerate(BATCH):
        assert same_until_end(new_ids(output, fixed)[row], alone(model, tokenizer, prompt, 10), tokenizer.eos_token_id)


def test_no_attention_mask(tiny_padded):
    model, tokenizer = tiny_padded
    tokenizer.padding_side = "left"
    inputs = tokenizer(LONG_BATCH, return_tensors="pt", padding=True)
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    findings = diagnose(model, tokenizer, inputs["input_ids"], max_new_tokens=10, do_sample=False)
    assert findings.rules == ["no_attention_mask"]
    padding = int((inputs["attention_mask"] == 0).sum())
    assert f"carry {padding} padding position(s)" in findings[0].evidence
    with transformers_log() as log:
        output = generate(model, inputs["input_ids"], max_new_tokens=10, do_sample=False)
    assert any("cannot be inferred from input because pad token is same as eos token" in line for line in log)
    reference = alone(model, tokenizer, LONG_BATCH[1], 10)
    assert not same_until_end(new_ids(output, inputs)[1], reference, tokenizer.eos_token_id)
    assert tokenizer.decode(new_ids(output, inputs)[1], skip_special_tokens=True) == ""  # it read the padding as EOS

    assert diagnose(model, tokenizer, inputs, max_new_tokens=10, do_sample=False) == []
    output = generate(model, inputs, max_new_tokens=10, do_sample=False)
    assert same_until_end(new_ids(output, inputs)[1], reference, tokenizer.eos_token_id)


def test_no_length(tiny):
    model, tokenizer = tiny
    inputs = tokenizer(["A sequence of numbers: 1, 2"], return_tensors="pt")
    findings = diagnose(model, tokenizer, inputs, do_sample=False)
    assert findings.rules == ["no_length"]
    assert "20 new tokens" in findings[0].evidence
    cut = new_ids(generate(model, inputs, do_sample=False), inputs)[0]
    assert cut.shape[0] == 20 and tokenizer.eos_token_id not in cut.tolist()  # stopped mid-answer

    assert diagnose(model, tokenizer, inputs, max_new_tokens=60, do_sample=False) == []
    whole = new_ids(generate(model, inputs, max_new_tokens=60, do_sample=False), inputs)[0]
    assert whole.shape[0] > 20 and torch.equal(whole[:20], cut)


def test_no_length_counts_the_prompt_when_the_config_sets_max_length(tmp_path):
    folder = tmp_path / "tiny-with-max-length"
    shutil.copytree(tutorial_tiny_folder(), folder)
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "max_length": 12}))
    model, tokenizer = companion.load_model(str(folder))
    inputs = tokenizer(["A sequence of numbers: 1, 2"], return_tensors="pt")
    prompt_length = inputs["input_ids"].shape[1]
    findings = diagnose(model, tokenizer, inputs, do_sample=False)
    assert findings.rules == ["no_length"]
    assert f"leaves {12 - prompt_length} new tokens" in findings[0].evidence
    assert new_ids(generate(model, inputs, do_sample=False), inputs).shape[1] == 12 - prompt_length


def test_sampling_flags_ignored(tiny):
    model, tokenizer = tiny
    inputs = tokenizer(["My name is"], return_tensors="pt")
    findings = diagnose(model, tokenizer, inputs, max_new_tokens=12, temperature=1.5)
    assert findings.rules == ["sampling_flags_ignored"]
    greedy = generate(model, inputs, max_new_tokens=12, do_sample=False)
    with transformers_log() as log:
        runs = []
        for seed in range(4):
            set_seed(seed)
            runs.append(generate(model, inputs, max_new_tokens=12, temperature=1.5))
    assert any("'temperature'" in line and "may be ignored" in line for line in log)
    assert all(torch.equal(run, greedy) for run in runs)  # the temperature changed nothing: greedy every time

    assert diagnose(model, tokenizer, inputs, max_new_tokens=12, do_sample=True, temperature=1.5) == []
    samples = []
    for seed in range(4):
        set_seed(seed)
        samples.append(generate(model, inputs, max_new_tokens=12, do_sample=True, temperature=1.5))
    assert any(not torch.equal(sample, greedy) for sample in samples)


@pytest.fixture()
def sampling_checkpoint(tmp_path):
    """tutorial-tiny saved with a generation_config.json that turns sampling on, as many hub checkpoints do."""
    folder = tmp_path / "tiny-that-samples"
    shutil.copytree(tutorial_tiny_folder(), folder)
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "do_sample": True, "temperature": 1.5}))
    return companion.load_model(str(folder))


def test_inherited_sampling(sampling_checkpoint, tiny):
    model, tokenizer = sampling_checkpoint
    inputs = tokenizer(["My name is"], return_tensors="pt")
    findings = diagnose(model, tokenizer, inputs, max_new_tokens=12)
    assert findings.rules == ["inherited_sampling"]
    assert "temperature=1.5" in findings[0].evidence
    greedy = generate(tiny[0], inputs, max_new_tokens=12, do_sample=False)  # the same weights, greedy
    runs = []
    for seed in range(4):
        set_seed(seed)
        runs.append(generate(model, inputs, max_new_tokens=12))
    assert any(not torch.equal(run, greedy) for run in runs)  # it sampled although the call never asked

    assert diagnose(model, tokenizer, inputs, max_new_tokens=12, do_sample=False) == []
    for seed in range(2):
        set_seed(seed)
        assert torch.equal(generate(model, inputs, max_new_tokens=12, do_sample=False), greedy)


def finite_per_step(output) -> list[int]:
    """How many tokens could still be drawn at each step: the finite scores after generate()'s processors."""
    return [int(torch.isfinite(step[0]).sum()) for step in output.scores]


@pytest.mark.slow
def test_default_top_k(smollm2):
    model, tokenizer = smollm2
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Tell me a story."}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    findings = diagnose(model, tokenizer, inputs, max_new_tokens=3, do_sample=True, top_p=0.95)
    assert findings.rules == ["default_top_k"]
    kept, left = map(
        int, re.search(r"alone would keep (\d+) tokens.* only (\d+) remain", findings[0].evidence).groups()
    )
    assert kept > 50 and left < kept
    set_seed(0)
    output = model.generate(**inputs, max_new_tokens=1, do_sample=True, top_p=0.95,
                            output_scores=True, return_dict_in_generate=True)
    assert finite_per_step(output) == [left]  # top_p=0.95 alone keeps `kept`; the default top_k=50 came first

    assert diagnose(model, tokenizer, inputs, max_new_tokens=3, do_sample=True, top_p=0.95, top_k=0) == []
    set_seed(0)
    output = model.generate(**inputs, max_new_tokens=1, do_sample=True, top_p=0.95, top_k=0,
                            output_scores=True, return_dict_in_generate=True)
    assert finite_per_step(output) == [kept]  # now top_p alone decides, as the doctor computed


@pytest.mark.slow
def test_no_chat_template(smollm2):
    model, tokenizer = smollm2
    question = "What is the capital of France?"
    raw = tokenizer([question], return_tensors="pt")
    findings = diagnose(model, tokenizer, raw, max_new_tokens=20, do_sample=False)
    assert findings.rules == ["no_chat_template"]
    answer = tokenizer.decode(new_ids(generate(model, raw, max_new_tokens=20, do_sample=False), raw)[0],
                              skip_special_tokens=True)
    assert answer.strip() == ""  # no answer: the model ended the turn it thought it was in

    fixed = tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                          return_tensors="pt", return_dict=True)
    assert diagnose(model, tokenizer, fixed, max_new_tokens=20, do_sample=False) == []
    # The template writes <|im_end|> (EOS and pad) after each turn: that is text, not padding, so one
    # prompt without its mask is fine (generate() then uses a mask of all ones, which is right here).
    assert tokenizer.pad_token_id in fixed["input_ids"][0].tolist()
    assert diagnose(model, tokenizer, fixed["input_ids"], max_new_tokens=20, do_sample=False) == []
    answer = tokenizer.decode(new_ids(generate(model, fixed, max_new_tokens=20, do_sample=False), fixed)[0],
                              skip_special_tokens=True)
    assert answer.strip()


@pytest.mark.slow
def test_no_generation_prompt(smollm2):
    model, tokenizer = smollm2
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    broken = tokenizer.apply_chat_template(messages, add_generation_prompt=False, return_tensors="pt", return_dict=True)
    fixed = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    header = fixed["input_ids"][0, broken["input_ids"].shape[1]:].tolist()  # what add_generation_prompt appends
    findings = diagnose(model, tokenizer, broken, max_new_tokens=20, do_sample=False)
    assert findings.rules == ["no_generation_prompt"]
    assert repr(tokenizer.decode(header)) in findings[0].evidence
    written = new_ids(generate(model, broken, max_new_tokens=20, do_sample=False), broken)[0].tolist()
    assert written[: len(header)] == header  # the model had to open the assistant's turn itself
    assert tokenizer.decode(written, skip_special_tokens=True).startswith("assistant")  # and the text shows it

    assert diagnose(model, tokenizer, fixed, max_new_tokens=20, do_sample=False) == []
    answer = new_ids(generate(model, fixed, max_new_tokens=20, do_sample=False), fixed)[0].tolist()
    assert answer[: len(header)] != header
    assert written[len(header): len(header) + 5] == answer[:5]  # the same answer, without the header in it

    # A prefilled answer (continue_final_message=True, notebook 05) continues the assistant's turn: no finding.
    prefill = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": "The capital"}],
                                            continue_final_message=True, return_tensors="pt", return_dict=True)
    assert diagnose(model, tokenizer, prefill, max_new_tokens=20, do_sample=False) == []
    continued = new_ids(generate(model, prefill, max_new_tokens=20, do_sample=False), prefill)[0].tolist()
    assert continued[: len(header)] != header


@pytest.fixture()
def tiny_with_bos_template(tiny):
    """tutorial-tiny's tokenizer with a chat template that writes the BOS token itself, as Llama's templates do."""
    tokenizer = copy.deepcopy(tiny[1])
    tokenizer.chat_template = "{{ bos_token }}{% for message in messages %}{{ message['content'] }}{% endfor %}"
    return tiny[0], tokenizer


def test_doubled_special_token(tiny_with_bos_template):
    model, tokenizer = tiny_with_bos_template
    text = tokenizer.apply_chat_template([{"role": "user", "content": "I am a cat."}], tokenize=False)
    broken = tokenizer(text, return_tensors="pt")  # the tokenizer adds a second BOS
    findings = diagnose(model, tokenizer, broken, max_new_tokens=8, do_sample=False)
    assert findings.rules == ["doubled_special_token"]
    kwargs = {"max_new_tokens": 1, "do_sample": False, "output_scores": True, "return_dict_in_generate": True}
    with torch.inference_mode():
        broken_output = model.generate(**broken, **kwargs)
    bos = tokenizer.bos_token_id
    assert broken_output.sequences[0, :2].tolist() == [bos, bos]  # the model reads two BOS tokens

    fixed = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    assert diagnose(model, tokenizer, fixed, max_new_tokens=8, do_sample=False) == []
    templated = tokenizer.apply_chat_template([{"role": "user", "content": "I am a cat."}], return_dict=True)
    assert fixed["input_ids"][0].tolist() == templated["input_ids"]  # what apply_chat_template tokenizes
    with torch.inference_mode():
        fixed_output = model.generate(**fixed, **kwargs)
    assert fixed_output.sequences[0, :2].tolist() != [bos, bos]
    # the doubled token changes the prediction
    assert not torch.allclose(broken_output.scores[0], fixed_output.scores[0])


def test_prompt_too_long(tiny):
    model, tokenizer = tiny
    limit = model.config.max_position_embeddings
    inputs = tokenizer(["I am a cat." * 45], return_tensors="pt")
    prompt_length = inputs["input_ids"].shape[1]
    assert prompt_length < limit < prompt_length + 40
    findings = diagnose(model, tokenizer, inputs, max_new_tokens=40, min_new_tokens=40, do_sample=False)
    assert findings.rules == ["prompt_too_long"]
    assert f"= {prompt_length + 40} positions" in findings[0].evidence
    with transformers_log() as log:
        output = generate(model, inputs, max_new_tokens=40, min_new_tokens=40, do_sample=False)
    assert output.shape[1] > limit  # generate() went on past the positions the model has
    assert any("exceeded the model's predefined maximum length" in line for line in log)

    keep = limit - 40
    fixed = {name: tensor[:, -keep:] for name, tensor in inputs.items()}  # keep the prompt's end
    assert diagnose(model, tokenizer, fixed, max_new_tokens=40, min_new_tokens=40, do_sample=False) == []
    with transformers_log() as log:
        output = generate(model, fixed, max_new_tokens=40, min_new_tokens=40, do_sample=False)
    assert output.shape[1] <= limit
    assert not any("predefined maximum length" in line for line in log)


def test_decoding_includes_prompt(tiny):
    model, tokenizer = tiny
    prompt = "A list of colors: red, blue"
    inputs = tokenizer([prompt], return_tensors="pt")

    def broken(ids):
        return tokenizer.batch_decode(ids, skip_special_tokens=True)

    def fixed(ids):
        return tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    findings = diagnose(model, tokenizer, inputs, max_new_tokens=10, do_sample=False, decode=broken)
    assert findings.rules == ["decoding_includes_prompt"]
    output = generate(model, inputs, max_new_tokens=10, do_sample=False)
    assert broken(output)[0].startswith(prompt)

    assert diagnose(model, tokenizer, inputs, max_new_tokens=10, do_sample=False, decode=fixed) == []
    answer = fixed(output)[0]
    assert prompt not in answer and broken(output)[0] == prompt + answer


# ------------------------------------------------------------------------------------- the rest


def test_a_correct_call_and_a_generation_config_pass(tiny):
    from transformers import GenerationConfig

    model, tokenizer = tiny
    inputs = tokenizer(["I am a cat."], return_tensors="pt")
    assert diagnose(model, tokenizer, inputs, max_new_tokens=10, do_sample=False) == []
    config = GenerationConfig(max_new_tokens=10, do_sample=True, temperature=0.7)
    assert diagnose(model, tokenizer, inputs, generation_config=config) == []
    assert diagnose(model, tokenizer, inputs, generation_config=GenerationConfig(temperature=0.7)).rules == [
        "no_length", "sampling_flags_ignored"]


def test_several_findings_print_in_order_and_in_german(tiny_padded):
    model, tokenizer = tiny_padded
    tokenizer.padding_side = "right"
    inputs = tokenizer(BATCH, return_tensors="pt", padding=True)
    findings = diagnose(model, tokenizer, inputs, temperature=0.7)
    assert isinstance(findings, Diagnosis)
    assert findings.rules == ["right_padding", "no_length", "sampling_flags_ignored"]
    text = str(findings)
    assert text.startswith("The doctor found 3 pitfall(s)") and "taught in notebook 04" in text
    try:
        set_language("de")
        german = str(diagnose(model, tokenizer, inputs, temperature=0.7))
    finally:
        set_language("en")
    assert german.startswith("Der Doktor hat 3 Falle(n)") and "erklärt in Notebook 04" in german


@pytest.mark.parametrize("arguments, error, words", [
    ((None, "tokenizer", "inputs"), ArgumentTypeError, "model must be"),
    (("model", None, "inputs"), ArgumentTypeError, "load_model"),
])
def test_bad_model_or_tokenizer(arguments, error, words):
    with pytest.raises(error, match=words):
        diagnose(*arguments)


def test_bad_inputs_say_what_to_pass(tiny):
    model, tokenizer = tiny
    with pytest.raises(ArgumentTypeError, match="inputs must be the tokenizer's output"):
        diagnose(model, tokenizer, "I am a cat.", max_new_tokens=5)
    with pytest.raises(CompanionError, match="no 'input_ids'"):
        diagnose(model, tokenizer, {"ids": torch.ones(1, 3, dtype=torch.long)}, max_new_tokens=5)
    with pytest.raises(CompanionError, match="shape \\(batch, length\\)"):
        diagnose(model, tokenizer, torch.ones(3, dtype=torch.long), max_new_tokens=5)
    inputs = tokenizer(["I am a cat."], return_tensors="pt")
    with pytest.raises(ArgumentTypeError, match="decode must be a function"):
        diagnose(model, tokenizer, inputs, max_new_tokens=5, decode="batch_decode")
    with pytest.raises(ArgumentTypeError, match="decode must return the decoded texts"):
        diagnose(model, tokenizer, inputs, max_new_tokens=5, decode=lambda ids: ids)
    with pytest.raises(ArgumentTypeError, match="generation_config must be a transformers.GenerationConfig"):
        diagnose(model, tokenizer, inputs, generation_config={"max_new_tokens": 5})


def test_readme_lists_every_rule_with_its_test():
    text = README.read_text()
    table = text[text.index("<!-- doctor-rules:start -->"): text.index("<!-- doctor-rules:end -->")]
    listed = re.findall(r"^\| `(\w+)` \| (\d\d) \|.*`(test_\w+)`", table, flags=re.MULTILINE)
    assert [rule for rule, _, _ in listed] == list(RULES)
    tests = {name for name in globals() if name.startswith("test_")}
    for rule, notebook, test in listed:
        assert notebook == RULES[rule]
        assert test in tests, f"the README names {test} for {rule}, which tests/test_diagnose.py lacks"
