# %% [markdown] lang=en
# # 02 · Output too short or too long
#
# The most common surprise with `generate()`: the answer stops mid-sentence, or runs on far
# past the point you wanted. Both come down to the stop conditions of the generation loop
# from notebook 01: a length limit, the model's end-of-sequence token, or a stop string.
#
# **What you will learn**
#
# - where the 20-token default comes from, how it changed in transformers 4.47, and the
#   warning that tells you it was used
# - to set the limit yourself with `max_new_tokens`
# - that the output of `generate()` starts with the prompt, and how to keep only the new text
# - how the end-of-sequence (EOS) token ends generation early, and how `min_new_tokens` delays it
# - to stop at a piece of text with `stop_strings`
# - to keep settings together in a `GenerationConfig` object, save it, load it and pass it to
#   `generate()`, and which value wins when a keyword argument disagrees with it

# %% [markdown] lang=de
# # 02 · Ausgabe zu kurz oder zu lang
#
# Das ist die häufigste Überraschung mit `generate()`: Die Antwort bricht mitten im Satz ab,
# oder sie läuft weit über die Stelle hinaus, an der Sie aufhören wollten. Beides liegt an den
# Abbruchbedingungen der Generierungsschleife aus Notebook 01: an einer Längengrenze, am
# End-of-Sequence-Token des Modells oder an einem Stopp-String.
#
# **Was Sie lernen**
#
# - woher der Standardwert von 20 Tokens stammt, wie er sich mit transformers 4.47 geändert hat
#   und an welcher Warnung Sie erkennen, dass er benutzt wurde
# - die Grenze mit `max_new_tokens` selbst festzulegen
# - dass die Ausgabe von `generate()` mit dem Prompt beginnt und wie Sie nur den neuen Text
#   behalten
# - wie der End-of-Sequence-Token (EOS, der Token für „Ende des Textes“) die Generierung
#   vorzeitig beendet und wie `min_new_tokens` ihn hinauszögert
# - mit `stop_strings` an einem bestimmten Textstück anzuhalten
# - Einstellungen in einem `GenerationConfig`-Objekt zusammenzufassen, es zu speichern, zu laden
#   und an `generate()` zu übergeben, und welcher Wert gilt, wenn ein Keyword-Argument (ein
#   Argument, das Sie beim Aufruf mit seinem Namen übergeben) ihm widerspricht

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real 135M-parameter LLM, CPU, dequantized from Q4_1); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 50  # upper bound on new tokens per generate() call (the guide uses 50 here)
SEED = 0  # setup_notebook seeds Python, NumPy and torch with it, so sampling is repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %% [markdown] lang=en
# Notebook 01 showed the two `from_pretrained` calls; from here on `companion.load_model`
# makes them for us (same `device_map="auto"`, and a `BitsAndBytesConfig` when
# `QUANTIZATION` is set).

# %% [markdown] lang=de
# Notebook 01 hat die beiden Aufrufe von `from_pretrained` gezeigt; ab jetzt erledigt
# `companion.load_model` sie für Sie (mit demselben `device_map="auto"` und einer
# `BitsAndBytesConfig`, wenn `QUANTIZATION` gesetzt ist).

# %%
import torch

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(type(model).__name__)  # the setup line above names the device (cpu or cuda)

# %% [markdown] lang=en
# ## The 20-token default
#
# Let the model count, and call `generate()` without any length, on purpose:

# %% [markdown] lang=de
# ## Der Standardwert von 20 Tokens
#
# Lassen Sie das Modell zählen und rufen Sie `generate()` dabei absichtlich ohne jede
# Längenangabe auf:

# %%
model_inputs = tokenizer(["A sequence of numbers: 1, 2"], return_tensors="pt").to(model.device)
prompt_length = model_inputs["input_ids"].shape[1]

default_ids = model.generate(**model_inputs, do_sample=False)  # no max_new_tokens: the mistake, do not copy this
print(tokenizer.batch_decode(default_ids, skip_special_tokens=True)[0])
print(f"prompt: {prompt_length} tokens, new: {default_ids.shape[1] - prompt_length} tokens")

# %% [markdown] lang=en
# The count stops after 20 new tokens, in the middle of the sequence, and the warning under
# the cell says why: `Using the model-agnostic default max_length (=...)`. The number it
# reports is the prompt's length plus 20. The 20 comes from the model's `GenerationConfig`,
# or rather from its absence: this model's config sets no length at all.

# %% [markdown] lang=de
# Das Zählen endet nach 20 neuen Tokens mitten in der Zahlenfolge, und die Warnung unter der
# Zelle nennt den Grund: `Using the model-agnostic default max_length (=...)`. Die Zahl, die sie
# meldet, ist die Länge des Prompts plus 20. Die 20 stammen aus der `GenerationConfig` des
# Modells, genauer gesagt aus dem, was darin fehlt: Die Konfiguration dieses Modells legt
# überhaupt keine Länge fest.

# %%
print("max_length:    ", model.generation_config.max_length)
print("max_new_tokens:", model.generation_config.max_new_tokens)

# %% [markdown] lang=en
# When neither your call nor the model's generation config sets a length, `generate()` falls
# back to the model-agnostic default `max_length=20` (in transformers 5.24:
# `GenerationConfig._get_default_generation_params`) and warns, as above.
#
# What those 20 count has changed. **Since transformers 4.47.0**, `generate()` adds the
# prompt's length to the default (`_prepare_generated_length` in `generation/utils.py`, whose
# comment reads "by default let's always generate 20 new tokens"), so you get 20 *new*
# tokens however long the prompt is. **Up to 4.46** the 20 included the prompt: a 9-token
# prompt got at most 11 new tokens, and a prompt of 20 tokens or more left no room at all:
# from 4.38.0 to 4.46 `generate()` raised a `ValueError` for it ("Input length of input_ids
# is ..., but `max_length` is set to 20", `_validate_generated_length`), and up to 4.37 the
# same check only issued a `UserWarning`. The guide was written with that older behaviour: its default example stops
# at "1, 2, 3, 4, 5" because its 20 tokens include the prompt. Either way the default is
# rarely what you want.
#
# ## Setting the limit: `max_new_tokens`
#
# `max_new_tokens` sets how many tokens may be *added*, independent of the prompt's
# length. (`max_length` counts the prompt too, so the room it leaves for the answer
# changes with every prompt; prefer `max_new_tokens`.)

# %% [markdown] lang=de
# Wenn weder Ihr Aufruf noch die Generierungskonfiguration des Modells eine Länge festlegt,
# greift `generate()` auf den modellunabhängigen Standardwert `max_length=20` zurück (in
# transformers 5.24: `GenerationConfig._get_default_generation_params`) und warnt, wie oben zu
# sehen.
#
# Was diese 20 zählen, hat sich allerdings geändert. **Seit transformers 4.47.0** addiert
# `generate()` die Länge des Prompts zum Standardwert (`_prepare_generated_length` in
# `generation/utils.py`; der Kommentar dort lautet „by default let's always generate 20 new
# tokens“). Sie erhalten also 20 *neue* Tokens, ganz gleich, wie lang der Prompt ist. **Bis
# 4.46** steckte der Prompt in den 20: Ein Prompt aus 9 Tokens bekam höchstens 11 neue Tokens,
# und ein Prompt aus 20 oder mehr Tokens ließ gar keinen Platz: Von 4.38.0 bis 4.46 löste
# `generate()` dann einen `ValueError` aus („Input length of input_ids is ..., but `max_length` is
# set to 20“, `_validate_generated_length`), bis 4.37 gab dieselbe Prüfung nur eine `UserWarning`
# aus. Die
# Anleitung entstand noch mit diesem älteren Verhalten: Dort hört das Beispiel ohne Längenangabe bei
# „1, 2, 3, 4, 5“ auf, weil der Prompt in den 20 Tokens mitzählt. So oder so ist der
# Standardwert selten das, was Sie brauchen.
#
# ## Die Grenze selbst setzen: `max_new_tokens`
#
# `max_new_tokens` legt fest, wie viele Tokens *hinzukommen* dürfen, unabhängig von der Länge
# des Prompts. (`max_length` zählt den Prompt mit, sodass sich der Platz, der für die Antwort
# bleibt, mit jedem Prompt ändert; verwenden Sie lieber `max_new_tokens`.)

# %%
generated_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
print(tokenizer.batch_decode(generated_ids, skip_special_tokens=True)[0])
print(f"new: {generated_ids.shape[1] - prompt_length} tokens")

# %% [markdown] lang=en
# The guide's run with `max_new_tokens=50` ends at "16,". How far 50 tokens reach depends on
# how the tokenizer cuts the numbers. The guide's count fits a tokenizer that gives the comma,
# the space and every digit a token of its own: then ", 3" takes three tokens and ", 10" four,
# and 7 × 3 + 7 × 4 + 1 (the last comma) = 50 ends exactly at "16,". This is how the course
# model's tokenizer cuts the same piece:

# %% [markdown] lang=de
# Der Lauf der Anleitung mit `max_new_tokens=50` endet bei „16,“. Wie weit 50 Tokens reichen,
# hängt davon ab, wie der Tokenizer die Zahlen zerlegt. Die Zählung der Anleitung passt zu einem
# Tokenizer, der das Komma, das Leerzeichen und jede Ziffer zu einem eigenen Token macht: Dann
# braucht „, 3“ drei Tokens und „, 10“ vier, und 7 × 3 + 7 × 4 + 1 (das letzte Komma) = 50 endet
# genau bei „16,“. So zerlegt der Tokenizer des Kursmodells dasselbe Stück:

# %%
piece_ids = tokenizer(", 3, 16,", add_special_tokens=False)["input_ids"]
print(tokenizer.convert_ids_to_tokens(piece_ids))  # 'Ġ' marks a space at the start of a token

# %% [markdown] lang=en
# With `tutorial-tiny`, ", 3" and ", 16" are two tokens each (the comma, then the space and the
# number in one token), so 50 new tokens make 25 numbers and end at "27". `smollm2-135m` splits
# digits the way the guide's count suggests, and its run stops at "16," too.

# %% [markdown] lang=de
# Bei `tutorial-tiny` sind „, 3“ und „, 16“ jeweils zwei Tokens (das Komma, dann Leerzeichen und
# Zahl in einem Token). 50 neue Tokens ergeben also 25 Zahlen und enden bei „27“. `smollm2-135m`
# zerlegt die Ziffern so, wie es die Zählung der Anleitung nahelegt, und sein Lauf endet ebenfalls
# bei „16,“.

# %% [markdown] lang=en
# ## The prompt is part of the output
#
# A decoder-only model continues its input, so `generate()` returns the prompt's ids
# followed by the new ones. To keep only the new text, cut off the first `prompt_length`
# columns before decoding:

# %% [markdown] lang=de
# ## Der Prompt ist Teil der Ausgabe
#
# Ein Decoder-only-Modell (ein Modell, das seinen Text Token für Token nach rechts fortschreibt)
# setzt seine Eingabe fort. Deshalb liefert `generate()` zuerst die IDs des Prompts und dahinter
# die neuen. Wenn Sie nur den neuen Text behalten möchten, schneiden Sie vor dem Dekodieren die
# ersten `prompt_length` Spalten ab:

# %%
print("starts with the prompt:", torch.equal(generated_ids[:, :prompt_length], model_inputs["input_ids"]))
new_ids = generated_ids[:, prompt_length:]
print(repr(tokenizer.batch_decode(new_ids, skip_special_tokens=True)[0]))

# %% [markdown] lang=en
# `companion.generate_text` does this slicing for you (`return_full_text=False`, the default);
# with `return_full_text=True` it keeps the prompt, like decoding `generate()`'s output:

# %% [markdown] lang=de
# `companion.generate_text` übernimmt dieses Abschneiden für Sie (`return_full_text=False`, die
# Voreinstellung); mit `return_full_text=True` behält die Funktion den Prompt, genau wie beim
# Dekodieren der Ausgabe von `generate()`:

# %%
for return_full_text in (False, True):
    text = companion.generate_text(
        model, tokenizer, "A sequence of numbers: 1, 2", max_new_tokens=10, do_sample=False,
        return_full_text=return_full_text,
    )[0]
    print(f"return_full_text={return_full_text}: {text!r}")

# %% [markdown] lang=en
# ## The model can stop by itself: the EOS token
#
# A well-trained model ends a text by producing its *end-of-sequence* token. `generate()`
# stops as soon as it appears (its id is in the generation config), even if
# `max_new_tokens` would allow more.

# %% [markdown] lang=de
# ## Das Modell kann von selbst aufhören: der EOS-Token
#
# Ein gut trainiertes Modell beendet einen Text, indem es seinen *End-of-Sequence*-Token
# erzeugt. `generate()` hält an, sobald dieser Token auftaucht (seine ID steht in der
# Generierungskonfiguration), auch wenn `max_new_tokens` noch mehr erlauben würde.

# %%
print("EOS token:", repr(tokenizer.eos_token), "id", tokenizer.eos_token_id)
print("generation_config.eos_token_id:", model.generation_config.eos_token_id)

# %%
eos_ids = model.generation_config.eos_token_id
eos_ids = [eos_ids] if isinstance(eos_ids, int) else list(eos_ids or [])

color_inputs = tokenizer(["A list of colors: red, blue"], return_tensors="pt").to(model.device)
color_ids = model.generate(**color_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
new_color_ids = color_ids[0, color_inputs["input_ids"].shape[1]:]
print(repr(tokenizer.decode(new_color_ids)))  # special tokens kept, to see the EOS
print(f"{len(new_color_ids)} new tokens of at most {MAX_NEW_TOKENS}; "
      f"ended with EOS: {new_color_ids[-1].item() in eos_ids}")

# %% [markdown] lang=en
# With `tutorial-tiny` the list ends after a dozen tokens with `</s>`, far below the limit.
# (Decode with `skip_special_tokens=True` and the `</s>` disappears from the text.)
#
# If the model stops too early for your purpose, `min_new_tokens` forbids the EOS token
# until that many tokens have been generated. The model then has to keep going, which
# often just means rambling:

# %% [markdown] lang=de
# Mit `tutorial-tiny` endet die Liste nach einem Dutzend Tokens mit `</s>`, weit unterhalb der
# Grenze. (Dekodieren Sie mit `skip_special_tokens=True`, dann verschwindet `</s>` aus dem
# Text.)
#
# Hört das Modell für Ihren Zweck zu früh auf, verbietet `min_new_tokens` den EOS-Token so
# lange, bis mindestens so viele Tokens erzeugt sind. Das Modell muss dann weiterschreiben, und
# oft kommt dabei nur noch Geplapper heraus:

# %%
color_ids = model.generate(**color_inputs, max_new_tokens=MAX_NEW_TOKENS, min_new_tokens=20, do_sample=False)
new_color_ids = color_ids[0, color_inputs["input_ids"].shape[1]:]
print(repr(tokenizer.decode(new_color_ids)))
print(f"{len(new_color_ids)} new tokens")

# %% [markdown] lang=en
# ## Stopping at a piece of text: `stop_strings`
#
# Sometimes you know where the answer should end: at the end of a line, before the next
# question, after a number. `stop_strings` ends generation once the generated text contains
# one of the strings. `generate()` needs the tokenizer for this, to turn tokens back into
# text, so pass `tokenizer=tokenizer` as well. The stop string stays in the output.

# %% [markdown] lang=de
# ## An einem Textstück anhalten: `stop_strings`
#
# Manchmal wissen Sie genau, wo die Antwort enden soll: am Zeilenende, vor der nächsten Frage,
# nach einer Zahl. `stop_strings` beendet die Generierung, sobald der erzeugte Text einen der
# angegebenen Strings enthält. Dafür braucht `generate()` den Tokenizer, um Tokens wieder in
# Text zu verwandeln; übergeben Sie deshalb zusätzlich `tokenizer=tokenizer`. Der Stopp-String
# selbst bleibt in der Ausgabe stehen.

# %%
generated_ids = model.generate(
    **model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, stop_strings=["7"], tokenizer=tokenizer
)
print(tokenizer.batch_decode(generated_ids, skip_special_tokens=True)[0])

# %% [markdown] lang=en
# ## Settings as an object: `GenerationConfig`
#
# Every keyword argument of `generate()` we used so far is a field of a `GenerationConfig`.
# You can build one yourself, keep it, save it next to your code and pass it to
# `generate()` as `generation_config=`. Saving writes a `generation_config.json`, the same file
# a model on the hub ships with its weights:

# %% [markdown] lang=de
# ## Einstellungen als Objekt: `GenerationConfig`
#
# Jedes Keyword-Argument von `generate()`, das Sie bisher verwendet haben, ist ein Feld einer
# `GenerationConfig`. Sie können selbst eine solche Konfiguration anlegen, aufbewahren, neben
# Ihrem Code speichern und sie `generate()` als `generation_config=` übergeben. Beim Speichern
# entsteht eine Datei `generation_config.json`, dieselbe Datei, die ein Modell auf dem Hub
# zusammen mit seinen Gewichten mitliefert:

# %%
import os
import tempfile

from transformers import GenerationConfig

counting_config = GenerationConfig(max_new_tokens=12, do_sample=False)
with tempfile.TemporaryDirectory() as folder:  # a throwaway folder; use your own path to keep the file
    counting_config.save_pretrained(folder)
    print("files written:", sorted(os.listdir(folder)))
    loaded_config = GenerationConfig.from_pretrained(folder)
print(loaded_config)

# %%
config_ids = model.generate(**model_inputs, generation_config=loaded_config)
print(tokenizer.batch_decode(config_ids, skip_special_tokens=True)[0])
print(f"new: {config_ids.shape[1] - prompt_length} tokens")

# %% [markdown] lang=en
# No warning this time: the config sets the length. The fields it leaves unset are filled in
# from the model's own config, `model.generation_config` (loaded from the model's
# `generation_config.json`), and only then from the global defaults; that is how the EOS id
# still reaches the call (transformers 5.24, `_prepare_generation_config`):

# %% [markdown] lang=de
# Diesmal erscheint keine Warnung: Die Konfiguration legt die Länge fest. Felder, die sie
# offenlässt, werden aus der Konfiguration des Modells selbst ergänzt, also aus
# `model.generation_config` (geladen aus der `generation_config.json` des Modells), und erst
# danach aus den globalen Standardwerten. Auf diesem Weg gelangt die EOS-ID trotzdem in den
# Aufruf (transformers 5.24, `_prepare_generation_config`):

# %%
print(model.generation_config)

# %% [markdown] lang=en
# What if a keyword argument disagrees with the config you pass? In transformers 5.24 the
# keyword argument wins: `_prepare_generation_config` copies your config and then applies the
# keyword arguments on top. Here the config says 12 new tokens and the call says 5:

# %% [markdown] lang=de
# Was passiert, wenn ein Keyword-Argument der übergebenen Konfiguration widerspricht? In
# transformers 5.24 setzt sich das Keyword-Argument durch: `_prepare_generation_config` kopiert
# Ihre Konfiguration und wendet danach die Keyword-Argumente darauf an. Hier verlangt die
# Konfiguration 12 neue Tokens, der Aufruf dagegen 5:

# %%
conflict_ids = model.generate(**model_inputs, generation_config=loaded_config, max_new_tokens=5)
print(tokenizer.batch_decode(conflict_ids, skip_special_tokens=True)[0])
print(f"new: {conflict_ids.shape[1] - prompt_length} tokens (config: {loaded_config.max_new_tokens})")

# %% [markdown] lang=en
# Five tokens: the keyword argument won. The `[transformers]` line under the cell adds that
# mixing the two is deprecated and may stop working in a future version. Pass either a
# config or keyword arguments, not both. (transformers prints that line once per session.)
#
# ## Exercises
#
# **Exercise 1 (predict, then run).** The prompt below is 20 tokens or longer with the course
# models. How many new tokens will `model.generate(**long_inputs, max_length=40, do_sample=False)`
# add to it? Count the prompt's tokens, write your prediction as a number and run the check;
# then run the call yourself and count.

# %% [markdown] lang=de
# Fünf Tokens: Das Keyword-Argument hat gewonnen. Die Zeile mit `[transformers]` unter der Zelle
# ergänzt, dass das Mischen von beidem veraltet (*deprecated*) ist und in einer künftigen
# Version nicht mehr funktionieren könnte. Übergeben Sie also entweder eine Konfiguration oder
# Keyword-Argumente, aber nicht beides. (transformers gibt diese Zeile nur einmal pro Sitzung
# aus.)
#
# ## Übungen
#
# **Übung 1 (erst vorhersagen, dann ausführen).** Der Prompt unten ist mit den Modellen des
# Kurses mindestens 20 Tokens lang. Wie viele neue Tokens hängt
# `model.generate(**long_inputs, max_length=40, do_sample=False)` daran an? Zählen Sie die Tokens
# des Prompts, tragen Sie Ihre Vorhersage als Zahl ein und führen Sie die Prüfung aus; rufen Sie
# danach den Aufruf selbst auf und zählen Sie nach.

# %%
from companion.exercises.output_length import (
    check_generation_config,
    check_max_length_new_tokens,
    check_new_text_only,
    check_stop_string,
)

long_prompt = "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
long_inputs = tokenizer([long_prompt], return_tensors="pt").to(model.device)
answer = None  # your prediction here: a whole number
check_max_length_new_tokens(answer, model, tokenizer, long_prompt, max_length=40)

# %% tags=solution
print(f"prompt: {long_inputs['input_ids'].shape[1]} tokens")  # max_length counts these too
long_ids = model.generate(**long_inputs, max_length=40, do_sample=False)
answer = long_ids.shape[1] - long_inputs["input_ids"].shape[1]  # output length minus prompt length
print(f"new: {answer} tokens")
check_max_length_new_tokens(answer, model, tokenizer, long_prompt, max_length=40)

# %% [markdown] lang=en
# **Exercise 2 (fix a broken call).** This code should return only the new text of a greedy
# run with up to 15 new tokens for `"A list of colors: red, blue"`, but it does not:
#
# ```python
# broken_ids = model.generate(**color_inputs, max_length=15, do_sample=False)
# answer = tokenizer.batch_decode(broken_ids, skip_special_tokens=True)[0]
# ```
#
# It has two mistakes. Fix both and hand in the text (a string, no special tokens).

# %% [markdown] lang=de
# **Übung 2 (einen fehlerhaften Aufruf reparieren).** Dieser Code soll für
# `"A list of colors: red, blue"` nur den neuen Text eines Laufs mit Greedy Decoding (in jedem
# Schritt der wahrscheinlichste Token) und höchstens 15 neuen Tokens liefern, tut das aber
# nicht:
#
# ```python
# broken_ids = model.generate(**color_inputs, max_length=15, do_sample=False)
# answer = tokenizer.batch_decode(broken_ids, skip_special_tokens=True)[0]
# ```
#
# Er enthält zwei Fehler. Beheben Sie beide und geben Sie den Text ab (als String, ohne
# Spezial-Tokens).

# %%
answer = None  # your code here
check_new_text_only(answer, model, tokenizer, "A list of colors: red, blue", max_new_tokens=15)

# %% tags=solution
exercise_ids = model.generate(**color_inputs, max_new_tokens=15, do_sample=False)  # new tokens, not total length
exercise_new_ids = exercise_ids[:, color_inputs["input_ids"].shape[1]:]  # drop the prompt's columns
answer = tokenizer.batch_decode(exercise_new_ids, skip_special_tokens=True)[0]
check_new_text_only(answer, model, tokenizer, "A list of colors: red, blue", max_new_tokens=15)

# %% [markdown] lang=en
# **Exercise 3 (change a setting to reach a goal).** Let the model count from
# `"A sequence of numbers: 1, 2"` with `max_new_tokens=MAX_NEW_TOKENS`, greedily, but make
# it stop as soon as `"10"` appears. Hand in the whole decoded text (prompt included,
# special tokens skipped).

# %% [markdown] lang=de
# **Übung 3 (eine Einstellung ändern, um ein Ziel zu erreichen).** Lassen Sie das Modell ab
# `"A sequence of numbers: 1, 2"` mit `max_new_tokens=MAX_NEW_TOKENS` per Greedy Decoding
# zählen, aber sorgen Sie dafür, dass es anhält, sobald `"10"` erscheint. Geben Sie den gesamten
# dekodierten Text ab (mit Prompt, ohne Spezial-Tokens).

# %%
answer = None  # your code here
check_stop_string(answer, model, tokenizer, "A sequence of numbers: 1, 2", "10", MAX_NEW_TOKENS)

# %% tags=solution
exercise_ids = model.generate(
    **model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, stop_strings=["10"], tokenizer=tokenizer
)
answer = tokenizer.batch_decode(exercise_ids, skip_special_tokens=True)[0]
print(answer)
check_stop_string(answer, model, tokenizer, "A sequence of numbers: 1, 2", "10", MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Exercise 4 (a config for a goal).** Build a `GenerationConfig` (no keyword arguments to
# `generate()`) with which greedy decoding of `"A list of colors: red, blue"` writes *at
# least 20 and at most 25* new tokens. With `tutorial-tiny` the list normally ends after
# about a dozen tokens, so a limit alone is not enough. Hand in the config.

# %% [markdown] lang=de
# **Übung 4 (eine Konfiguration für ein Ziel).** Erstellen Sie eine `GenerationConfig` (ohne
# Keyword-Argumente für `generate()`), mit der Greedy Decoding für
# `"A list of colors: red, blue"` *mindestens 20 und höchstens 25* neue Tokens schreibt. Mit
# `tutorial-tiny` endet die Liste normalerweise nach etwa einem Dutzend Tokens, eine Obergrenze
# allein reicht also nicht aus. Geben Sie die Konfiguration ab.

# %%
answer = None  # your code here
check_generation_config(answer, model, tokenizer, "A list of colors: red, blue", min_new_tokens=20, max_new_tokens=25)

# %% tags=solution
answer = GenerationConfig(min_new_tokens=20, max_new_tokens=25, do_sample=False)
check_generation_config(answer, model, tokenizer, "A list of colors: red, blue", min_new_tokens=20, max_new_tokens=25)

# %% [markdown] lang=en
# ## Summary
#
# - Without a length, `generate()` falls back to `max_length=20` and warns. Since
#   transformers 4.47 that means 20 *new* tokens; up to 4.46 the prompt counted in the 20
#   (the guide's example shows that older behaviour). Always pass `max_new_tokens`.
# - The output starts with the prompt. Slice off `input_ids.shape[1]` columns to keep the
#   new tokens only (`companion.generate_text` does this by default).
# - Generation ends early when the model emits its EOS token; `min_new_tokens` postpones
#   that, and `stop_strings` (with `tokenizer=`) ends it at a piece of text you choose.
# - A `GenerationConfig` holds the same settings as an object: save it with
#   `save_pretrained`, load it with `GenerationConfig.from_pretrained`, pass it as
#   `generation_config=`. Unset fields come from `model.generation_config`; a keyword argument
#   passed as well wins (transformers 5.24) but is deprecated, so use one or the other.
#
# Next, notebook 03: greedy decoding versus sampling.

# %% [markdown] lang=de
# ## Zusammenfassung
#
# - Ohne Längenangabe greift `generate()` auf `max_length=20` zurück und warnt. Seit
#   transformers 4.47 bedeutet das 20 *neue* Tokens; bis 4.46 zählte der Prompt zu diesen 20
#   (das Beispiel der Anleitung zeigt noch dieses ältere Verhalten). Übergeben Sie immer
#   `max_new_tokens`.
# - Die Ausgabe beginnt mit dem Prompt. Schneiden Sie die ersten `input_ids.shape[1]` Spalten
#   ab, um nur die neuen Tokens zu behalten (`companion.generate_text` tut das standardmäßig).
# - Die Generierung endet vorzeitig, wenn das Modell seinen EOS-Token ausgibt; `min_new_tokens`
#   schiebt das hinaus, und `stop_strings` (zusammen mit `tokenizer=`) beendet sie an einem
#   Textstück Ihrer Wahl.
# - Eine `GenerationConfig` fasst dieselben Einstellungen in einem Objekt zusammen: Speichern
#   Sie sie mit `save_pretrained`, laden Sie sie mit `GenerationConfig.from_pretrained` und
#   übergeben Sie sie als `generation_config=`. Nicht gesetzte Felder kommen aus
#   `model.generation_config`; ein zusätzlich übergebenes Keyword-Argument gewinnt (transformers
#   5.24), ist aber veraltet. Verwenden Sie also das eine oder das andere.
#
# Als Nächstes folgt Notebook 03: Greedy Decoding im Vergleich zum Sampling.
