# %% [markdown] lang=en
# # 03 · Wrong generation mode
#
# Unless its generation config says otherwise, `generate()` decodes **greedily**: at every
# step it takes the single most likely token. That is right for some tasks and gives dull,
# repetitive text for others. This notebook compares greedy decoding with **sampling**, shows
# the quiet mistake of passing sampling settings without switching sampling on, and the
# settings that stop greedy decoding from repeating itself.
#
# **What you will learn**
#
# - why greedy decoding repeats itself, and how `do_sample=True` changes that
# - why `temperature=0.7` on its own changes nothing, and which warning tells you so
# - to make sampling repeatable with `set_seed`
# - what `temperature`, `top_k`, `top_p` and `min_p` do to the next-token distribution (seen
#   in a table and a chart)
# - how `repetition_penalty` and `no_repeat_ngram_size` break a greedy loop
# - which mode suits which task, and what beam search (`num_beams`) is

# %% [markdown] lang=de
# # 03 · Der falsche Generierungsmodus
#
# Solange die Generierungskonfiguration des Modells (seine `GenerationConfig`) nichts anderes
# festlegen, dekodiert `generate()` **greedy** („gierig“): In jedem Schritt nimmt es den einen
# Token mit der höchsten Wahrscheinlichkeit. Für manche Aufgaben ist das genau richtig, bei
# anderen entsteht eintöniger Text, der sich ständig wiederholt. Dieses Notebook stellt das
# Greedy Decoding dem **Sampling** gegenüber (dem zufälligen Ziehen des nächsten Tokens gemäß
# seiner Wahrscheinlichkeit). Es zeigt den unauffälligen Fehler, Sampling-Einstellungen zu
# übergeben, ohne das Sampling einzuschalten, und die Einstellungen, mit denen sich das Greedy
# Decoding nicht mehr im Kreis dreht.
#
# **Was Sie lernen**
#
# - warum sich das Greedy Decoding wiederholt und was `do_sample=True` daran ändert
# - warum `temperature=0.7` allein nichts bewirkt und welche Warnung Sie darauf hinweist
# - wie Sie Sampling mit `set_seed` wiederholbar machen
# - was `temperature`, `top_k`, `top_p` und `min_p` mit der Verteilung des nächsten Tokens
#   anstellen (als Tabelle und als Diagramm)
# - wie `repetition_penalty` und `no_repeat_ngram_size` eine Greedy-Schleife durchbrechen
# - welcher Modus zu welcher Aufgabe passt und was die Beam Search (`num_beams`) ist

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real small LLM, CPU); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 30  # upper bound on new tokens per generate() call
SEED = 0  # set_seed(SEED) before sampling makes the samples repeatable
REAL_MODEL = "smollm2-135m"  # a real small LLM for the side-by-side at the end (about 10 s on a CPU); None skips it

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
import torch
from transformers import set_seed

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
inputs = tokenizer(["I am a cat."], return_tensors="pt").to(model.device)
prompt_length = inputs["input_ids"].shape[1]  # the new tokens start after this many
print(type(model).__name__)  # the setup line above names the device (cpu or cuda)

# %% [markdown] lang=en
# ## Greedy decoding repeats itself
#
# Once a phrase is the most likely continuation, it stays the most likely continuation, so
# greedy decoding easily ends up in a loop:

# %% [markdown] lang=de
# ## Greedy Decoding wiederholt sich
#
# Ist eine Wendung erst einmal die wahrscheinlichste Fortsetzung, bleibt sie es auch beim
# nächsten Mal. Deshalb gerät das Greedy Decoding leicht in eine Schleife:

# %%
greedy_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
tokenizer.batch_decode(greedy_ids, skip_special_tokens=True)

# %% [markdown] lang=en
# ## Sampling: `do_sample=True`
#
# With sampling, each step *draws* the next token at random, weighted by its probability.
# Likely tokens still win most of the time, but not always, and every run can take a
# different path:

# %% [markdown] lang=de
# ## Sampling: `do_sample=True`
#
# Beim Sampling wird der nächste Token in jedem Schritt zufällig *gezogen*, gewichtet mit seiner
# Wahrscheinlichkeit. Wahrscheinliche Tokens setzen sich weiterhin meistens durch, aber eben
# nicht immer, und jeder Lauf kann einen anderen Weg nehmen:

# %% tags=device-dependent
set_seed(SEED)
for sample_number in range(1, 4):
    sampled_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True)
    print(f"sample {sample_number}:", tokenizer.batch_decode(sampled_ids, skip_special_tokens=True))

# %% [markdown] lang=en
# ## The quiet mistake: sampling settings without `do_sample=True`
#
# A common call looks like this: someone wants livelier text, adds `temperature=0.7`, and
# forgets `do_sample`. Watch the output:

# %% [markdown] lang=de
# ## Der stille Fehler: Sampling-Einstellungen ohne `do_sample=True`
#
# Ein typischer Aufruf sieht so aus: Jemand möchte lebendigeren Text, ergänzt `temperature=0.7`
# und vergisst `do_sample`. Achten Sie auf die Ausgabe:

# %%
forgotten_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, temperature=0.7)
print(tokenizer.batch_decode(forgotten_ids, skip_special_tokens=True))
print("identical to the greedy output:", torch.equal(forgotten_ids, greedy_ids))

# %% [markdown] lang=en
# The text is the greedy loop again, token for token. `temperature` only reshapes the
# distribution that sampling draws from; in greedy mode nothing is drawn, so it has no
# effect. transformers says so in the line under the cell: *"The following generation
# flags are not valid and may be ignored: ['temperature']"*. In transformers 5.24 that
# message comes from `GenerationConfig.validate()` (`generation/configuration_utils.py`):
# whenever `do_sample` is not `True`, it lists the sampling-only flags set to something other
# than their default (`temperature`, `top_p`, `top_k`, `min_p`, ...). It is a logged warning,
# not an error: `generate()` goes on decoding greedily. And each message is logged **once per
# session** (`logger.warning_once`): make the same mistake again later and nothing is printed.
# So do not rely on the warning; write `do_sample=` in every call.
#
# The fix is one argument, `do_sample=True`. To see more than one draw, this call asks for
# three samples at once (`num_return_sequences=3`):

# %% [markdown] lang=de
# Der Text ist wieder die Greedy-Schleife, Token für Token. `temperature` formt nur die
# Verteilung um, aus der beim Sampling gezogen wird; im Greedy-Modus wird nichts gezogen, also
# bleibt die Temperatur wirkungslos. transformers meldet das in der Zeile unter der Zelle:
# *„The following generation flags are not valid and may be ignored: ['temperature']“*. In
# transformers 5.24 stammt diese Meldung aus `GenerationConfig.validate()`
# (`generation/configuration_utils.py`): Immer wenn `do_sample` nicht `True` ist, zählt sie die
# Flags auf, die nur beim Sampling gelten und auf einen anderen Wert als ihren Standardwert
# gesetzt sind (`temperature`, `top_p`, `top_k`, `min_p`, ...). Es ist eine Warnung im Log, keine
# Fehlermeldung: `generate()` dekodiert einfach greedy weiter. Außerdem erscheint jede Meldung
# nur **einmal pro Sitzung** (`logger.warning_once`): Machen Sie denselben Fehler später noch
# einmal, wird nichts mehr ausgegeben. Verlassen Sie sich also nicht auf die Warnung, sondern
# schreiben Sie `do_sample=` in jeden Aufruf.
#
# Die Korrektur ist ein einziges Argument, `do_sample=True`. Damit Sie mehr als eine Ziehung
# sehen, fordert dieser Aufruf drei Samples (gezogene Fortsetzungen) auf einmal an
# (`num_return_sequences=3`):

# %% tags=device-dependent
set_seed(SEED)
fixed_ids = model.generate(
    **inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True, temperature=0.7, num_return_sequences=3
)
greedy_text = tokenizer.batch_decode(greedy_ids, skip_special_tokens=True)[0]
for text in tokenizer.batch_decode(fixed_ids, skip_special_tokens=True):
    print(f"identical to the greedy output: {text == greedy_text!s:5}  {text!r}")

# %% [markdown] lang=en
# Now the temperature takes effect, and no sample is the greedy text. With `tutorial-tiny`
# at 0.7 (a distribution sharper than the model's own), "I am a cat." still comes back
# often, but each sample leaves the loop somewhere.

# %% [markdown] lang=de
# Jetzt wirkt die Temperatur, und keines der Samples ist der Greedy-Text. Bei `tutorial-tiny`
# mit 0,7 (einer schärferen Verteilung als der des Modells selbst) taucht „I am a cat.“ zwar
# noch oft auf, aber jedes Sample verlässt die Schleife an irgendeiner Stelle.

# %% [markdown] lang=en
# ## Repeatable samples: `set_seed`
#
# The draws come from a pseudo-random number generator. `set_seed` puts it (and Python's
# and NumPy's) into a fixed state, so the same seed gives the same sample, on the same
# machine and library versions. You only need it when you want to reproduce a result.

# %% [markdown] lang=de
# ## Wiederholbare Samples: `set_seed`
#
# Die Ziehungen stammen aus einem Pseudozufallszahlengenerator. `set_seed` versetzt ihn (und die
# Zufallsgeneratoren von Python und NumPy) in einen festen Zustand. Derselbe Seed (Startwert)
# liefert deshalb dasselbe Sample, solange Rechner und Bibliotheksversionen dieselben bleiben.
# Sie brauchen das nur, wenn Sie ein Ergebnis reproduzieren möchten.

# %% tags=device-dependent
def sample_with_seed(seed):
    """One sampled continuation of 'I am a cat.' after set_seed(seed), as text."""
    set_seed(seed)
    sampled_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True)
    return tokenizer.batch_decode(sampled_ids, skip_special_tokens=True)[0]


first, second, other = sample_with_seed(SEED), sample_with_seed(SEED), sample_with_seed(SEED + 1)
print(f"seed {SEED}:       {first!r}")
print(f"seed {SEED} again: {second!r}")
print(f"seed {SEED + 1}:       {other!r}")
print("same seed, same sample:", first == second)

# %% [markdown] lang=en
# ## Checkpoints that sample by default
#
# The course models' generation configs say nothing about the mode, so `generate()` decodes
# greedily unless the call says `do_sample=True`. Many instruct checkpoints ship a
# `generation_config.json` that switches sampling on: `meta-llama/Llama-3.1-8B-Instruct`, for
# example, ships `"do_sample": true, "temperature": 0.6, "top_p": 0.9`. With such a checkpoint
# a plain `generate()` call samples. To see it here, save a local copy of `tutorial-tiny`
# (whatever `MODEL` is) whose generation config is written the same way:

# %% [markdown] lang=de
# ## Checkpoints, die von sich aus Sampling verwenden
#
# Die Generierungskonfigurationen der Kursmodelle legen keinen Modus fest; deshalb dekodiert
# `generate()` greedy, solange der Aufruf nicht `do_sample=True` verlangt. Viele
# Instruct-Checkpoints liefern dagegen eine `generation_config.json` mit, die das Sampling
# einschaltet: `meta-llama/Llama-3.1-8B-Instruct` zum Beispiel enthält
# `"do_sample": true, "temperature": 0.6, "top_p": 0.9`. Bei einem solchen Checkpoint zieht schon
# ein schlichter Aufruf von `generate()` zufällig. Um das hier zu sehen, speichern Sie eine lokale
# Kopie von `tutorial-tiny` (unabhängig davon, was in `MODEL` steht), deren
# Generierungskonfiguration genauso geschrieben ist:

# %%
import os
import shutil
import tempfile

from transformers import GenerationConfig

from companion.models import resolve_model_path

checkpoint = os.path.join(tempfile.mkdtemp(), "tutorial-tiny-sampling")  # a throwaway folder
shutil.copytree(resolve_model_path("tutorial-tiny"), checkpoint)  # weights, tokenizer and configs
shipped_config = GenerationConfig.from_pretrained(checkpoint)
shipped_config.update(do_sample=True, temperature=0.6, top_p=0.9)  # as Llama-3.1-8B-Instruct ships it
shipped_config.save_pretrained(checkpoint)  # rewrites the copy's generation_config.json
with open(os.path.join(checkpoint, "generation_config.json")) as file:
    print(file.read())

# %% tags=device-dependent
sampling_model, sampling_tokenizer = companion.load_model(checkpoint)
name_inputs = sampling_tokenizer(["My name is"], return_tensors="pt").to(sampling_model.device)
set_seed(SEED)
for run in (1, 2):
    plain_ids = sampling_model.generate(**name_inputs, max_new_tokens=MAX_NEW_TOKENS)  # no do_sample: the mistake
    print(f"plain call {run}:", sampling_tokenizer.batch_decode(plain_ids, skip_special_tokens=True))

# %% [markdown] lang=en
# Two plain calls, two different texts, and no line from transformers under the cell: the
# call set nothing that could clash. The place to look is `model.generation_config`, what
# `generate()` starts from before it applies the call's own arguments:

# %% [markdown] lang=de
# Zwei schlichte Aufrufe, zwei verschiedene Texte, und unter der Zelle keine Zeile von
# transformers: Der Aufruf hat nichts festgelegt, was sich widersprechen könnte. Nachsehen können
# Sie in `model.generation_config`; davon geht `generate()` aus, bevor es die Argumente des
# Aufrufs anwendet:

# %%
print(sampling_model.generation_config)

# %% [markdown] lang=en
# To decode greedily in one call, say so in the call. To change the default for good, update
# the model's generation config, and take the sampling flags out with it:

# %% [markdown] lang=de
# Um in einem einzelnen Aufruf greedy zu dekodieren, schreiben Sie es in den Aufruf. Um den
# Standard dauerhaft zu ändern, aktualisieren Sie die Generierungskonfiguration des Modells und
# nehmen dabei die Sampling-Flags heraus:

# %%
greedy_once = sampling_model.generate(**name_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
print("do_sample=False in the call:", sampling_tokenizer.batch_decode(greedy_once, skip_special_tokens=True))

sampling_model.generation_config.update(do_sample=False, temperature=None, top_p=None)  # for good
greedy_from_now_on = sampling_model.generate(**name_inputs, max_new_tokens=MAX_NEW_TOKENS)
print("plain call after update():  ", sampling_tokenizer.batch_decode(greedy_from_now_on, skip_special_tokens=True))
print("the same tokens:", torch.equal(greedy_once, greedy_from_now_on))

# %% [markdown] lang=en
# The call with `do_sample=False` logged nothing either, although the config still held
# `temperature=0.6` and `top_p=0.9`, which greedy decoding ignores. In transformers 5.24,
# `GenerationConfig.validate()` stays quiet about a sampling flag the call did not set when the
# call sets `do_sample` itself (`_should_warn` in `generation/configuration_utils.py`): values
# inherited from the checkpoint are not reported once you choose the mode. `update()` with
# `None` removes them; setting only `generation_config.do_sample = False` would leave them in
# the config, and the next call would log "The following generation flags are not valid and may
# be ignored". To keep the change with the checkpoint, save it:
# `sampling_model.generation_config.save_pretrained(checkpoint)`. The safest habit stays the
# one from above: write `do_sample=` in every call.

# %% [markdown] lang=de
# Auch der Aufruf mit `do_sample=False` hat nichts gemeldet, obwohl die Konfiguration noch
# `temperature=0.6` und `top_p=0.9` enthielt, die das Greedy Decoding ignoriert. In transformers
# 5.24 schweigt `GenerationConfig.validate()` zu einem Sampling-Flag, das der Aufruf nicht gesetzt
# hat, sobald der Aufruf `do_sample` selbst festlegt (`_should_warn` in
# `generation/configuration_utils.py`): Werte, die aus dem Checkpoint stammen, werden nicht
# gemeldet, sobald Sie den Modus selbst wählen. `update()` mit `None` entfernt sie; würden Sie nur
# `generation_config.do_sample = False` setzen, blieben sie in der Konfiguration stehen, und der
# nächste Aufruf würde „The following generation flags are not valid and may be ignored“ melden.
# Damit die Änderung beim Checkpoint bleibt, speichern Sie sie:
# `sampling_model.generation_config.save_pretrained(checkpoint)`. Die sicherste Gewohnheit bleibt
# die von oben: Schreiben Sie `do_sample=` in jeden Aufruf.

# %% [markdown] lang=en
# ## What temperature, top-k, top-p and min-p do
#
# Before drawing, `generate()` can reshape the next-token distribution. In transformers 5.24
# (`GenerationMixin._get_logits_processor`) these settings are applied in this order, and
# only when `do_sample=True`:
#
# - `temperature` divides the logits: below 1 the distribution gets sharper (closer to
#   greedy), above 1 flatter (more surprising choices). It removes no token.
# - `top_k` keeps only the k most likely tokens.
# - `top_p` (**nucleus sampling**, Holtzman et al. 2020, *The Curious Case of Neural Text
#   Degeneration*, ICLR 2020, arXiv:1904.09751) keeps the most likely tokens until their
#   probabilities add up to p, so the number of candidates adapts to how sure the model is.
# - `min_p` (Nguyen et al. 2024, arXiv:2407.01082) keeps every token whose probability is at
#   least `min_p` times that of the most likely token. transformers' `MinPLogitsWarper`
#   computes exactly that threshold, `min_p * max(probabilities)`, and removes the tokens
#   below it; typical values are 0.01 to 0.2.
#
# Where neither the call nor the model's generation config sets them, `generate()` fills them
# in from `GenerationConfig._get_default_generation_params()` (transformers 5.24,
# `generation/configuration_utils.py`; `_prepare_generation_config` in `generation/utils.py`
# merges them into the call): `temperature=1.0`, `top_p=1.0`, no `min_p`, and **`top_k=50`**.
# The first three change nothing, the last one does: a plain `generate(do_sample=True)` can
# only ever draw one of the 50 most likely tokens. To switch top-k off, pass `top_k=None` or
# `top_k=0`: `_get_logits_processor` adds the `TopKLogitsWarper` only when `top_k` is neither.
# `output_scores=True` lets you count it: the scores of a step are the logits after the
# processors, and every token they removed holds `-inf`:

# %% [markdown] lang=de
# ## Was Temperatur, Top-k, Top-p und Min-p bewirken
#
# Vor dem Ziehen kann `generate()` die Verteilung des nächsten Tokens umformen. In transformers
# 5.24 (`GenerationMixin._get_logits_processor`) werden diese Einstellungen in der folgenden
# Reihenfolge angewendet, und zwar nur mit `do_sample=True`:
#
# - `temperature` teilt die Logits (die rohen Scores des Modells vor dem Softmax): Unter 1 wird
#   die Verteilung schärfer (näher am Greedy Decoding), über 1 flacher (überraschendere Wahl).
#   Sie entfernt keinen Token.
# - `top_k` behält nur die k wahrscheinlichsten Tokens.
# - `top_p` (**Nucleus Sampling**, Holtzman et al. 2020, *The Curious Case of Neural Text
#   Degeneration*, ICLR 2020, arXiv:1904.09751) behält die wahrscheinlichsten Tokens, bis ihre
#   Wahrscheinlichkeiten zusammen p erreichen. So richtet sich die Zahl der Kandidaten danach,
#   wie sicher sich das Modell ist.
# - `min_p` (Nguyen et al. 2024, arXiv:2407.01082) behält jeden Token, dessen Wahrscheinlichkeit
#   mindestens das `min_p`-Fache der Wahrscheinlichkeit des wahrscheinlichsten Tokens beträgt.
#   Der `MinPLogitsWarper` von transformers berechnet genau diese Schwelle,
#   `min_p * max(probabilities)`, und entfernt die Tokens darunter; übliche Werte liegen
#   zwischen 0,01 und 0,2.
#
# Wo weder der Aufruf noch die Generierungskonfiguration des Modells diese Werte festlegt, ergänzt
# `generate()` sie aus `GenerationConfig._get_default_generation_params()` (transformers 5.24,
# `generation/configuration_utils.py`; `_prepare_generation_config` in `generation/utils.py`
# übernimmt sie in den Aufruf): `temperature=1.0`, `top_p=1.0`, kein `min_p` und **`top_k=50`**.
# Die ersten drei ändern nichts, der letzte Wert schon: Ein schlichter Aufruf
# `generate(do_sample=True)` kann immer nur einen der 50 wahrscheinlichsten Tokens ziehen. Um
# Top-k abzuschalten, übergeben Sie `top_k=None` oder `top_k=0`: `_get_logits_processor` fügt den
# `TopKLogitsWarper` nur hinzu, wenn `top_k` keines von beiden ist. Mit `output_scores=True`
# können Sie das nachzählen: Die Scores eines Schritts sind die Logits nach den Prozessoren, und
# jeder Token, den sie entfernt haben, steht auf `-inf`:

# %%
for label, options in {"do_sample=True": {}, "do_sample=True, top_k=None": {"top_k": None}}.items():
    output = model.generate(
        **inputs, max_new_tokens=1, do_sample=True, output_scores=True, return_dict_in_generate=True, **options
    )
    first_step_scores = output.scores[0]  # (1, vocabulary): the logits after generate()'s processors
    drawable = torch.isfinite(first_step_scores).sum().item()
    print(f"{label:28} {drawable:4} of {first_step_scores.shape[-1]} tokens can be drawn")

# %% [markdown] lang=en
# The table and the chart below come from the same processors. `companion.sampling` asks the
# model for the list `generate()` builds (`generate_logits_processors` calls the two methods
# `generate()` calls: `_prepare_generation_config` and `_get_logits_processor`), applies it to
# the logits after the prompt and takes the softmax; the course's tests hold it to the scores of
# real `generate()` calls. Each column is what `generate(do_sample=True, **setting)` draws from,
# default top-k included; the column "no filter" passes `top_k=None`, which leaves the model's
# own distribution. First the list for three calls, in the order the processors run:

# %% [markdown] lang=de
# Die Tabelle und das Diagramm unten stammen aus denselben Prozessoren. `companion.sampling` lässt
# sich vom Modell die Liste geben, die `generate()` aufbaut (`generate_logits_processors` ruft
# dieselben zwei Methoden auf wie `generate()`: `_prepare_generation_config` und
# `_get_logits_processor`), wendet sie auf die Logits nach dem Prompt an und bildet den Softmax;
# die Tests des Kurses vergleichen das Ergebnis mit den Scores echter `generate()`-Aufrufe. Jede
# Spalte zeigt, woraus `generate(do_sample=True, **Einstellung)` zieht, einschließlich des
# Standardwerts für Top-k; die Spalte „no filter“ übergibt `top_k=None` und lässt damit die
# Verteilung des Modells unverändert. Zuerst die Liste für drei Aufrufe, in der Reihenfolge, in der
# die Prozessoren laufen:

# %%
from companion.sampling import compare_settings_table, generate_logits_processors

for options in ({}, {"temperature": 0.7, "top_p": 0.9}, {"top_k": None}):
    names = [type(processor).__name__ for processor in generate_logits_processors(model, **options)]
    print(f"do_sample=True, {options}: {names}")

# %%
settings = {
    "no filter": {"top_k": None},  # the model's own distribution
    "default": {},  # generate(do_sample=True) as it is: top_k=50
    "T=0.5": {"temperature": 0.5},
    "T=1.5": {"temperature": 1.5},
    "top_k=3": {"top_k": 3},
    "top_p=0.9": {"top_p": 0.9},
    "min_p=0.1": {"min_p": 0.1},
}
print(compare_settings_table(model, tokenizer, "I am a cat.", settings, top=8))

# %%
from companion.plots import plot_sampling_settings

figure = plot_sampling_settings(model, tokenizer, "I am a cat.", settings, top=8)

# %% [markdown] lang=en
# The probabilities of the surviving tokens are scaled up so they add up to 1 again. With
# `tutorial-tiny`, the default column keeps 50 of the 768 tokens, and their probabilities
# hardly move: the other 718 held little. `T=0.5` lifts the top token `' I'` from 57 % to 94 %
# and `T=1.5` lowers it to 33 %; temperature removes no token, but the default top-k still
# leaves only 50 drawable. `top_k=3` leaves 3 tokens, `top_p=0.9` leaves 9 and `min_p=0.1`
# leaves 3: the threshold is a tenth of 57 %, and only `' The'` and `' My'` reach it besides
# `' I'`.
#
# Both `top_p` and `min_p` adapt to the model's confidence, but differently. `min_p` looks
# only at the top token; `top_p` must collect 90 % of the probability, and when the rest is a
# long tail of small probabilities, that takes many tokens:

# %% [markdown] lang=de
# Die Wahrscheinlichkeiten der verbleibenden Tokens werden hochskaliert, sodass sie zusammen
# wieder 1 ergeben. Bei `tutorial-tiny` behält die Spalte „default“ 50 der 768 Tokens, und ihre
# Wahrscheinlichkeiten ändern sich kaum: Die übrigen 718 hatten wenig davon. `T=0.5` hebt den
# wahrscheinlichsten Token `' I'` von 57 % auf 94 %, und `T=1.5` senkt ihn auf 33 %; die
# Temperatur entfernt keinen Token, aber das voreingestellte Top-k lässt trotzdem nur 50 ziehbar.
# `top_k=3` lässt 3 Tokens übrig, `top_p=0.9` lässt 9 übrig und `min_p=0.1` lässt 3 übrig: Die
# Schwelle liegt bei einem Zehntel von 57 %, und außer `' I'` erreichen sie nur `' The'` und
# `' My'`.
#
# Sowohl `top_p` als auch `min_p` passen sich an, wie sicher sich das Modell ist, allerdings auf
# unterschiedliche Weise. `min_p` schaut nur auf den wahrscheinlichsten Token; `top_p` muss
# 90 % der Wahrscheinlichkeit einsammeln, und wenn der Rest aus einem langen Ausläufer kleiner
# Wahrscheinlichkeiten besteht, braucht es dafür viele Tokens:

# %%
from companion.sampling import count_candidates, sampling_distribution

for prompt in ["The cat is", "I am a cat.", "I like to"]:
    # top_k=None switches generate()'s default top_k=50 off, to see min_p and top_p on their own
    top_probability = sampling_distribution(model, tokenizer, prompt, top_k=None).max().item()
    kept_by_min_p = count_candidates(sampling_distribution(model, tokenizer, prompt, top_k=None, min_p=0.1))
    kept_by_top_p = count_candidates(sampling_distribution(model, tokenizer, prompt, top_k=None, top_p=0.9))
    print(f"{prompt!r:14} top token {top_probability:6.1%} | min_p=0.1 keeps tokens from "
          f"{0.1 * top_probability:5.2%} up: {kept_by_min_p:3} tokens | top_p=0.9 keeps {kept_by_top_p:3} tokens")

# %% [markdown] lang=en
# With `tutorial-tiny`: after "The cat is" the model is sure (78 %) and `min_p` leaves that one
# token, while `top_p` still lets 10 tokens through; after "I like to" the top token has only
# 10 %, so `min_p` opens up to 27 tokens, and `top_p` needs 95. That is more than the 50 that
# the default `top_k` lets through: in a call `generate(do_sample=True, top_p=0.9)` top-k runs
# first, and top-p then collects its 90 % among those 50, scaled up to add up to 1.
#
# Taken to the extreme, a very low temperature or `top_k=1` leaves only the most likely
# token, and sampling becomes greedy decoding:

# %% [markdown] lang=de
# Bei `tutorial-tiny`: Nach „The cat is“ ist sich das Modell sicher (78 %), und `min_p` lässt nur
# diesen einen Token übrig, während `top_p` noch 10 Tokens durchlässt; nach „I like to“ hat der
# wahrscheinlichste Token nur 10 %, sodass `min_p` 27 Tokens zulässt und `top_p` 95 braucht. Das
# sind mehr als die 50, die das voreingestellte `top_k` durchlässt: Bei einem Aufruf
# `generate(do_sample=True, top_p=0.9)` läuft Top-k zuerst, und Top-p sammelt seine 90 % dann
# unter diesen 50 ein, hochskaliert auf die Summe 1.
#
# Auf die Spitze getrieben lassen eine sehr niedrige Temperatur oder `top_k=1` nur den
# wahrscheinlichsten Token übrig, und aus dem Sampling wird Greedy Decoding:

# %%
set_seed(SEED)
top_1_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True, top_k=1)
print("sampling with top_k=1 equals greedy:", torch.equal(top_1_ids, greedy_ids))

# %% [markdown] lang=en
# ## Try it yourself: move the sliders
#
# The panel below puts the four settings on sliders, in the order in which `generate()` applies
# them, with a prompt box and the chart underneath: on the left the model's own distribution of
# the next token, on the right the one that `generate(do_sample=True, ...)` draws from with the
# sliders' settings. It starts where `generate(do_sample=True, temperature=0.7, top_p=0.9)`
# stands, a moderate temperature with top-p as is usual for chat, and so with `top_k` at its
# default of 50 (0 on the slider is `top_k=None` in a call: top-k off). Move a slider and the right chart is drawn again; type another prompt and press Enter to see
# the distribution after it. Some things to try:
#
# - Lower the temperature step by step and watch the most likely token take over.
# - Set `top_k` to 1: one token is left, and sampling is greedy decoding again.
# - Type the prompt "I like to", where the model is unsure: `top_p` now lets many more tokens
#   through than after "I am a cat.", up to the 50 that top-k leaves; set `top_k` to 0 and see
#   how many more it would take. Then raise `min_p` and see how few of them it keeps.
#
# The panel computes with the same processors as the table above, those `generate()` builds. The
# sliders need a running kernel; where the notebook is only read (on GitHub, for example), you
# see the chart for the starting settings.

# %% [markdown] lang=de
# ## Probieren Sie es selbst: Bewegen Sie die Regler
#
# Das folgende Panel legt die vier Einstellungen auf Schieberegler, in der Reihenfolge, in der
# `generate()` sie anwendet; darunter folgen ein Eingabefeld für den Prompt und das Diagramm.
# Links sehen Sie die Verteilung des nächsten Tokens, wie das Modell sie liefert, rechts die
# Verteilung, aus der `generate(do_sample=True, ...)` mit den Einstellungen der Regler zieht. Das
# Panel beginnt dort, wo `generate(do_sample=True, temperature=0.7, top_p=0.9)` steht, also bei
# einer moderaten Temperatur mit Top-p, wie sie für Chats üblich ist, und damit bei `top_k` auf
# seinem Standardwert 50 (0 auf dem Regler entspricht `top_k=None` im Aufruf: Top-k aus). Sobald Sie einen Regler bewegen, wird das rechte Diagramm neu gezeichnet; geben Sie
# einen anderen Prompt ein und drücken Sie die Eingabetaste, um die Verteilung nach diesem Prompt
# zu sehen. Einige Anregungen:
#
# - Senken Sie die Temperatur Schritt für Schritt und beobachten Sie, wie der wahrscheinlichste
#   Token die Oberhand gewinnt.
# - Stellen Sie `top_k` auf 1: Es bleibt ein einziger Token übrig, und aus dem Sampling wird
#   wieder Greedy Decoding.
# - Geben Sie den Prompt „I like to“ ein, bei dem sich das Modell unsicher ist: `top_p` lässt
#   jetzt viel mehr Tokens durch als nach „I am a cat.“, bis zu den 50, die Top-k übrig lässt;
#   stellen Sie `top_k` auf 0 und sehen Sie, wie viele es sonst wären. Erhöhen Sie dann `min_p` und
#   sehen Sie, wie wenige davon übrig bleiben.
#
# Das Panel rechnet mit denselben Prozessoren wie die Tabelle oben, mit denen, die `generate()`
# aufbaut. Die
# Regler brauchen einen laufenden Kernel; wo das Notebook nur gelesen wird (etwa auf GitHub),
# sehen Sie das Diagramm für die Starteinstellungen.

# %%
from companion.sampling_panel import sampling_panel

panel = sampling_panel(model, tokenizer, "I am a cat.", temperature=0.7, top_p=0.9)
panel

# %% [markdown] lang=en
# ## Temperature in text
#
# A low temperature keeps sampling close to greedy decoding, a high one lets it wander.
# Here we draw 10 short continuations at each temperature in one call
# (`num_return_sequences=10`), count how many are the greedy text and how many different
# texts come out, and print the first three. Every temperature starts from the same seed:

# %% [markdown] lang=de
# ## Die Temperatur im Text
#
# Eine niedrige Temperatur hält das Sampling nah am Greedy Decoding, eine hohe lässt es
# abschweifen. Die folgende Zelle zieht bei jeder Temperatur 10 kurze Fortsetzungen in einem
# einzigen Aufruf (`num_return_sequences=10`), zählt, wie viele davon der Greedy-Text sind und
# wie viele verschiedene Texte herauskommen, und gibt die ersten drei aus. Jede Temperatur
# beginnt mit demselben Seed:

# %% tags=device-dependent
greedy_start = tokenizer.batch_decode(greedy_ids[:, prompt_length:prompt_length + 12], skip_special_tokens=True)[0]
for temperature in (0.3, 1.0, 1.5):
    set_seed(SEED)
    sampled_ids = model.generate(
        **inputs, max_new_tokens=12, do_sample=True, temperature=temperature, num_return_sequences=10
    )
    texts = tokenizer.batch_decode(sampled_ids[:, prompt_length:], skip_special_tokens=True)
    print(f"temperature={temperature}: {texts.count(greedy_start)} of 10 are the greedy text, "
          f"{len(set(texts))} distinct")
    for text in texts[:3]:
        print("    ", repr(text))

# %% [markdown] lang=en
# With `tutorial-tiny`, at temperature 0.3 all ten samples are the greedy loop. At 1.0 none
# of them is, and they are sentences the model learned. At 1.5 the draws leave those
# patterns: the third sample turns into a list of numbers in the middle of a sentence. Since
# each temperature starts from the same seed, the samples at 1.0 and 1.5 begin with the
# same words and part ways where the flatter distribution lets a less likely token win.
#
# ## Breaking the loop without sampling
#
# Sometimes you want greedy decoding (repeatable, the most likely text) without the loop.
# Two settings of `generate()` act in greedy mode too, because transformers 5.24 adds them to
# the logits processors whether or not `do_sample` is set:
#
# - `repetition_penalty` (from CTRL, Keskar et al. 2019, arXiv:1909.05858): in
#   `RepetitionPenaltyLogitsProcessor`, every token that already occurs in the sequence,
#   prompt included, has its logit divided by the penalty if it is positive and multiplied by
#   it if negative, once, however often the token occurred. 1.0 changes nothing; the CTRL
#   paper suggests about 1.2.
# - `no_repeat_ngram_size=n` (`NoRepeatNGramLogitsProcessor`): no sequence of n tokens may
#   occur twice (the prompt counts too); the token that would complete a repeat is removed.

# %% [markdown] lang=de
# Bei `tutorial-tiny` sind bei Temperatur 0,3 alle zehn Samples die Greedy-Schleife. Bei 1,0 ist
# es keines mehr, und es kommen Sätze heraus, die das Modell gelernt hat. Bei 1,5 verlassen die
# Ziehungen diese Muster: Das dritte Sample geht mitten im Satz in eine Zahlenliste über. Weil
# jede Temperatur mit demselben Seed beginnt, fangen die Samples bei 1,0 und 1,5 mit denselben
# Wörtern an und trennen sich erst dort, wo die flachere Verteilung einen weniger
# wahrscheinlichen Token gewinnen lässt.
#
# ## Die Schleife ohne Sampling durchbrechen
#
# Manchmal möchten Sie Greedy Decoding (wiederholbar, der wahrscheinlichste Text), aber ohne die
# Schleife. Zwei Einstellungen von `generate()` wirken auch im Greedy-Modus, weil transformers
# 5.24 sie den Logits-Prozessoren hinzufügt, egal ob `do_sample` gesetzt ist oder nicht:
#
# - `repetition_penalty` (aus CTRL, Keskar et al. 2019, arXiv:1909.05858): Im
#   `RepetitionPenaltyLogitsProcessor` wird der Logit-Wert jedes Tokens, der schon in der Sequenz
#   vorkommt (einschließlich des Prompts), durch den Strafwert (die Penalty) geteilt, wenn er
#   positiv ist, und mit ihm multipliziert, wenn er negativ ist. Das geschieht genau einmal, egal
#   wie oft der Token vorkam. Ein Strafwert von 1,0 ändert nichts; das CTRL-Paper empfiehlt
#   etwa 1,2.
# - `no_repeat_ngram_size=n` (`NoRepeatNGramLogitsProcessor`): Keine Folge von n Tokens (kein
#   n-Gramm) darf zweimal vorkommen, wobei auch der Prompt zählt; der Token, der eine
#   Wiederholung vervollständigen würde, wird entfernt.

# %%
loop_breakers = {
    "do_sample=False": {},
    "do_sample=False, repetition_penalty=1.5": {"repetition_penalty": 1.5},
    "do_sample=False, no_repeat_ngram_size=3": {"no_repeat_ngram_size": 3},
}
for label, options in loop_breakers.items():
    output_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, **options)
    print(f"{label}:\n    {tokenizer.batch_decode(output_ids, skip_special_tokens=True)[0]!r}")

# %% [markdown] lang=en
# With `tutorial-tiny`, both settings end the loop: the penalty makes "I am a cat." less
# likely than other sentences the model knows (and the text ends early with the end-of-sequence
# token), and the 3-gram ban removes " cat" after the second " am a", because " am a cat" is
# already in the prompt, so the model writes "I am a hen." and moves on. Both are blunt: a
# penalty also hits words that *should* repeat (names, "the"), and an n-gram ban can never
# write the same three tokens twice, even where the text needs them.
#
# ## Which mode for which task?
#
# - **Input-grounded tasks** have one right answer fixed by the input: translation,
#   transcribing audio, summarising, extracting facts from a text, answering from a given
#   document. You want the most likely output, so decode greedily (or with beam search).
# - **Creative tasks** benefit from variety: stories, chat, brainstorming. Sample, usually
#   with a moderate temperature and top-p or min-p, and set a seed when you need to reproduce
#   a run.
#
# **Beam search** (`num_beams=4`, with `do_sample=False`) is a middle way for the first
# kind of task: instead of committing to one token per step, it keeps the 4 most likely
# partial sequences and returns the most likely complete one. Each step runs the model on
# 4 sequences instead of 1. On this open-ended prompt it loops just like greedy decoding:

# %% [markdown] lang=de
# Bei `tutorial-tiny` beenden beide Einstellungen die Schleife: Der Strafwert macht „I am a cat.“
# unwahrscheinlicher als andere Sätze, die das Modell kennt (und der Text endet vorzeitig mit dem
# End-of-Sequence-Token). Das 3-Gramm-Verbot entfernt „ cat“ nach dem zweiten „ am a“, weil
# „ am a cat“ schon im Prompt steht; also schreibt das Modell „I am a hen.“ und macht weiter.
# Beide Mittel sind grob: Ein Strafwert trifft auch Wörter, die sich wiederholen *sollen* (Namen,
# „the“), und ein n-Gramm-Verbot kann dieselben drei Tokens nie ein zweites Mal schreiben, selbst
# wenn der Text sie braucht.
#
# ## Welcher Modus für welche Aufgabe?
#
# - **Aufgaben, die an die Eingabe gebunden sind**, haben eine richtige Antwort, die durch die
#   Eingabe feststeht: Übersetzen, Audio transkribieren, Zusammenfassen, Fakten aus einem Text
#   herausziehen, Fragen zu einem vorgegebenen Dokument beantworten. Hier wollen Sie die
#   wahrscheinlichste Ausgabe, dekodieren Sie also greedy (oder mit Beam Search).
# - **Kreative Aufgaben** profitieren von Abwechslung: Geschichten, Chat, Brainstorming. Nutzen
#   Sie Sampling, meist mit einer moderaten Temperatur und Top-p oder Min-p, und setzen Sie einen
#   Seed, wenn Sie einen Lauf reproduzieren müssen.
#
# **Beam Search** (`num_beams=4`, mit `do_sample=False`) ist ein Mittelweg für die erste Art von
# Aufgaben: Statt sich in jedem Schritt auf einen Token festzulegen, behält sie die 4
# wahrscheinlichsten Teilsequenzen (die „Beams“) und gibt am Ende die wahrscheinlichste
# vollständige Sequenz zurück. Dafür läuft das Modell in jedem Schritt auf 4 Sequenzen statt
# auf 1. Bei diesem offenen Prompt gerät sie genauso in die Schleife wie das Greedy Decoding:

# %%
beam_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=4)
tokenizer.batch_decode(beam_ids, skip_special_tokens=True)

# %% [markdown] lang=en
# ## The same on a real LLM
#
# The tiny model was trained on a handful of sentence patterns. A real (small) LLM,
# `smollm2-135m` by default (skipped if `REAL_MODEL` is None), shows the same picture with
# more varied language. Same calls, same seed before each:

# %% [markdown] lang=de
# ## Dasselbe mit einem echten LLM
#
# Das Mini-Modell wurde auf einer Handvoll Satzmuster trainiert. Ein echtes (kleines) LLM,
# standardmäßig `smollm2-135m` (übersprungen, wenn `REAL_MODEL` None ist), zeigt dasselbe Bild
# mit vielfältigerer Sprache. Dieselben Aufrufe, vor jedem derselbe Seed:

# %% tags=device-dependent
if REAL_MODEL is None:
    print("REAL_MODEL is None: skipped.")
else:
    if REAL_MODEL == MODEL:
        real_model, real_tokenizer = model, tokenizer
    else:
        real_model, real_tokenizer = companion.load_model(REAL_MODEL)
    real_inputs = real_tokenizer(["I am a cat."], return_tensors="pt").to(real_model.device)
    real_settings = {
        "greedy": {"do_sample": False},
        "greedy, repetition_penalty=1.3": {"do_sample": False, "repetition_penalty": 1.3},
        "sampling, temperature=0.7, top_p=0.9": {"do_sample": True, "temperature": 0.7, "top_p": 0.9},
        "sampling, temperature=1.5": {"do_sample": True, "temperature": 1.5},
        "sampling, temperature=1.5, min_p=0.1": {"do_sample": True, "temperature": 1.5, "min_p": 0.1},
    }
    for label, options in real_settings.items():
        set_seed(SEED)
        real_ids = real_model.generate(**real_inputs, max_new_tokens=25, **options)
        new_text = real_tokenizer.batch_decode(real_ids[:, real_inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
        print(f"{label}:\n    {new_text!r}")

# %% [markdown] lang=en
# With `smollm2-135m`: greedy decoding loops on "She is a cat.", the repetition penalty breaks
# the loop, sampling at 0.7 with top-p stays on topic, and temperature 1.5 drifts into
# broken words. Adding `min_p=0.1` at the same temperature cuts off the unlikely tail that
# the flat distribution had made drawable, and the text is readable again: that is the
# use the min-p paper argues for, a high temperature for variety without the nonsense.
#
# ## Exercises
#
# **Exercise 1.** Decide for each task whether you would decode greedily or sample. The cell
# below lists the five tasks in `tasks`; store a dict in `answer` with each task as a key and
# `"greedy"` or `"sampling"` as its value.

# %% [markdown] lang=de
# Bei `smollm2-135m` dreht sich das Greedy Decoding um „She is a cat.“, der Strafwert durchbricht
# die Schleife, Sampling bei 0,7 mit Top-p bleibt beim Thema, und Temperatur 1,5 driftet in
# kaputte Wörter ab. Kommt bei derselben Temperatur `min_p=0.1` hinzu, wird der unwahrscheinliche
# Ausläufer abgeschnitten, den die flache Verteilung erst in Reichweite gebracht hatte, und der
# Text ist wieder lesbar. Genau dafür plädiert das Min-p-Paper: eine hohe Temperatur für
# Abwechslung, aber ohne den Unsinn.
#
# ## Übungen
#
# **Übung 1.** Entscheiden Sie für jede Aufgabe, ob Sie greedy dekodieren oder Sampling verwenden
# würden. Die Zelle unten führt die fünf Aufgaben in `tasks` auf; speichern Sie in `answer` ein Dict
# mit jeder Aufgabe als Schlüssel und `"greedy"` oder `"sampling"` als Wert.

# %%
from companion.exercises.generation_mode import (
    check_decoding_modes,
    check_fixed_sampling,
    check_greedy_predictions,
    check_loop_breaking_penalty,
    check_tokens_left,
)

tasks = [
    "translate a sentence into German",
    "transcribe a voice recording",
    "extract the date from an email",
    "write a bedtime story",
    "suggest names for a new cafe",
]
answer = None  # your code here: a dict with each task of `tasks` as a key, "greedy" or "sampling" as its value
check_decoding_modes(answer)

# %% tags=solution
answer = {
    "translate a sentence into German": "greedy",  # one right translation, fixed by the input
    "transcribe a voice recording": "greedy",  # the words are in the recording
    "extract the date from an email": "greedy",  # the date is in the email
    "write a bedtime story": "sampling",  # variety is the point
    "suggest names for a new cafe": "sampling",  # many good answers
}
check_decoding_modes(answer)

# %% [markdown] lang=en
# **Exercise 2 (predict, then run).** Each call below runs on `inputs` with
# `max_new_tokens=MAX_NEW_TOKENS` right after `set_seed(SEED)`. Which of them return exactly
# the greedy token ids? Predict first (True or False), check, and only then run the calls
# and compare with `greedy_ids`.
#
# | label | extra arguments of `model.generate` |
# |---|---|
# | `"temperature=1.5"` | `temperature=1.5` |
# | `"do_sample=True, temperature=1.5"` | `do_sample=True, temperature=1.5` |
# | `"do_sample=True, top_k=1"` | `do_sample=True, top_k=1` |
# | `"top_k=5, top_p=0.5"` | `top_k=5, top_p=0.5` |
# | `"do_sample=False, repetition_penalty=1.3"` | `do_sample=False, repetition_penalty=1.3` |

# %% [markdown] lang=de
# **Übung 2 (erst vorhersagen, dann ausführen).** Jeder der folgenden Aufrufe läuft auf `inputs`
# mit `max_new_tokens=MAX_NEW_TOKENS`, direkt nach `set_seed(SEED)`. Welche davon liefern genau
# die Token-IDs des Greedy Decoding? Legen Sie sich zuerst fest (True oder False), lassen Sie Ihre
# Vorhersage prüfen, und führen Sie erst danach die Aufrufe aus und vergleichen Sie mit
# `greedy_ids`.
#
# | Label | zusätzliche Argumente von `model.generate` |
# |---|---|
# | `"temperature=1.5"` | `temperature=1.5` |
# | `"do_sample=True, temperature=1.5"` | `do_sample=True, temperature=1.5` |
# | `"do_sample=True, top_k=1"` | `do_sample=True, top_k=1` |
# | `"top_k=5, top_p=0.5"` | `top_k=5, top_p=0.5` |
# | `"do_sample=False, repetition_penalty=1.3"` | `do_sample=False, repetition_penalty=1.3` |

# %%
answer = None  # your code here: a dict label -> True (greedy text) or False
check_greedy_predictions(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS, SEED)

# %% tags=solution
from companion.exercises.generation_mode import CALLS_TO_PREDICT

answer = {}
for label, options in CALLS_TO_PREDICT.items():
    set_seed(SEED)
    output_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, **options)
    answer[label] = torch.equal(output_ids, greedy_ids)
    print(f"{label:42} same as greedy: {answer[label]}")
check_greedy_predictions(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS, SEED)

# %% [markdown] lang=en
# **Exercise 3 (fix a broken call).** A colleague wants a different introduction on every
# run and writes
#
# ```python
# story_inputs = tokenizer(["My name is"], return_tensors="pt").to(model.device)
# story_ids = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, temperature=1.2, top_p=0.95)
# ```
#
# but gets the same text every time. Fix the call, keeping its settings, call `set_seed(SEED)`
# right before it (so that the check can draw the same sample), and store the returned token
# ids in `answer`.

# %% [markdown] lang=de
# **Übung 3 (einen fehlerhaften Aufruf reparieren).** Eine Kollegin möchte bei jedem Aufruf
# eine andere Selbstvorstellung erhalten und schreibt
#
# ```python
# story_inputs = tokenizer(["My name is"], return_tensors="pt").to(model.device)
# story_ids = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, temperature=1.2, top_p=0.95)
# ```
#
# bekommt aber jedes Mal denselben Text. Reparieren Sie den Aufruf, ohne seine Einstellungen zu
# ändern, rufen Sie direkt davor `set_seed(SEED)` auf (damit die Prüfung dasselbe Sample ziehen
# kann), und speichern Sie die zurückgegebenen Token-IDs in `answer`.

# %%
answer = None  # your code here
check_fixed_sampling(answer, model, tokenizer, "My name is", MAX_NEW_TOKENS, SEED)

# %% tags=solution,device-dependent
story_inputs = tokenizer(["My name is"], return_tensors="pt").to(model.device)
set_seed(SEED)
answer = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True, temperature=1.2, top_p=0.95)
print(tokenizer.batch_decode(answer, skip_special_tokens=True))
check_fixed_sampling(answer, model, tokenizer, "My name is", MAX_NEW_TOKENS, SEED)

# %% [markdown] lang=en
# **Exercise 4.** How many tokens can `model.generate(..., do_sample=True, top_p=0.8)` choose
# from for the first token after "I like to"? Compute it yourself from `like_logits`, the
# model's scores after that prompt (softmax, sort, running total), rather than with
# `companion.sampling`, and remember what `generate()` fills in for a setting the call leaves
# out.

# %% [markdown] lang=de
# **Übung 4.** Aus wie vielen Tokens kann `model.generate(..., do_sample=True, top_p=0.8)` den
# ersten Token nach „I like to“ ziehen? Berechnen Sie die Zahl selbst aus `like_logits`, den
# Scores des Modells nach diesem Prompt (Softmax, sortieren, laufende Summe), statt
# `companion.sampling` zu verwenden, und denken Sie daran, was `generate()` für eine Einstellung
# ergänzt, die der Aufruf weglässt.

# %%
from companion.inspection import next_token_logits

like_logits = next_token_logits(model, tokenizer, "I like to")[0]  # (vocabulary,): the model's scores
answer = None  # your code here: a whole number
check_tokens_left(answer, model, tokenizer, "I like to", top_p=0.8)

# %% tags=solution
probabilities = torch.softmax(like_logits, dim=-1)
top_50 = torch.topk(probabilities, 50).values  # generate()'s default top_k=50 runs before top_p
top_50 = top_50 / top_50.sum()  # scaled up to add up to 1 again, sorted from high to low
running_total = torch.cumsum(top_50, dim=-1)
answer = int((running_total < 0.8).sum()) + 1  # the tokens below 0.8, plus the one that reaches it
check_tokens_left(answer, model, tokenizer, "I like to", top_p=0.8)

# %% [markdown] lang=en
# **Exercise 5 (change a setting to reach a goal).** Keep greedy decoding of "I am a cat."
# with `MAX_NEW_TOKENS` new tokens, and use only `repetition_penalty`. What is the smallest
# penalty, trying 1.0, 1.1, 1.2, ... up to 2.0, at which no sentence of the text (prompt
# included) appears twice? `companion.exercises.generation_mode.repeats_a_sentence(text)`
# tells you whether a text still repeats a sentence. Store the penalty in `answer`, or the
# string `"none"` if no penalty up to 2.0 does it.

# %% [markdown] lang=de
# **Übung 5 (eine Einstellung ändern, um ein Ziel zu erreichen).** Bleiben Sie beim Greedy
# Decoding von „I am a cat.“ mit `MAX_NEW_TOKENS` neuen Tokens, und verändern Sie nur
# `repetition_penalty`. Welches ist der kleinste Strafwert, in Schritten von 0,1 von 1,0 bis 2,0
# ausprobiert, bei dem kein Satz des Textes (einschließlich Prompt) zweimal vorkommt?
# `companion.exercises.generation_mode.repeats_a_sentence(text)` sagt Ihnen, ob sich in einem
# Text noch ein Satz wiederholt. Speichern Sie den Strafwert in `answer`, oder den String
# `"none"`, falls kein Strafwert bis 2,0 das schafft.

# %%
answer = None  # your code here: a penalty, or "none"
check_loop_breaking_penalty(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS)

# %% tags=solution
from companion.exercises.generation_mode import repeats_a_sentence

answer = "none"  # stays "none" if no penalty up to 2.0 breaks the loop
for step in range(11):
    penalty = round(1.0 + step / 10, 1)  # 1.0, 1.1, ..., 2.0
    output_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, repetition_penalty=penalty)
    text = tokenizer.batch_decode(output_ids, skip_special_tokens=True)[0]
    print(f"repetition_penalty={penalty}: {text!r}")
    if not repeats_a_sentence(text):
        answer = penalty  # the first penalty without a repeated sentence is the smallest
        break
check_loop_breaking_penalty(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS)

# %% [markdown] lang=en
# ## Summary
#
# - Greedy decoding (`do_sample=False`) picks the most likely token every time: repeatable,
#   right for input-grounded tasks, but prone to loops in open-ended text.
# - `do_sample=True` draws from the distribution; `set_seed` makes a sample repeatable.
# - `temperature`, `top_k`, `top_p` and `min_p` act only with `do_sample=True`. Without it,
#   they are ignored, and transformers says so once per session ("The following generation
#   flags are not valid and may be ignored"): always write `do_sample=` explicitly.
# - `temperature` sharpens (< 1) or flattens (> 1) the distribution; `top_k`, `top_p` and
#   `min_p` cut off its unlikely tail; `top_k=1` is greedy decoding again.
# - A plain `generate(do_sample=True)` keeps only the 50 most likely tokens: transformers fills
#   in `top_k=50` when neither the call nor the model's generation config sets it; `top_k=None`
#   (or 0) switches it off.
# - Some checkpoints sample by default (`"do_sample": true` in their `generation_config.json`).
#   Look at `model.generation_config`; override it in the call (`do_sample=False`) or for good
#   (`model.generation_config.update(...)`).
# - `repetition_penalty` and `no_repeat_ngram_size` work in greedy mode too and break loops,
#   at the price of also discouraging wanted repeats.
# - Beam search (`num_beams`) looks for the most likely whole sequence; use it, like greedy
#   decoding, where the input determines the answer.
#
# **References**
#
# - Holtzman, Buys, Du, Forbes, Choi (2020). *The Curious Case of Neural Text Degeneration.*
#   ICLR 2020. arXiv:1904.09751 (nucleus / top-p sampling).
# - Nguyen, Baker, Neo, Roush, Kirsch, Shwartz-Ziv (2024). *Turning Up the Heat: Min-p
#   Sampling for Creative and Coherent LLM Outputs.* arXiv:2407.01082 (min-p sampling).
# - Keskar, McCann, Varshney, Xiong, Socher (2019). *CTRL: A Conditional Transformer Language
#   Model for Controllable Generation.* arXiv:1909.05858 (repetition penalty).
#
# Next, notebook 04: batches and the padding side.

# %% [markdown] lang=de
# ## Zusammenfassung
#
# - Das Greedy Decoding (`do_sample=False`) wählt jedes Mal den wahrscheinlichsten Token: Das ist
#   wiederholbar und richtig für Aufgaben, deren Ergebnis durch die Eingabe feststeht, aber bei
#   offenem Text anfällig für Schleifen.
# - `do_sample=True` zieht aus der Verteilung; `set_seed` macht ein Sample wiederholbar.
# - `temperature`, `top_k`, `top_p` und `min_p` wirken nur mit `do_sample=True`. Ohne diese
#   Angabe werden sie ignoriert, und transformers weist nur einmal pro Sitzung darauf hin
#   („The following generation flags are not valid and may be ignored“): Schreiben Sie
#   `do_sample=` immer ausdrücklich.
# - `temperature` schärft (< 1) oder glättet (> 1) die Verteilung; `top_k`, `top_p` und `min_p`
#   schneiden ihren unwahrscheinlichen Ausläufer ab; `top_k=1` ist wieder Greedy Decoding.
# - Ein schlichtes `generate(do_sample=True)` behält nur die 50 wahrscheinlichsten Tokens:
#   transformers ergänzt `top_k=50`, wenn weder der Aufruf noch die Generierungskonfiguration des
#   Modells einen Wert festlegt; `top_k=None` (oder 0) schaltet das ab.
# - Manche Checkpoints verwenden von sich aus Sampling (`"do_sample": true` in ihrer
#   `generation_config.json`). Sehen Sie in `model.generation_config` nach und überschreiben Sie den
#   Wert im Aufruf (`do_sample=False`) oder dauerhaft (`model.generation_config.update(...)`).
# - `repetition_penalty` und `no_repeat_ngram_size` wirken auch im Greedy-Modus und durchbrechen
#   Schleifen, allerdings um den Preis, dass sie auch erwünschte Wiederholungen erschweren.
# - Die Beam Search (`num_beams`) sucht die wahrscheinlichste ganze Sequenz; setzen Sie sie wie
#   das Greedy Decoding dort ein, wo die Eingabe die Antwort bestimmt.
#
# **Literatur**
#
# - Holtzman, Buys, Du, Forbes, Choi (2020). *The Curious Case of Neural Text Degeneration.*
#   ICLR 2020. arXiv:1904.09751 (Nucleus Sampling bzw. Top-p Sampling).
# - Nguyen, Baker, Neo, Roush, Kirsch, Shwartz-Ziv (2024). *Turning Up the Heat: Min-p
#   Sampling for Creative and Coherent LLM Outputs.* arXiv:2407.01082 (Min-p Sampling).
# - Keskar, McCann, Varshney, Xiong, Socher (2019). *CTRL: A Conditional Transformer Language
#   Model for Controllable Generation.* arXiv:1909.05858 (Repetition Penalty).
#
# Als Nächstes, in Notebook 04: Batches und die Seite, auf der das Padding (das Auffüllen
# kürzerer Eingaben) ansetzt.
