"""The pitfall doctor: look at a planned `generate()` call before it runs and name every pitfall it hits.

Taught in notebook 09 (generate() inside an application). `diagnose(model, tokenizer, inputs,
**generate_kwargs)` takes exactly what you are about to pass to `model.generate(**inputs,
**generate_kwargs)` and returns a `Diagnosis`: a list of `Finding`s, each with the pitfall, the
evidence from this call (ids, rows, numbers), the fix, and the notebook that teaches it. It
runs no generation; only the top-k rule runs one forward pass over the prompt, and only when
the call samples with `top_p` or `min_p` and leaves `top_k` unset.

Every rule reads the same settings that `generate()` would use (transformers 5.24,
`GenerationMixin._prepare_generation_config`): a keyword argument first, then the fields of
a `generation_config=` you pass, then `model.generation_config`, then the library's global
defaults (`GenerationConfig._get_default_generation_params`). `tests/test_diagnose.py`
proves each rule against the real library: a call that hits it (the doctor finds it and
`generate()` really misbehaves as the finding says) and the fixed call (the doctor is silent
and the output is right); the README lists every rule with its test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from companion.errors import ArgumentTypeError, CompanionError
from companion.generation import end_of_sequence_ids
from companion.language import Messages
from companion.validation import context_length, require_model, require_tokenizer, type_name

MESSAGES = Messages(__name__, {
    "header": {
        "en": "The doctor found {count} pitfall(s) in this generate() call:",
        "de": "Der Doktor hat {count} Falle(n) in diesem generate()-Aufruf gefunden:",
    },
    "healthy": {
        "en": "The doctor found no pitfall in this generate() call.",
        "de": "Der Doktor hat in diesem generate()-Aufruf keine Falle gefunden.",
    },
    "labels": {
        "en": "   evidence: {evidence}\n   fix:      {fix}\n   taught in notebook {notebook}",
        "de": "   Befund:   {evidence}\n   Abhilfe:  {fix}\n   erklärt in Notebook {notebook}",
    },
    # ---- right padding (notebook 04)
    "right_padding": {
        "en": "Right padding: a decoder-only model continues from the last position of each row.",
        "de": "Padding auf der rechten Seite: Ein Decoder-only-Modell schreibt an der letzten Position "
              "jeder Zeile weiter.",
    },
    "right_padding_evidence": {
        "en": "attention_mask is 0 in the last column of row(s) {rows}: those prompts end in padding, so "
            "the model continues from padding, not from their last word.",
        "de": "Attention_mask ist in der letzten Spalte der Zeile(n) {rows} gleich 0: Diese Prompts enden mit "
            "Padding, also schreibt das Modell nach dem Padding weiter, nicht nach ihrem letzten Wort.",
    },
    "right_padding_fix": {
        "en": 'set tokenizer.padding_side = "left" before tokenizing the batch.',
        "de": 'Setzen Sie tokenizer.padding_side = "left", bevor Sie den Batch tokenisieren.',
    },
    # ---- no attention mask where pad = eos (notebook 04)
    "no_attention_mask": {
        "en": "No attention mask, and generate() cannot infer one: the pad token is the EOS token.",
        "de": "Keine Attention Mask, und generate() kann keine ableiten: Der Pad-Token ist der EOS-Token.",
    },
    "no_attention_mask_evidence": {
        "en": "no attention_mask was passed; the pad id {pad_id} is also an EOS id, and row(s) {rows} carry "
            "{count} padding position(s) of it, so generate() uses a mask of all ones and the model reads that "
            "padding as text.",
        "de": "Es wurde keine attention_mask übergeben; die Pad-ID {pad_id} ist auch eine EOS-ID, und die Zeile(n) "
            "{rows} tragen {count} Padding-Position(en) davon, also nimmt generate() eine Maske aus lauter Einsen, "
            "und das Modell liest dieses Padding als Text.",
    },
    "no_attention_mask_fix": {
        "en": "pass the tokenizer's attention_mask too: model.generate(**inputs, ...) instead of "
            "model.generate(inputs['input_ids'], ...).",
        "de": "Übergeben Sie auch die attention_mask des Tokenizers: model.generate(**inputs, ...) statt "
            "model.generate(inputs['input_ids'], ...).",
    },
    # ---- no length (notebook 02)
    "no_length": {
        "en": "No length given: generate() falls back to a default that cuts the answer short.",
        "de": "Keine Länge angegeben: generate() nimmt einen Standardwert, der die Antwort abschneidet.",
    },
    "no_length_default_evidence": {
        "en": "neither max_new_tokens nor max_length is set (not in the call, not in the generation config), "
            "so generate() stops after {new_tokens} new tokens (transformers 5.24's default max_length=20, "
            "counted after the prompt).",
        "de": "Weder max_new_tokens noch max_length ist gesetzt (weder im Aufruf noch in der "
            "Generierungskonfiguration), "
            "also hört generate() nach {new_tokens} neuen Tokens auf (der Standardwert max_length=20 von "
            "transformers 5.24, nach dem Prompt gezählt).",
    },
    "no_length_config_evidence": {
        "en": "the call sets no max_new_tokens; the generation config's max_length={max_length} counts the "
            "prompt's {prompt_length} tokens too, which leaves {new_tokens} new tokens.",
        "de": "Der Aufruf setzt kein max_new_tokens; max_length={max_length} aus der Generierungskonfiguration "
            "zählt die "
            "{prompt_length} Tokens des Prompts mit, sodass {new_tokens} neue Tokens übrig bleiben.",
    },
    "no_length_fix": {
        "en": "pass max_new_tokens=... (the most tokens the answer may have).",
        "de": "Übergeben Sie max_new_tokens=... (die größte Zahl an Tokens, die die Antwort haben darf).",
    },
    # ---- sampling flags without do_sample (notebook 03)
    "sampling_flags_ignored": {
        "en": "Sampling settings without sampling: generate() decodes greedily and ignores them.",
        "de": "Sampling-Einstellungen ohne Sampling: generate() dekodiert greedy und ignoriert sie.",
    },
    "sampling_flags_ignored_evidence": {
        "en": "the call sets {flags}, but do_sample is {do_sample}, so every run gives the same greedy text.",
        "de": "Der Aufruf setzt {flags}, aber do_sample ist {do_sample}, also liefert jeder Lauf denselben "
            "Greedy-Text.",
    },
    "sampling_flags_ignored_fix": {
        "en": "add do_sample=True to sample with these settings (or remove them and say do_sample=False).",
        "de": "Ergänzen Sie do_sample=True, um mit diesen Einstellungen zu samplen (oder entfernen Sie sie und "
            "schreiben Sie do_sample=False).",
    },
    # ---- sampling inherited from the generation config (notebook 03)
    "inherited_sampling": {
        "en": "Sampling you did not ask for: the model's generation config turns it on.",
        "de": "Sampling, um das Sie nicht gebeten haben: Die Generierungskonfiguration des Modells schaltet es ein.",
    },
    "inherited_sampling_evidence": {
        "en": "the call does not set do_sample, and model.generation_config has do_sample=True ({settings}), "
            "as a checkpoint's generation_config.json often does: each run draws a different answer.",
        "de": "Der Aufruf setzt do_sample nicht, und model.generation_config hat do_sample=True ({settings}), "
            "wie es die generation_config.json eines Checkpoints oft festlegt: Jeder Lauf zieht eine andere Antwort.",
    },
    "inherited_sampling_fix": {
        "en": "say it in the call: do_sample=False for the greedy answer, or do_sample=True (with a seed) on purpose.",
        "de": "Legen Sie es im Aufruf fest: do_sample=False für die Greedy-Antwort oder do_sample=True (mit Seed) "
            "mit Absicht.",
    },
    # ---- the default top-k when sampling (notebook 03)
    "default_top_k": {
        "en": "A hidden top-k: sampling also keeps only the {top_k} most likely tokens.",
        "de": "Ein verstecktes Top-k: Das Sampling behält außerdem nur die {top_k} wahrscheinlichsten Tokens.",
    },
    "default_top_k_evidence": {
        "en": "the call sets {flags} but no top_k, so top_k={top_k} applies first ({source}); after the prompt "
            "(row {row}) your settings alone would keep {kept} tokens, but with the top {top_k} cut first only "
            "{left} remain to draw from.",
        "de": "Der Aufruf setzt {flags}, aber kein top_k, also wird zuerst top_k={top_k} angewendet ({source}); nach "
            "dem Prompt (Zeile {row}) würden Ihre Einstellungen allein {kept} Tokens behalten, aber nach dem Schnitt "
            "auf die besten {top_k} bleiben nur {left} zum Ziehen übrig.",
    },
    "default_top_k_source_default": {
        "en": "transformers 5.24's default",
        "de": "Standardwert von transformers 5.24",
    },
    "default_top_k_source_config": {
        "en": "from model.generation_config",
        "de": "aus model.generation_config",
    },
    "default_top_k_fix": {
        "en": "pass top_k=0 to let only your {flags} decide (or pass the top_k you want).",
        "de": "Übergeben Sie top_k=0, damit nur Ihr {flags} entscheidet (oder das top_k, das Sie wollen).",
    },
    # ---- an instruct model prompted without its chat template (notebook 05)
    "no_chat_template": {
        "en": "An instruct model prompted without its chat template.",
        "de": "Ein Instruct-Modell ohne sein Chat-Template aufgerufen.",
    },
    "no_chat_template_evidence": {
        "en": "the tokenizer has a chat template whose special tokens {markers} appear in no row of input_ids: "
            "the model continues your text instead of answering it.",
        "de": "Der Tokenizer hat ein Chat-Template, dessen Spezial-Tokens {markers} in keiner Zeile von input_ids "
            "vorkommen: Das Modell setzt Ihren Text fort, statt ihn zu beantworten.",
    },
    "no_chat_template_fix": {
        "en": "put the request in a chat and let the template write the prompt: inputs = "
            "tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors='pt', "
            "return_dict=True).",
        "de": "Schreiben Sie die Bitte in einen Chat, und lassen Sie das Template den Prompt schreiben: inputs = "
            "tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors='pt', "
            "return_dict=True).",
    },
    # ---- a chat template without the generation prompt (notebook 05)
    "no_generation_prompt": {
        "en": "A chat template without the generation prompt: the assistant's turn is never opened.",
        "de": "Ein Chat-Template ohne Generation Prompt: Der Zug des Assistenten wird nie eröffnet.",
    },
    "no_generation_prompt_evidence": {
        "en": "row(s) {rows} end with {ending} instead of the assistant's header {header}: the model must "
            "open the turn itself and may go on with another turn instead of answering.",
        "de": "Zeile(n) {rows} enden mit {ending} statt mit dem Kopf des Assistenten {header}: Das Modell muss "
            "den Zug selbst eröffnen und schreibt womöglich einen anderen Zug weiter, statt zu antworten.",
    },
    "no_generation_prompt_fix": {
        "en": "pass add_generation_prompt=True to apply_chat_template.",
        "de": "Übergeben Sie add_generation_prompt=True an apply_chat_template.",
    },
    # ---- a special token doubled by template plus tokenizer (notebook 05)
    "doubled_special_token": {
        "en": "A doubled special token: the chat template wrote it and the tokenizer added it again.",
        "de": "Ein doppelter Spezial-Token: Das Chat-Template hat ihn geschrieben, und der Tokenizer hat ihn "
            "noch einmal angefügt.",
    },
    "doubled_special_token_evidence": {
        "en": "row(s) {rows} begin with {token} twice; the model never saw that in training.",
        "de": "Zeile(n) {rows} beginnen zweimal mit {token}; das hat das Modell im Training nie gesehen.",
    },
    "doubled_special_token_fix": {
        "en": "tokenize the template's text with tokenizer(text, add_special_tokens=False), or let "
            "apply_chat_template(..., return_dict=True) tokenize it.",
        "de": "Tokenisieren Sie den Text des Templates mit tokenizer(text, add_special_tokens=False), oder lassen "
            "Sie apply_chat_template(..., return_dict=True) tokenisieren.",
    },
    # ---- a prompt longer than the context (notebook 09)
    "prompt_too_long": {
        "en": "Longer than the model's context: positions past it were never trained.",
        "de": "Länger als der Kontext des Modells: Positionen dahinter wurden nie trainiert.",
    },
    "prompt_too_long_evidence": {
        "en": "{prompt_length} prompt tokens + {new_tokens} new tokens = {total} positions, more than "
            "model.config.max_position_embeddings={limit}.",
        "de": "{prompt_length} Tokens im Prompt + {new_tokens} neue Tokens = {total} Positionen, mehr als "
            "model.config.max_position_embeddings={limit}.",
    },
    "prompt_too_long_fix": {
        "en": "keep prompt + max_new_tokens within {limit}: shorten the prompt (keep its end) or lower max_new_tokens.",
        "de": "Halten Sie Prompt + max_new_tokens innerhalb von {limit}: Kürzen Sie den Prompt (behalten Sie "
            "sein Ende) oder senken Sie max_new_tokens.",
    },
    # ---- decoding that includes the prompt (notebook 02)
    "decoding_includes_prompt": {
        "en": "The decoded answer will include the prompt.",
        "de": "Die dekodierte Antwort wird den Prompt enthalten.",
    },
    "decoding_includes_prompt_evidence": {
        "en": "your decode function, given row {row}'s prompt ids plus one new token, returned {text}: "
            "generate() returns the prompt's ids in front of the new ones.",
        "de": "Ihre Dekodier-Funktion hat für die Prompt-IDs der Zeile {row} plus einen neuen Token {text} "
            "geliefert: generate() gibt die IDs des Prompts vor den neuen zurück.",
    },
    "decoding_includes_prompt_fix": {
        "en": "decode only the new columns: generated_ids[:, inputs['input_ids'].shape[1]:].",
        "de": "Dekodieren Sie nur die neuen Spalten: generated_ids[:, inputs['input_ids'].shape[1]:].",
    },
})

# Every rule of the doctor, in the order it checks them, with the notebook that teaches its
# pitfall. The README's rule table lists the same rules with their tests (tests/test_diagnose.py
# checks that the two agree).
RULES: dict[str, str] = {
    "right_padding": "04",
    "no_attention_mask": "04",
    "no_length": "02",
    "sampling_flags_ignored": "03",
    "inherited_sampling": "03",
    "default_top_k": "03",
    "no_chat_template": "05",
    "no_generation_prompt": "05",
    "doubled_special_token": "05",
    "prompt_too_long": "09",
    "decoding_includes_prompt": "02",
}

# Settings that act only when sampling (transformers 5.24, GenerationConfig.validate warns for these),
# with the value that means "off".
SAMPLING_FLAGS: dict[str, float | None] = {
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": None,
    "min_p": None,
    "typical_p": 1.0,
}


@dataclass(frozen=True)
class Finding:
    """One pitfall a planned `generate()` call hits.

    Attributes:
        rule: the rule's name, a key of RULES (e.g. "right_padding").
        pitfall: one sentence naming the pitfall.
        evidence: what in this call shows it (rows, ids, numbers).
        fix: what to change.
        notebook: the course notebook that teaches it ("04").
    """

    rule: str
    pitfall: str
    evidence: str
    fix: str
    notebook: str

    def __str__(self) -> str:
        return f"- {self.pitfall}\n" + MESSAGES("labels", evidence=self.evidence, fix=self.fix, notebook=self.notebook)


class Diagnosis(list):
    """The findings of `diagnose`, a list of `Finding`s (empty: no pitfall found). Printing it explains each."""

    @property
    def rules(self) -> list[str]:
        """The names of the rules that fired, in order."""
        return [finding.rule for finding in self]

    def __str__(self) -> str:
        if not self:
            return MESSAGES("healthy")
        return "\n".join([MESSAGES("header", count=len(self))] + [str(finding) for finding in self])

    def __repr__(self) -> str:
        return str(self)


def finding(rule: str, *, evidence: str, fix: str, **fields) -> Finding:
    """Build the Finding of `rule` from the catalogue, in the current language."""
    return Finding(rule=rule, pitfall=MESSAGES(rule, **fields), evidence=evidence, fix=fix, notebook=RULES[rule])


class CallSettings:
    """The settings a `generate()` call will use, resolved as transformers 5.24 resolves them.

    `value(name)`: the keyword argument, else the passed `generation_config=`'s field, else
    `model.generation_config`'s, else the global default. `explicit(name)`: whether the call
    itself (keyword or passed config) sets it.
    """

    def __init__(self, model, generate_kwargs: dict):
        from transformers import GenerationConfig

        self.kwargs = generate_kwargs
        self.passed_config = generate_kwargs.get("generation_config")
        if self.passed_config is not None and not isinstance(self.passed_config, GenerationConfig):
            raise ArgumentTypeError(
                f"generation_config must be a transformers.GenerationConfig, got {type_name(self.passed_config)}: "
                "build one with GenerationConfig(max_new_tokens=..., do_sample=...)."
            )
        self.model_config = model.generation_config
        self.defaults = GenerationConfig._get_default_generation_params()

    def explicit(self, name: str) -> bool:
        if name in self.kwargs and self.kwargs[name] is not None:
            return True
        return self.passed_config is not None and getattr(self.passed_config, name, None) is not None

    def value(self, name: str):
        if name in self.kwargs and self.kwargs[name] is not None:
            return self.kwargs[name]
        for config in (self.passed_config, self.model_config):
            if config is not None and getattr(config, name, None) is not None:
                return getattr(config, name)
        return self.defaults.get(name)

    def samples(self) -> bool:
        return self.value("do_sample") is True


def split_inputs(inputs, generate_kwargs: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The call's input_ids (b, t) and attention_mask (b, t) or None, from `inputs` and the keyword arguments."""
    if isinstance(inputs, torch.Tensor):
        input_ids = inputs
        attention_mask = generate_kwargs.get("attention_mask")
    elif isinstance(inputs, Mapping) or hasattr(inputs, "keys"):
        if "input_ids" not in inputs:
            raise CompanionError(
                f"inputs has no 'input_ids' (keys: {sorted(inputs.keys())}): pass what "
                "tokenizer(prompts, return_tensors='pt') or apply_chat_template(..., return_dict=True) returns."
            )
        input_ids = inputs["input_ids"]
        attention_mask = inputs.get("attention_mask", generate_kwargs.get("attention_mask"))
    else:
        raise ArgumentTypeError(
            f"inputs must be the tokenizer's output (a dict with 'input_ids') or a tensor of input ids, got "
            f"{type_name(inputs)}: pass inputs = tokenizer(prompts, return_tensors='pt'), as you would to generate()."
        )
    if not isinstance(input_ids, torch.Tensor) or input_ids.dim() != 2 or input_ids.shape[1] == 0:
        raise CompanionError(
            "inputs['input_ids'] must be a tensor of shape (batch, length) with length >= 1: tokenize with "
            "return_tensors='pt'."
        )
    if attention_mask is not None and (
        not isinstance(attention_mask, torch.Tensor) or attention_mask.shape != input_ids.shape
    ):
        raise CompanionError(
            "attention_mask must be a tensor of the same shape as input_ids: pass the tokenizer's own mask."
        )
    return input_ids, attention_mask


def real_rows(input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> list[list[int]]:
    """Each row's ids without its padding (the positions where the mask is 1; all of them without a mask)."""
    rows = []
    for row in range(input_ids.shape[0]):
        ids = input_ids[row]
        if attention_mask is not None:
            ids = ids[attention_mask[row].bool()]
        rows.append([int(token_id) for token_id in ids.tolist()])
    return rows


def shown(tokenizer, token_ids: list[int]) -> str:
    """Token ids as the text a learner recognises, quoted ('<|im_start|>assistant\\n')."""
    return repr(tokenizer.decode(token_ids, skip_special_tokens=False))


def chat_template_parts(tokenizer) -> tuple[set[int], list[int]] | None:
    """The special token ids the chat template writes, and the ids of its generation prompt; None without a template.

    Both come from rendering one probe message with the tokenizer's own template, with and
    without `add_generation_prompt`; the generation prompt is what the first adds at the end.
    """
    if not getattr(tokenizer, "chat_template", None):
        return None
    probe = [{"role": "user", "content": "Hello"}]
    with_prompt = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)
    without_prompt = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=False)
    special_ids = set(tokenizer.all_special_ids) | {
        token_id for token_id, token in tokenizer.added_tokens_decoder.items() if token.special
    }
    rendered_ids = tokenizer(with_prompt, add_special_tokens=False)["input_ids"]
    markers = {token_id for token_id in rendered_ids if token_id in special_ids}
    header: list[int] = []
    if with_prompt.startswith(without_prompt) and len(with_prompt) > len(without_prompt):
        header = tokenizer(with_prompt[len(without_prompt):], add_special_tokens=False)["input_ids"]
    return markers, header


def padding_and_mask_findings(settings, input_ids, attention_mask) -> list[Finding]:
    findings = []
    if attention_mask is not None:
        right_padded = [row for row in range(input_ids.shape[0])
                        if attention_mask[row, -1] == 0 and attention_mask[row].any()]
        if right_padded:
            findings.append(finding(
                "right_padding",
                evidence=MESSAGES("right_padding_evidence", rows=right_padded),
                fix=MESSAGES("right_padding_fix"),
            ))
        return findings
    eos_ids = end_of_sequence_ids(eos_token_id=settings.value("eos_token_id"))  # the ids the call settled on
    pad_id = settings.value("pad_token_id")
    if pad_id is None and eos_ids:
        pad_id = eos_ids[0]  # what _prepare_special_tokens does in transformers 5.24
    if pad_id is not None and int(pad_id) in eos_ids and input_ids.shape[0] > 1:
        padding = padding_runs(input_ids, int(pad_id))
        if len(set(padding)) > 1:  # rows padded to a common length; equal runs are the prompts' own tokens
            findings.append(finding(
                "no_attention_mask",
                evidence=MESSAGES(
                    "no_attention_mask_evidence", pad_id=int(pad_id), count=sum(padding),
                    rows=[row for row, count in enumerate(padding) if count],
                ),
                fix=MESSAGES("no_attention_mask_fix"),
            ))
    return findings


def padding_runs(input_ids: torch.Tensor, pad_id: int) -> list[int]:
    """Per row: how many pad ids it has at its start (left padding) or at its end (right padding).

    Pad ids inside a prompt are text, not padding: a chat template writes the EOS token after
    every turn (SmolLM2's <|im_end|>), and for such models the pad token is that same token.
    """
    counts = []
    for row in input_ids.tolist():
        leading = next((index for index, token_id in enumerate(row) if token_id != pad_id), len(row))
        trailing = next((index for index, token_id in enumerate(reversed(row)) if token_id != pad_id), len(row))
        counts.append(max(leading, trailing))
    return counts


def planned_new_tokens(settings, prompt_length: int) -> int:
    """How many new tokens generate() will at most add (max_new_tokens, else max_length minus the prompt, else 20)."""
    if settings.value("max_new_tokens") is not None:
        return int(settings.value("max_new_tokens"))
    if settings.value("max_length") is not None and (
        settings.explicit("max_length") or settings.model_config.max_length is not None
    ):
        return max(int(settings.value("max_length")) - prompt_length, 0)
    return int(settings.defaults["max_length"])  # counted after the prompt (_prepare_generated_length)


def length_findings(settings, prompt_length: int) -> list[Finding]:
    if settings.value("max_new_tokens") is not None or settings.explicit("max_length"):
        return []
    new_tokens = planned_new_tokens(settings, prompt_length)
    if settings.model_config.max_length is not None:
        evidence = MESSAGES("no_length_config_evidence", max_length=settings.model_config.max_length,
                            prompt_length=prompt_length, new_tokens=new_tokens)
    else:
        evidence = MESSAGES("no_length_default_evidence", new_tokens=new_tokens)
    return [finding("no_length", evidence=evidence, fix=MESSAGES("no_length_fix"))]


def set_sampling_flags(settings) -> dict[str, object]:
    """The sampling-only settings the call itself sets to something other than 'off'."""
    flags = {}
    for name, off in SAMPLING_FLAGS.items():
        if settings.explicit(name):
            value = settings.kwargs.get(name, getattr(settings.passed_config, name, None))
            if value is not None and value != off:
                flags[name] = value
    return flags


def flags_text(flags: dict[str, object]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in flags.items())


def sampling_findings(model, settings, input_ids, attention_mask) -> list[Finding]:
    findings = []
    flags = set_sampling_flags(settings)
    if not settings.samples() and flags:
        findings.append(finding(
            "sampling_flags_ignored",
            evidence=MESSAGES("sampling_flags_ignored_evidence", flags=flags_text(flags),
                              do_sample=repr(settings.value("do_sample"))),
            fix=MESSAGES("sampling_flags_ignored_fix"),
        ))
    if not settings.explicit("do_sample") and settings.model_config.do_sample is True:
        inherited = {name: getattr(settings.model_config, name) for name in ("temperature", "top_k", "top_p")
                     if getattr(settings.model_config, name, None) is not None}
        findings.append(finding(
            "inherited_sampling",
            evidence=MESSAGES("inherited_sampling_evidence", settings=flags_text(inherited) or "do_sample=True"),
            fix=MESSAGES("inherited_sampling_fix"),
        ))
    if settings.samples() and not settings.explicit("top_k"):
        top_k = settings.value("top_k")
        cutting = {name: flags[name] for name in ("top_p", "min_p") if name in flags}
        if top_k and cutting:
            kept_by_row = tokens_kept(model, settings, input_ids, attention_mask, top_k=None)
            row = max(range(len(kept_by_row)), key=lambda index: kept_by_row[index])
            if kept_by_row[row] > top_k:
                left = tokens_kept(model, settings, input_ids[row:row + 1],
                                   None if attention_mask is None else attention_mask[row:row + 1], top_k=top_k)[0]
                source = ("default_top_k_source_config" if settings.model_config.top_k is not None
                          else "default_top_k_source_default")
                findings.append(finding(
                    "default_top_k", top_k=int(top_k),
                    evidence=MESSAGES("default_top_k_evidence", flags=flags_text(cutting), top_k=int(top_k),
                                      source=MESSAGES(source), row=row, kept=kept_by_row[row], left=left),
                    fix=MESSAGES("default_top_k_fix", flags=flags_text(cutting)),
                ))
    return findings


def tokens_kept(model, settings, input_ids, attention_mask, top_k: int | None) -> list[int]:
    """Per row: how many next tokens the call's sampling settings leave after the prompt, with or without `top_k`.

    Applies transformers' own warpers in the order generate() does (transformers 5.24,
    `GenerationMixin._get_logits_processor`): TemperatureLogitsWarper, TopKLogitsWarper,
    TopPLogitsWarper, MinPLogitsWarper; `top_k=None` leaves the top-k step out.
    """
    from transformers import MinPLogitsWarper, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
    with torch.inference_mode():
        scores = model(input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device)).logits[:, -1].float()
    temperature = settings.value("temperature")
    if temperature is not None and temperature != 1.0:
        scores = TemperatureLogitsWarper(float(temperature))(input_ids, scores)
    if top_k:
        scores = TopKLogitsWarper(int(top_k))(input_ids, scores)
    if settings.value("top_p") is not None and settings.value("top_p") < 1.0:
        scores = TopPLogitsWarper(float(settings.value("top_p")))(input_ids, scores)
    if settings.value("min_p") is not None:
        scores = MinPLogitsWarper(float(settings.value("min_p")))(input_ids, scores)
    return [int(count) for count in torch.isfinite(scores).sum(dim=-1).tolist()]


def contains(row: list[int], part: list[int]) -> bool:
    """True if `part` occurs in `row` as a contiguous run of ids."""
    return any(row[start:start + len(part)] == part for start in range(len(row) - len(part) + 1))


def opens_assistant_turn(row: list[int], markers: set[int], header: list[int]) -> bool:
    """True if the assistant's header comes after the last end-of-turn token of a templated row.

    The end-of-turn tokens are the template's special tokens that are not part of the header
    (SmolLM2's <|im_end|>). A row that ends with the header (add_generation_prompt=True) opens
    the turn; so does one that continues the assistant's own message after its header
    (`continue_final_message=True`, a prefilled answer).
    """
    end_of_turn = markers - set(header)
    last_end = max((index for index, token_id in enumerate(row) if token_id in end_of_turn), default=None)
    if last_end is None:
        return row[-len(header):] == header
    return contains(row[last_end + 1:], header)


def chat_format_findings(tokenizer, rows) -> list[Finding]:
    findings = []
    parts = chat_template_parts(tokenizer)
    if parts is not None:
        markers, header = parts
        templated = [index for index, row in enumerate(rows) if markers & set(row)]
        if markers and not templated:
            findings.append(finding(
                "no_chat_template",
                evidence=MESSAGES("no_chat_template_evidence", markers=shown(tokenizer, sorted(markers))),
                fix=MESSAGES("no_chat_template_fix"),
            ))
        missing = [index for index in templated if header and not opens_assistant_turn(rows[index], markers, header)]
        if missing:
            findings.append(finding(
                "no_generation_prompt",
                evidence=MESSAGES("no_generation_prompt_evidence", rows=missing,
                                  ending=shown(tokenizer, rows[missing[0]][-len(header):]),
                                  header=shown(tokenizer, header)),
                fix=MESSAGES("no_generation_prompt_fix"),
            ))
    # Only the BOS token: it is what a tokenizer adds in front by itself (left padding repeats the pad id).
    bos_id = tokenizer.bos_token_id
    doubled = [index for index, row in enumerate(rows)
               if bos_id is not None and bos_id != tokenizer.pad_token_id and row[:2] == [bos_id, bos_id]]
    if doubled:
        findings.append(finding(
            "doubled_special_token",
            evidence=MESSAGES("doubled_special_token_evidence", rows=doubled,
                              token=shown(tokenizer, rows[doubled[0]][:1])),
            fix=MESSAGES("doubled_special_token_fix"),
        ))
    return findings


def context_findings(model, settings, prompt_length: int) -> list[Finding]:
    limit = context_length(model)
    new_tokens = planned_new_tokens(settings, prompt_length)
    if limit is None or prompt_length + new_tokens <= limit:
        return []
    return [finding(
        "prompt_too_long",
        evidence=MESSAGES("prompt_too_long_evidence", prompt_length=prompt_length, new_tokens=new_tokens,
                          total=prompt_length + new_tokens, limit=limit),
        fix=MESSAGES("prompt_too_long_fix", limit=limit),
    )]


def shortened(text: str, most: int = 60) -> str:
    """`text` quoted, its middle left out when it is longer than `most` characters."""
    if len(text) <= most:
        return repr(text)
    return repr(text[: most // 2]) + " ... " + repr(text[-most // 2:])


def decoding_findings(tokenizer, decode, input_ids, rows) -> list[Finding]:
    """Run the learner's decode function on the prompt's ids plus one new token; does the prompt come back?"""
    one_new_token = input_ids[:, -1:]  # any token the model could write will do
    decoded = decode(torch.cat([input_ids, one_new_token], dim=1))
    if isinstance(decoded, str):
        decoded = [decoded]
    if not isinstance(decoded, (list, tuple)) or not all(isinstance(text, str) for text in decoded):
        raise ArgumentTypeError(
            f"decode must return the decoded texts (a list of str, like tokenizer.batch_decode), got "
            f"{type_name(decoded)}."
        )
    for row, text in enumerate(decoded[: len(rows)]):
        prompt_text = tokenizer.decode(rows[row], skip_special_tokens=True).strip()
        if len(rows[row]) > 1 and prompt_text and prompt_text in text:
            return [finding(
                "decoding_includes_prompt",
                evidence=MESSAGES("decoding_includes_prompt_evidence", row=row, text=shortened(text)),
                fix=MESSAGES("decoding_includes_prompt_fix"),
            )]
    return []


def diagnose(model, tokenizer, inputs, /, *, decode: Callable | None = None, **generate_kwargs) -> Diagnosis:
    """Look at a planned `model.generate(**inputs, **generate_kwargs)` call and name every pitfall it hits.

    Args:
        model: the causal LM you will call `generate()` on.
        tokenizer: its tokenizer (the chat template, special tokens and decoding come from it).
        inputs: what you pass to generate(): the tokenizer's output (a dict with "input_ids" of
            shape (b, t) and usually "attention_mask" (b, t)), or a LongTensor of input ids (b, t).
        decode: optional, your decoding step as a function of the generated ids (b, t + new) that
            returns b texts, e.g. `lambda ids: tokenizer.batch_decode(ids, skip_special_tokens=True)`;
            the doctor runs it on the prompt plus one token to see whether the prompt comes back.
        **generate_kwargs: the keyword arguments you will pass to generate() (max_new_tokens,
            do_sample, temperature, attention_mask, generation_config, ...; also `tokenizer=`,
            which generate() needs for stop_strings: model, tokenizer and inputs are positional).
    Returns:
        a Diagnosis (a list of Finding, empty when no rule fires); print it for the explanation.
    Runs no generation. Taught in notebook 09; the rules are `RULES`.
    """
    require_model(model)
    require_tokenizer(tokenizer)
    if decode is not None and not callable(decode):
        raise ArgumentTypeError(
            f"decode must be a function of the generated ids, got {type_name(decode)}: e.g. "
            "decode=lambda ids: tokenizer.batch_decode(ids[:, prompt_length:], skip_special_tokens=True)."
        )
    input_ids, attention_mask = split_inputs(inputs, generate_kwargs)
    settings = CallSettings(model, generate_kwargs)
    rows = real_rows(input_ids, attention_mask)
    prompt_length = input_ids.shape[1]
    findings = Diagnosis()
    findings += padding_and_mask_findings(settings, input_ids, attention_mask)
    findings += length_findings(settings, prompt_length)
    findings += sampling_findings(model, settings, input_ids, attention_mask)
    findings += chat_format_findings(tokenizer, rows)
    findings += context_findings(model, settings, prompt_length)
    if decode is not None:
        findings += decoding_findings(tokenizer, decode, input_ids, rows)
    return findings
