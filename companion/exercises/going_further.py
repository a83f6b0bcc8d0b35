"""Checks for the exercises of notebook 06, going further: latency, throughput, memory
(`notebooks/src/06_going_further.py`).

Each check computes the right answer itself from what the notebook measured, so the
exercises work with any MODEL and on any machine, and prints "Correct!" or a hint
(see `companion.exercises.report`).
Every text it prints or raises comes from MESSAGES at the end of this module, in the
notebook's language.
"""

from __future__ import annotations

import math

import torch

from companion.decoding import ForwardPassRecorder
from companion.errors import CompanionError
from companion.exercises import Verdict, report
from companion.exercises.answers import is_list_of_strings, is_number, is_whole_number
from companion.generation import generate_text, pad_token_id_or_eos, tokenize_batch
from companion.language import Messages
from companion.memory import bytes_per_parameter
from companion.throughput import weight_bytes

# The guide's model, openlm-research/open_llama_7b, has about 7 billion parameters.
SEVEN_BILLION = 7e9
BYTES_PER_PARAMETER = {"fp32": bytes_per_parameter(32), "bf16": bytes_per_parameter(16), "4bit": bytes_per_parameter(4)}


def check_floor_ms_per_token(answer, model, bandwidth_gb_per_s: float) -> Verdict:
    """Exercise 2: the fastest possible time per new token, in milliseconds, on this machine.

    Args:
        answer: a number, milliseconds per token.
        model: the notebook's model (each decoding step reads all its weights once).
        bandwidth_gb_per_s: the measured memory bandwidth in GB/s (1 GB = 10**9 bytes).
    Returns:
        whether `answer` is weight bytes / bandwidth, in ms (within 2 %).
    A wrong answer prints a hint; a bandwidth that is not a positive number (the notebook's
    measurement, not the learner's answer) raises a CompanionError that says what to pass.
    """
    if not is_number(bandwidth_gb_per_s) or bandwidth_gb_per_s <= 0:
        raise CompanionError(MESSAGES("floor_bandwidth_invalid", bandwidth_gb_per_s=bandwidth_gb_per_s))
    expected = weight_bytes(model) / (bandwidth_gb_per_s * 1e9) * 1000
    correct = is_number(answer) and math.isclose(answer, expected, rel_tol=0.02)
    if not is_number(answer):
        hint = MESSAGES("floor_not_number")
    elif math.isclose(answer, expected / 1000, rel_tol=0.02):
        hint = MESSAGES("floor_seconds")
    elif math.isclose(answer, expected * 1000, rel_tol=0.02) or math.isclose(answer, expected * 1e6, rel_tol=0.02):
        hint = MESSAGES("floor_units")
    elif math.isclose(answer, 1 / expected, rel_tol=0.02) or math.isclose(answer, 1000 / expected, rel_tol=0.02):
        hint = MESSAGES("floor_upside_down")
    else:
        hint = MESSAGES("floor_general")
    return report(correct, MESSAGES("floor_praise"), hint)


def check_seven_billion_memory(answer) -> Verdict:
    """Exercise 4: memory for the weights of a 7-billion-parameter model, in GB, per precision.

    Args:
        answer: a dict {"fp32": GB, "bf16": GB, "4bit": GB} (1 GB = 10**9 bytes).
    Returns:
        whether each value is within 15 % of parameters x bytes per parameter
        (real 4-bit checkpoints are a little larger: scales and unquantized layers).
    """
    expected = {name: SEVEN_BILLION * size / 1e9 for name, size in BYTES_PER_PARAMETER.items()}
    if not isinstance(answer, dict) or set(answer) != set(expected):
        return report(False, "", MESSAGES("memory_not_dict"))
    wrong = [name for name in expected
             if not (is_number(answer[name]) and math.isclose(answer[name], expected[name], rel_tol=0.15))]
    if not wrong:
        return report(True, MESSAGES("memory_praise"), "")
    name = wrong[0]
    value = answer[name]
    if is_number(value) and math.isclose(value, expected[name] * 8, rel_tol=0.15):
        hint = MESSAGES("memory_bits", name=name)
    elif is_number(value) and math.isclose(value, expected[name] * 1e9, rel_tol=0.15):
        hint = MESSAGES("memory_bytes", name=name)
    else:
        hint = MESSAGES("memory_general", name=name)
    return report(False, "", hint)


def check_batch_forward_passes(answer, model, tokenizer, prompts, max_new_tokens: int) -> Verdict:
    """Predict, then run: how many forward passes one `generate()` call makes for a batch.

    The call is greedy, on `prompts` padded on the left, with `max_new_tokens` and
    `min_new_tokens` both set to `max_new_tokens` (no row stops early).
    Args:
        answer: the predicted number of forward passes (an int).
        model, tokenizer: the notebook's model; prompts: a list of strings.
    Returns:
        whether `answer` equals the count of a `ForwardPassRecorder` around the real call.
    """
    if not is_number(answer) or int(answer) != answer:
        return report(False, "", MESSAGES("passes_not_whole"))
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device)
    with torch.inference_mode():
        with ForwardPassRecorder(model) as passes:
            model.generate(
                **model_inputs, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, do_sample=False,
                pad_token_id=pad_token_id_or_eos(tokenizer),
            )
    if answer == passes.count:
        return report(True, MESSAGES("passes_praise"), "")
    if answer == passes.count * len(prompts):
        hint = MESSAGES("passes_per_row")
    elif answer in (passes.count - 1, passes.count + 1):
        hint = MESSAGES("passes_close")
    else:
        hint = MESSAGES("passes_count")
    return report(False, "", hint)


def check_left_padded_answers(answer, model, tokenizer, prompts, max_new_tokens: int) -> Verdict:
    """Fix a broken call: the greedy answers of a correctly padded batch (new text only, one per prompt).

    Args:
        answer: a list of strings, the decoded new tokens of each prompt (special tokens skipped).
        model, tokenizer: the notebook's model; prompts: the batch's strings.
        max_new_tokens: the call's token budget.
    Returns:
        whether `answer` equals `companion.generate_text` (left padding, greedy) on the batch.
    """
    if not is_list_of_strings(answer):
        return report(False, "", MESSAGES("answers_not_list"))
    if len(answer) != len(prompts):
        return report(False, "", MESSAGES("answers_count", count=len(prompts)))
    expected = generate_text(model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=False)
    if list(answer) == expected:
        return report(True, MESSAGES("answers_praise"), "")
    right_padded = generate_text(model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=False,
                                 side="right")
    if list(answer) == right_padded:
        hint = MESSAGES("answers_right_padded")
    elif all(text.strip().startswith(prompt.strip()[:10]) for text, prompt in zip(answer, prompts, strict=True)):
        hint = MESSAGES("answers_with_prompt")
    else:
        hint = MESSAGES("answers_differ")
    return report(False, "", hint)


GPU_PRECISIONS = {bits: bytes_per_parameter(bits) for bits in (32, 8, 4)}  # bits per weight -> bytes per weight
QUANTIZATION_FOR_BITS = {32: "None", 8: '"8bit"', 4: '"4bit"'}  # the QUANTIZATION parameter that loads them


def check_quantization_for_gpu(answer, gpu_gb: float = 6.0) -> Verdict:
    """Change a setting to reach a goal: the precision (bits per weight) with the most bits whose 7B
    weights fit `gpu_gb`.

    Args:
        answer: 32, 8 or 4, the bits per weight of QUANTIZATION = None, "8bit" or "4bit" (None is the
            untouched placeholder, never an answer).
        gpu_gb: GPU memory for the weights, in GB (1 GB = 10**9 bytes).
    Returns:
        whether `answer` is the most precise setting whose weights (7e9 x bytes per weight) fit.
    """
    if not is_whole_number(answer) or answer not in GPU_PRECISIONS:
        return report(False, "", MESSAGES("gpu_choose"))
    fitting = [setting for setting, size in GPU_PRECISIONS.items() if SEVEN_BILLION * size / 1e9 <= gpu_gb]
    best = max(fitting, key=lambda setting: GPU_PRECISIONS[setting]) if fitting else None
    needed_gb = SEVEN_BILLION * GPU_PRECISIONS[answer] / 1e9
    if fitting and answer == best:
        return report(True, MESSAGES("gpu_praise", needed_gb=needed_gb, gpu_gb=gpu_gb,
                                     setting=QUANTIZATION_FOR_BITS[answer]), "")
    if needed_gb > gpu_gb:
        hint = MESSAGES("gpu_too_big", needed_gb=needed_gb, gpu_gb=gpu_gb)
    else:
        hint = MESSAGES("gpu_more_precise")
    return report(False, "", hint)


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    # check_floor_ms_per_token: the fastest possible time per new token
    "floor_bandwidth_invalid": {
        "en": "bandwidth_gb_per_s must be a positive number of GB/s, got {bandwidth_gb_per_s!r}: pass the "
              "notebook's measurement, memory_bandwidth_gb_per_s()['copy_gb_per_s'].",
        "de": "bandwidth_gb_per_s muss eine positive Zahl in GB/s sein, erhalten wurde {bandwidth_gb_per_s!r}: "
              "Übergeben Sie die Messung aus dem Notebook, memory_bandwidth_gb_per_s()['copy_gb_per_s'].",
    },
    "floor_not_number": {
        "en": "the answer is one number, in milliseconds: how long reading every weight once takes at this bandwidth.",
        "de": "Die Antwort ist eine einzige Zahl in Millisekunden: wie lange es bei dieser Bandbreite dauert, "
              "jedes Gewicht einmal zu lesen.",
    },
    "floor_seconds": {
        "en": "that is in seconds; multiply by 1000 for milliseconds.",
        "de": "Das ist in Sekunden gerechnet; für Millisekunden multiplizieren Sie mit 1000.",
    },
    "floor_units": {
        "en": "check the units: GB/s means 10**9 bytes per second, and the answer is in milliseconds.",
        "de": "Prüfen Sie die Einheiten: GB/s bedeutet 10**9 Bytes pro Sekunde, und die Antwort ist in "
              "Millisekunden gefragt.",
    },
    "floor_upside_down": {
        "en": "that is upside down: time = bytes to read / bytes per second.",
        "de": "Da sind Zähler und Nenner vertauscht: Zeit = zu lesende Bytes / Bytes pro Sekunde.",
    },
    "floor_general": {
        "en": "one step reads every weight byte once; time is the bytes to read divided by the bytes per "
              "second the memory delivers (GB/s means 10**9 bytes per second).",
        "de": "Ein Schritt liest jedes Byte der Gewichte genau einmal; die Zeit ist die Zahl der zu lesenden "
              "Bytes geteilt durch die Bytes pro Sekunde, die der Speicher liefert (GB/s bedeutet 10**9 Bytes "
              "pro Sekunde).",
    },
    "floor_praise": {
        "en": "No implementation beats this floor without reading fewer bytes (smaller "
              "weights) or sharing each read among more tokens (batching).",
        "de": "Keine Implementierung unterbietet diese Untergrenze, außer sie liest weniger Bytes (kleinere "
              "Gewichte) oder teilt jeden Lesevorgang auf mehr Tokens auf (Batching).",
    },
    # check_seven_billion_memory: GB of weights of a 7B model per precision
    "memory_not_dict": {
        "en": 'hand in a dict with the keys "fp32", "bf16" and "4bit", one number (GB) each.',
        "de": 'Geben Sie ein Dict mit den Schlüsseln "fp32", "bf16" und "4bit" ab, mit je einer Zahl (in GB).',
    },
    "memory_praise": {
        "en": "28 GB in fp32 needs a large GPU; 3.5 GB in 4-bit fits a free Colab GPU, "
              "which is why the guide loads open_llama_7b in 4-bit.",
        "de": "28 GB in fp32 brauchen eine große GPU; 3,5 GB in 4-bit passen auf eine kostenlose Colab-GPU. "
              "Deshalb lädt die Anleitung open_llama_7b in 4-bit.",
    },
    "memory_bits": {
        "en": '"{name}": that counts bits; a byte has 8 of them.',
        "de": '"{name}": das zählt Bits; ein Byte besteht aus 8 davon.',
    },
    "memory_bytes": {
        "en": '"{name}": that is in bytes; divide by 10**9 for GB.',
        "de": '"{name}": das ist in Bytes gerechnet; teilen Sie durch 10**9, um GB zu erhalten.',
    },
    "memory_general": {
        "en": '"{name}": multiply 7 billion parameters by the bytes per parameter '
              "(fp32 = 32 bits, bf16 = 16 bits, 4-bit = 4 bits; 8 bits per byte).",
        "de": '"{name}": multiplizieren Sie 7 Milliarden Parameter mit den Bytes pro Parameter '
              "(fp32 = 32 Bit, bf16 = 16 Bit, 4-bit = 4 Bit; 8 Bit ergeben ein Byte).",
    },
    # check_batch_forward_passes: forward passes of one batched generate() call
    "passes_not_whole": {
        "en": "the answer is one whole number: how many times the model runs.",
        "de": "Die Antwort ist eine einzige ganze Zahl: wie oft das Modell durchlaufen wird.",
    },
    "passes_praise": {
        "en": "one forward pass per new token, and each pass serves every row of the batch: "
              "that shared read of the weights is where batching gets its speed.",
        "de": "Ein Durchlauf pro neuem Token, und jeder Durchlauf bedient alle Zeilen des Batches: Aus diesem "
              "gemeinsamen Lesen der Gewichte bezieht Batching seine Geschwindigkeit.",
    },
    "passes_per_row": {
        "en": "that is one pass per row and token; a pass computes the next token of every row at once.",
        "de": "Das wäre ein Durchlauf pro Zeile und Token; ein Durchlauf berechnet aber den nächsten Token "
              "aller Zeilen auf einmal.",
    },
    "passes_close": {
        "en": "close: which pass produces the first new token, and does the last token need a pass of its own?",
        "de": "Knapp daneben: Welcher Durchlauf erzeugt den ersten neuen Token, und braucht der letzte Token einen "
              "eigenen Durchlauf?",
    },
    "passes_count": {
        "en": "count the passes: one over the prompts, then one for each further new token, for the whole batch.",
        "de": "Zählen Sie die Durchläufe: einer über die Prompts, dann einer für jeden weiteren neuen Token, jeweils "
              "für den ganzen Batch.",
    },
    # check_left_padded_answers: the answers of the fixed, left-padded batch
    "answers_not_list": {
        "en": "hand in a list of strings: the decoded answer of each prompt.",
        "de": "Geben Sie eine Liste von Strings ab: die dekodierte Antwort zu jedem Prompt.",
    },
    "answers_count": {
        "en": "one answer per prompt: {count} strings.",
        "de": "Eine Antwort pro Prompt: {count} Strings.",
    },
    "answers_praise": {
        "en": "padded on the left, every row ends with its prompt's last token, where the "
              "next token is predicted.",
        "de": "Mit dem Padding links endet jede Zeile mit dem letzten Token ihres Prompts, und genau dort wird "
              "der nächste Token vorhergesagt.",
    },
    "answers_right_padded": {
        "en": "these are still the answers of the right-padded batch: read the warning under the broken cell.",
        "de": "Das sind noch die Antworten des rechts aufgefüllten Batches: Lesen Sie die Warnung unter der "
              "fehlerhaften Zelle.",
    },
    "answers_with_prompt": {
        "en": "decode only the new tokens, not the prompts in front of them.",
        "de": "Dekodieren Sie nur die neuen Tokens, nicht die Prompts davor.",
    },
    "answers_differ": {
        "en": "the answers differ from greedy decoding of a left-padded batch; check the padding side and do_sample.",
        "de": "Die Antworten weichen vom Greedy Decoding eines links aufgefüllten Batches ab; prüfen Sie die "
              "Seite des Paddings und do_sample.",
    },
    # check_quantization_for_gpu: the most precise QUANTIZATION that fits the GPU
    "gpu_choose": {
        "en": 'store the bits per weight of your choice in answer: 32 (QUANTIZATION = None), 8 ("8bit") '
              'or 4 ("4bit"), e.g. answer = 8.',
        "de": 'Speichern Sie die Bits pro Gewicht Ihrer Wahl in answer: 32 (QUANTIZATION = None), 8 ("8bit") '
              'oder 4 ("4bit"), z. B. answer = 8.',
    },
    "gpu_praise": {
        "en": "{needed_gb:g} GB of weights fit in {gpu_gb:g} GB; the next more precise setting would not. "
              "In the notebooks' settings cell that is QUANTIZATION = {setting}.",
        "de": "{needed_gb:g} GB an Gewichten passen in {gpu_gb:g} GB; die nächstgenauere Einstellung würde nicht "
              "mehr passen. In der Einstellungszelle der Notebooks ist das QUANTIZATION = {setting}.",
    },
    "gpu_too_big": {
        "en": "with that setting the weights alone need {needed_gb:g} GB: more than the {gpu_gb:g} GB.",
        "de": "Mit dieser Einstellung brauchen schon die Gewichte allein {needed_gb:g} GB: mehr als die "
              "{gpu_gb:g} GB.",
    },
    "gpu_more_precise": {
        "en": "that fits, but a setting with more bits per weight fits too, and keeps more quality.",
        "de": "Das passt, aber eine Einstellung mit mehr Bits pro Gewicht passt ebenfalls und erhält mehr Qualität.",
    },
})
