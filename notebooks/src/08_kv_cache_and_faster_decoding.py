# %% [markdown] lang=en
# # 08 · The KV cache and faster decoding
#
# Notebook 06 measured that every new token costs one full read of the model's weights. This
# notebook looks inside a `generate()` call to see where that time goes, and at two ways to
# make greedy decoding faster without changing a single output token: the **KV cache** that
# `generate()` uses by default, and **prompt lookup decoding**, which drafts tokens by copying
# them from the prompt. Every figure is measured live on your machine.
#
# **What you will learn**
#
# - what the KV cache holds (keys and values for every layer and every position read so far),
#   and how to look at it: `outputs.cache`, a `DynamicCache`
# - the two phases of generation: *prefill* (one forward pass over the whole prompt, the time
#   to first token) and *decode* (one pass per new token), and why decode is memory-bound
# - what `use_cache=False` costs, measured, with the same output tokens
# - how `prompt_lookup_num_tokens` lets one forward pass accept several tokens, how many of the
#   drafted tokens were accepted, and why the output equals plain greedy decoding
# - what assisted (speculative) decoding with a small draft model needs: the same tokenizer, or
#   `tokenizer=` and `assistant_tokenizer=`

# %% [markdown] lang=de
# # 08 · Der KV-Cache und schnelleres Decoding
#
# Notebook 06 hat gemessen, dass jeder neue Token einen vollständigen Lesedurchgang durch die
# Gewichte des Modells kostet. In diesem Notebook schauen Sie in einen Aufruf von `generate()`
# hinein und sehen, wohin diese Zeit geht. Außerdem lernen Sie zwei Wege kennen, Greedy Decoding
# zu beschleunigen, ohne einen einzigen Token der Ausgabe zu verändern: den **KV-Cache**, den
# `generate()` standardmäßig verwendet, und **Prompt Lookup Decoding**, das Tokens als Entwurf
# vorschlägt, indem es sie aus dem Prompt kopiert. Alle Zahlen werden live auf Ihrem Rechner gemessen.
#
# **Was Sie lernen**
#
# - was der KV-Cache enthält (Keys und Values für jede Schicht und jede bisher gelesene Position)
#   und wie Sie ihn sich ansehen: `outputs.cache`, ein `DynamicCache`
# - die zwei Phasen der Generierung: *Prefill* (ein Durchlauf durch das Modell über den
#   ganzen Prompt; er bestimmt die Zeit bis zum ersten Token) und *Decode* (ein
#   Durchlauf pro neuem Token), und warum Decode vom Speicher ausgebremst wird
# - was `use_cache=False` kostet, gemessen, bei denselben Ausgabe-Tokens
# - wie `prompt_lookup_num_tokens` einem einzigen Durchlauf erlaubt, mehrere Tokens zu übernehmen,
#   wie viele der Entwurfs-Tokens angenommen wurden und warum die Ausgabe genau der des einfachen
#   Greedy Decoding entspricht
# - was assistiertes (spekulatives) Decoding mit einem kleinen Entwurfsmodell voraussetzt: denselben
#   Tokenizer oder `tokenizer=` und `assistant_tokenizer=`

# %% [colab-install]

# %% tags=parameters
MODEL = "smollm2-135m"  # an instruct model (a base model such as tutorial-tiny gets a plain-text prompt); on a GPU e.g. "HuggingFaceTB/SmolLM2-1.7B-Instruct"
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization
MAX_NEW_TOKENS = 24  # new tokens per timed generate() call (kept small: we time things)
LOOKUP_TOKENS = 10  # prompt_lookup_num_tokens: how many tokens each draft copies from the prompt
REPEATS = 3  # each timing is the median of this many runs
SEED = 0  # setup_notebook seeds Python, NumPy and torch with it (this notebook decodes greedily)

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
import time
import statistics

import torch

from companion.decoding import ForwardPassRecorder, draft_acceptance, time_prefill_and_decode
from companion.throughput import weight_bytes

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(type(model).__name__)  # the setup line above names the device (cpu or cuda)

# %% [markdown] lang=en
# ## The task: an answer that copies from its prompt
#
# We ask the instruct model to correct the spelling mistakes in a short passage. Such
# *input-grounded* tasks (correcting, editing, extracting, summarising, answering questions
# about a document) are common, and their answers repeat long stretches of the prompt. That
# will matter for prompt lookup decoding below; for the KV cache any prompt would do.
# The prompt goes through the chat template, as in notebook 05. A base model (no chat
# template, such as `tutorial-tiny`) gets the same request as plain text to continue; it
# will not correct anything, but every measurement below works the same way.

# %% [markdown] lang=de
# ## Die Aufgabe: eine Antwort, die aus ihrem Prompt abschreibt
#
# Wir bitten das Instruct-Modell, die Rechtschreibfehler in einem kurzen Textabschnitt zu
# korrigieren. Solche *eingabegebundenen* Aufgaben (englisch *input-grounded*: korrigieren,
# überarbeiten, Angaben herausziehen, zusammenfassen, Fragen zu einem Dokument beantworten) sind
# häufig, und ihre Antworten wiederholen lange Stücke des Prompts. Das wird weiter unten für Prompt
# Lookup Decoding wichtig; für den KV-Cache würde jeder beliebige Prompt genügen.
# Der Prompt läuft wie in Notebook 05 durch das Chat-Template. Ein Basismodell (ohne Chat-Template,
# etwa `tutorial-tiny`) bekommt dieselbe Bitte als einfachen Text, den es fortsetzen soll; es wird
# nichts korrigieren, aber alle Messungen unten funktionieren genauso.

# %%
passage = (
    "The Eiffel Tower is a wrought-iron latice tower on the Champ de Mars in Paris, France. "
    "It is named after the enginer Gustave Eiffel, whose company desinged and built the tower from 1887 to 1889."
)
request = f"Correct the spelling mistakes in this text:\n\n{passage}"
if tokenizer.chat_template:
    messages = [{"role": "user", "content": request}]
    passage_inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(model.device)
else:
    print(f"{MODEL} has no chat template: a base model, so the request is plain text to continue.")
    passage_inputs = tokenizer(request + "\n\nCorrected text:", return_tensors="pt").to(model.device)
prompt_length = passage_inputs["input_ids"].shape[1]
print(f"{prompt_length} prompt tokens")

# %% [markdown] lang=en
# ## What the KV cache holds
#
# Inside every layer, attention turns each position into a *query*, a *key* and a *value*.
# The new token's query is compared with the keys of all earlier positions, and their values
# are mixed by the result. The keys and values of earlier positions never change (a causal
# model does not look ahead), so instead of computing them again at every step, the model can
# keep them: that store is the **KV cache**.
#
# Call the model once on the prompt with `use_cache=True` and it returns the cache next to the
# logits. In transformers 5.24.0, the version this course runs on, the output field is called
# `cache` (new in 5.24.0; 5.23 and earlier call it `past_key_values`) and holds a `DynamicCache`,
# the class `generate()` creates by default (`_prepare_cache_for_generation` in
# `generation/utils.py`). It keeps one layer object per model layer, each with a `keys` and a
# `values` tensor of shape (batch, key/value heads, positions, head size).

# %% [markdown] lang=de
# ## Was der KV-Cache enthält
#
# In jeder Schicht macht die Attention aus jeder Position eine *Query* (Anfrage), einen *Key*
# (Schlüssel) und einen *Value* (Wert). Die Query des neuen Tokens wird mit den Keys aller
# früheren Positionen verglichen, und das Ergebnis legt fest, wie deren Values gemischt werden. Die
# Keys und Values früherer Positionen ändern sich nie (ein kausales Modell schaut nicht nach vorn).
# Statt sie bei jedem Schritt neu zu berechnen, kann das Modell sie also aufbewahren: Dieser
# Speicher ist der **KV-Cache**.
#
# Rufen Sie das Modell einmal mit `use_cache=True` auf dem Prompt auf, dann gibt es den Cache neben
# den Logits zurück. In transformers 5.24.0, der Version, mit der dieser Kurs läuft, heißt dieses Feld
# der Ausgabe `cache` (neu in 5.24.0; 5.23 und ältere Versionen nennen es `past_key_values`) und
# enthält einen
# `DynamicCache`, die Klasse, die `generate()` standardmäßig anlegt
# (`_prepare_cache_for_generation` in `generation/utils.py`). Er verwaltet ein Layer-Objekt pro Schicht
# des Modells, jedes mit einem Tensor `keys` und einem Tensor `values` der Form (Batch,
# Key/Value-Heads, Positionen, Head-Größe). Ein Head (ein „Kopf“ der Attention) ist einer der
# parallel arbeitenden Teile, in die sich die Attention einer Schicht aufteilt.

# %%
with torch.inference_mode():
    outputs = model(**passage_inputs, use_cache=True)
cache = outputs.cache
print(type(cache).__name__, "with", len(cache.layers), "layers, positions stored:", cache.get_seq_length())
print("layer 0 keys:  ", tuple(cache.layers[0].keys.shape))
print("layer 0 values:", tuple(cache.layers[0].values.shape))
text_config = model.config.get_text_config()
print(f"config: {text_config.num_hidden_layers} layers, {text_config.num_attention_heads} query heads, "
      f"{text_config.num_key_value_heads} key/value heads, head size {text_config.head_dim}")

# %% [markdown] lang=en
# The shape reads: one prompt, as many key/value heads as the config says, one entry per
# prompt position, and the size of one head. With `smollm2-135m` there are fewer key/value
# heads than query heads: it uses *grouped-query attention*, where several query heads share
# one key/value head, which makes the cache several times smaller.
#
# Many tutorials written for transformers 4.x read the cache as `outputs.past_key_values`. In
# transformers 5.24 that name still works, but the warning under the next cell says it is
# deprecated (`utils/generic.py`); the `past_key_values=` argument of the model's `forward`
# is deprecated too, and is to be removed in 5.40 (`@deprecate_kwarg` in `modeling_llama.py`).

# %% [markdown] lang=de
# Die Form liest sich so: ein Prompt, so viele Key/Value-Heads, wie die Konfiguration angibt, ein
# Eintrag pro Position des Prompts und die Größe eines Heads. Bei `smollm2-135m` gibt es weniger
# Key/Value-Heads als Query-Heads: Das Modell verwendet *Grouped-Query Attention*, bei der sich
# mehrere Query-Heads einen Key/Value-Head teilen. Dadurch wird der Cache um ein Mehrfaches kleiner.
#
# Viele Tutorials, die für transformers 4.x geschrieben wurden, lesen den Cache als
# `outputs.past_key_values`. In transformers 5.24 funktioniert dieser Name noch, aber die Warnung
# unter der nächsten Zelle sagt, dass er veraltet ist (`utils/generic.py`). Auch das Argument
# `past_key_values=` der `forward`-Methode des Modells ist veraltet und soll in 5.40 entfernt werden
# (`@deprecate_kwarg` in `modeling_llama.py`).

# %%
old_name = outputs.past_key_values
print("the same object:", old_name is cache)

# %% [markdown] lang=en
# How big is the cache? Keys and values, for every layer and position, compared with the
# weights that each decoding step reads:

# %% [markdown] lang=de
# Wie groß ist der Cache? Keys und Values für jede Schicht und jede Position, verglichen mit den
# Gewichten, die jeder Decoding-Schritt liest:

# %%
cache_bytes = 0
for layer in cache.layers:
    cache_bytes += layer.keys.numel() * layer.keys.element_size()
    cache_bytes += layer.values.numel() * layer.values.element_size()
print(f"KV cache: {cache_bytes / 1e6:.2f} MB for {cache.get_seq_length()} positions "
      f"({cache_bytes / cache.get_seq_length() / 1e3:.1f} kB per position)")
print(f"weights:  {weight_bytes(model) / 1e6:.1f} MB")

# %% [markdown] lang=en
# For a short prompt and a small model the cache is tiny next to the weights. It grows with
# every position and with the batch size, so for long contexts and big batches it becomes the
# main user of GPU memory; the KV cache guide under *Further reading* shows the other cache
# classes (static, offloaded, quantized) made for that.
#
# ## One decoding step with the cache, by hand
#
# With the cache, the next step only needs the one new token: we pass it as `input_ids` and
# the cache as `cache=`. The model computes the new position's keys and values, appends them
# to the cache, and attends over all of them. The result must be the same as running the
# whole sequence again without a cache:

# %% [markdown] lang=de
# Bei einem kurzen Prompt und einem kleinen Modell ist der Cache neben den Gewichten winzig. Er wächst
# aber mit jeder Position und mit der Batch-Größe; bei langen Kontexten und großen Batches belegt er
# deshalb den größten Teil des GPU-Speichers. Die Anleitung zum KV-Cache unter *Weiterführendes*
# stellt die anderen Cache-Klassen vor, die dafür gedacht sind (statisch, ausgelagert, quantisiert).
#
# ## Ein Decoding-Schritt mit dem Cache, von Hand
#
# Mit dem Cache braucht der nächste Schritt nur den einen neuen Token: Wir übergeben ihn als
# `input_ids` und den Cache als `cache=`. Das Modell berechnet Keys und Values der neuen Position,
# hängt sie an den Cache an und bezieht in der Attention alle Positionen ein. Das Ergebnis muss
# dasselbe sein, als liefe die ganze Folge noch einmal ohne Cache durch das Modell:

# %%
next_token = outputs.logits[:, -1].argmax(dim=-1, keepdim=True)  # (1, 1): the greedy choice after the prompt
with torch.inference_mode():
    step = model(input_ids=next_token, cache=cache, use_cache=True)  # reads 1 position
    full_ids = torch.cat([passage_inputs["input_ids"], next_token], dim=1)
    full = model(input_ids=full_ids, use_cache=False)  # reads all positions again
print("positions in the cache now:", cache.get_seq_length())
print("same next token:", step.logits[0, -1].argmax().item() == full.logits[0, -1].argmax().item())

# %% [markdown] lang=en
# The cache grew by one position (a `DynamicCache` is updated in place), and both ways pick
# the same next token. Their logits agree up to the last bits of floating point, because the
# sums are computed in a different order.
#
# ## generate() with and without the cache
#
# `generate()` uses the cache unless you pass `use_cache=False` (or the model's generation
# config says so). We run both ways on our prompt, greedily, for a few new tokens
# (`min_new_tokens` keeps the count fixed), and time them. Without the cache, each step runs
# the model over the whole sequence so far, so we keep this experiment short.

# %% [markdown] lang=de
# Der Cache ist um eine Position gewachsen (ein `DynamicCache` wird direkt verändert, nicht
# kopiert), und beide Wege wählen denselben nächsten Token. Die Logits der beiden stimmen bis auf die letzten
# Bits der Gleitkommadarstellung überein, weil die Summen in anderer Reihenfolge berechnet werden.
#
# ## generate() mit und ohne Cache
#
# `generate()` verwendet den Cache, solange Sie nicht `use_cache=False` übergeben (oder die
# Generierungskonfiguration des Modells es so festlegt). Wir lassen beide Varianten mit Greedy
# Decoding auf unserem Prompt laufen, für wenige neue Tokens (`min_new_tokens` hält die Anzahl fest),
# und messen die Zeit. Ohne Cache schickt jeder Schritt die gesamte bisherige Folge durch das Modell;
# deshalb halten wir dieses Experiment kurz.

# %% tags=nbval-ignore-output
comparison_tokens = 4  # each step without the cache re-reads the whole prompt: keep it short
timings = {True: [], False: []}
results = {}
with torch.inference_mode():
    for _ in range(REPEATS):
        for use_cache in (True, False):
            with ForwardPassRecorder(model) as passes:
                start = time.perf_counter()
                generated = model.generate(
                    **passage_inputs, max_new_tokens=comparison_tokens, min_new_tokens=comparison_tokens,
                    do_sample=False, use_cache=use_cache,
                )
                timings[use_cache].append(time.perf_counter() - start)
            results[use_cache] = (generated, passes.input_lengths)
with_cache_s = statistics.median(timings[True])
without_cache_s = statistics.median(timings[False])
print(f"use_cache=True:  {with_cache_s:.2f} s for {comparison_tokens} new tokens (median of {REPEATS})")
print(f"use_cache=False: {without_cache_s:.2f} s")
print(f"the cache makes it {without_cache_s / with_cache_s:.1f}x faster")

# %% [markdown] lang=en
# Same tokens? And what did the model compute? A `ForwardPassRecorder` (a forward hook on
# the model, from `companion.decoding`) was watching those calls and noted how many positions
# each forward pass read:

# %% [markdown] lang=de
# Dieselben Tokens? Und was hat das Modell berechnet? Ein `ForwardPassRecorder` (ein Forward Hook
# am Modell, aus `companion.decoding`) hat diese Aufrufe beobachtet und notiert, wie viele
# Positionen jeder Durchlauf gelesen hat:

# %%
(ids_with_cache, lengths_with_cache), (ids_without_cache, lengths_without_cache) = results[True], results[False]
print("same tokens:", torch.equal(ids_with_cache, ids_without_cache))
print("use_cache=True,  positions per pass:", lengths_with_cache, "total", sum(lengths_with_cache))
print("use_cache=False, positions per pass:", lengths_without_cache, "total", sum(lengths_without_cache))

# %% [markdown] lang=en
# With the cache, the first pass reads the prompt and every later pass reads one position.
# Without it, every pass reads the prompt again plus all tokens generated so far: about
# `comparison_tokens` times the work, and the gap widens with every token and with longer
# prompts. The output is the same, because the cached keys and values are exactly what the
# model would compute again.
#
# ## Two phases: prefill and decode
#
# So a cached `generate()` call has two phases:
#
# 1. **Prefill**: one forward pass over the whole prompt. Its end is the *time to first token*,
#    what a chat user waits for before anything appears.
# 2. **Decode**: one forward pass per new token, each reading one position.
#
# To time both, give `generate()` a streamer (as `TextStreamer` in notebook 06) that only writes
# down the clock. `generate()` hands the streamer the prompt first, right before prefill, and
# then each new token as soon as it is chosen, so the first gap is the time to first token and
# the later gaps are decode steps:

# %% [markdown] lang=de
# Mit dem Cache liest der erste Durchlauf den Prompt, und jeder weitere liest eine Position. Ohne
# Cache liest jeder Durchlauf den Prompt erneut und dazu alle bisher erzeugten Tokens: etwa
# `comparison_tokens`-mal so viel Arbeit, und der Abstand wächst mit jedem Token und mit längeren
# Prompts. Die Ausgabe ist dieselbe, denn die gespeicherten Keys und Values sind genau das, was das
# Modell sonst erneut berechnen würde.
#
# ## Zwei Phasen: Prefill und Decode
#
# Ein `generate()`-Aufruf mit Cache hat also zwei Phasen:
#
# 1. **Prefill** (das Befüllen des Caches): ein Durchlauf über den ganzen Prompt. Sein Ende
#    markiert die *Zeit bis zum ersten Token* (englisch *time to first token*), also das, worauf
#    jemand im Chat wartet, bevor überhaupt etwas erscheint.
# 2. **Decode**: ein Durchlauf pro neuem Token, der jeweils eine Position liest.
#
# Um beide Phasen zu messen, übergeben Sie `generate()` einen Streamer (wie `TextStreamer` in
# Notebook 06), der nur die Uhrzeit notiert. `generate()` reicht dem Streamer zuerst den Prompt,
# unmittelbar vor dem Prefill, und danach jeden neuen Token, sobald er gewählt ist. Der erste
# Abstand ist also die Zeit bis zum ersten Token, die späteren Abstände sind Decode-Schritte:

# %% tags=nbval-ignore-output
import time

from transformers.generation.streamers import BaseStreamer


class ClockStreamer(BaseStreamer):
    """Notes time.perf_counter() each time generate() hands over tokens: first the prompt, then each new token."""

    def __init__(self):
        self.times = []

    def put(self, value):
        self.times.append(time.perf_counter())

    def end(self):
        pass


clock = ClockStreamer()
model.generate(**passage_inputs, max_new_tokens=MAX_NEW_TOKENS, min_new_tokens=MAX_NEW_TOKENS, do_sample=False,
               streamer=clock)
prompt_handed_over, first_token, *later_tokens = clock.times
decode_steps = len(later_tokens)
print(f"time to first token: {(first_token - prompt_handed_over) * 1000:6.1f} ms")
print(f"decode:              {(later_tokens[-1] - first_token) * 1000 / decode_steps:6.1f} ms per new token "
      f"({decode_steps} steps)")

# %% [markdown] lang=en
# One run, and the very first call of a process also pays one-off costs.
# `time_prefill_and_decode` does the same with a warm-up and the median of `REPEATS` runs, and
# puts the prefill per prompt token next to a decode step (its streamer is
# `companion.decoding.TokenTimer`; read both with `??`):

# %% [markdown] lang=de
# Das ist ein einzelner Lauf, und der allererste Aufruf in einem Prozess zahlt zusätzlich einmalige
# Kosten. `time_prefill_and_decode` macht dasselbe mit einem Aufwärmlauf und dem Median aus
# `REPEATS` Läufen und stellt den Prefill pro Prompt-Token einem Decode-Schritt gegenüber (sein
# Streamer ist `companion.decoding.TokenTimer`; sehen Sie sich den Code beider mit `??` an):

# %% tags=nbval-ignore-output
greedy_times = time_prefill_and_decode(model, passage_inputs, new_tokens=MAX_NEW_TOKENS, repeats=REPEATS)
print(f"prefill (time to first token): {greedy_times.prefill_ms:6.1f} ms for {prompt_length} prompt tokens "
      f"= {greedy_times.prefill_ms_per_prompt_token:.1f} ms per prompt token")
print(f"decode:                        {greedy_times.decode_ms_per_token:6.1f} ms per new token")
print(f"one new token costs as much as {greedy_times.decode_ms_per_token / greedy_times.prefill_ms_per_prompt_token:.0f} "
      "prompt tokens")

# %% [markdown] lang=en
# Per token, the prompt is far cheaper than the answer. Both phases read all the weights once
# per forward pass (notebook 06), but prefill shares that read among all the prompt's positions
# and multiplies matrices by matrices, which keeps the processor busy computing. A decode step
# reads the same weights for a single position and does about two floating-point operations
# (a multiply and an add) per weight: far too little arithmetic to keep up with the bytes
# streaming in. Decode is **memory-bound**: moving the weights sets its pace, not computing.
#
# Then a pass that reads a few positions should cost little more than a pass that reads one.
# We measure it with the cache from above: fill it with the prompt once, then time one pass over
# 1 position and one over `LOOKUP_TOKENS + 1` positions, and after each pass `crop` the cache
# back to the prompt (in transformers 5.24, `DynamicCache.crop(-n)` removes the last n positions):

# %% [markdown] lang=de
# Pro Token ist der Prompt weit billiger als die Antwort. Beide Phasen lesen pro Durchlauf alle
# Gewichte einmal (Notebook 06), aber Prefill teilt diesen Lesevorgang auf alle Positionen des
# Prompts auf und multipliziert Matrizen mit Matrizen; das hält den Prozessor mit Rechnen
# beschäftigt. Ein Decode-Schritt liest dieselben Gewichte für eine einzige Position und führt pro
# Gewicht etwa zwei Gleitkommaoperationen aus (eine Multiplikation und eine Addition): viel zu wenig
# Rechenarbeit, um mit den hereinströmenden Bytes Schritt zu halten. Decode ist **speichergebunden**
# (englisch *memory-bound*): Das Tempo gibt das Verschieben der Gewichte vor, nicht das Rechnen.
#
# Dann sollte ein Durchlauf, der einige Positionen liest, kaum mehr kosten als einer, der nur eine
# liest. Wir messen das mit dem Cache von oben: Wir füllen ihn einmal mit dem Prompt und stoppen dann
# einen Durchlauf über 1 Position und einen über `LOOKUP_TOKENS + 1` Positionen. Nach jedem Durchlauf
# kürzen wir den Cache mit `crop` wieder auf den Prompt (in transformers 5.24 entfernt
# `DynamicCache.crop(-n)` die letzten n Positionen):

# %% tags=nbval-ignore-output
with torch.inference_mode():
    step_cache = model(**passage_inputs, use_cache=True).cache
    pass_ms = {}
    for positions in (1, LOOKUP_TOKENS + 1):
        new_positions = passage_inputs["input_ids"][:, 1:1 + positions]  # any tokens will do for timing
        durations = []
        for _ in range(REPEATS + 1):  # the first run only warms up
            start = time.perf_counter()
            model(input_ids=new_positions, cache=step_cache, use_cache=True)
            durations.append(time.perf_counter() - start)
            step_cache.crop(-positions)  # forget the positions just added
        pass_ms[positions] = statistics.median(durations[1:]) * 1000
for positions, milliseconds in pass_ms.items():
    print(f"one pass over {positions:2d} positions: {milliseconds:6.1f} ms")
print(f"{LOOKUP_TOKENS + 1} positions in one pass cost {pass_ms[LOOKUP_TOKENS + 1] / pass_ms[1]:.1f}x one position, "
      f"instead of {LOOKUP_TOKENS + 1}x in {LOOKUP_TOKENS + 1} passes")

# %% [markdown] lang=en
# Reading several positions in one pass costs more than reading one (on a CPU noticeably more:
# it has far less arithmetic per byte of memory bandwidth than a GPU), but far less than one
# pass per position. That is what the next trick exploits.
#
# ## Prompt lookup decoding
#
# So we could check several *guessed* tokens in one pass. Where do the guesses come from? In an
# input-grounded task the answer copies the prompt. **Prompt lookup decoding** (Apoorv Saxena, 2023,
# github.com/apoorvumang/prompt-lookup-decoding) takes the last few tokens generated so far,
# finds the same n-gram in the prompt, and proposes the tokens that followed it there as a
# draft. One forward pass over the draft gives the model's own choice at every draft position;
# the draft is kept up to the first disagreement, plus the model's own token at that position.
#
# In transformers 5.24 you switch it on with one argument, `prompt_lookup_num_tokens` (the draft
# length). `generate()` then runs its assisted-generation loop (`_assisted_decoding`) with a
# `PromptLookupCandidateGenerator` (`generation/candidate_generator.py`), which matches n-grams
# of up to `max_matching_ngram_size` tokens (default 2). It works with greedy search and with
# sampling, for a batch of one prompt; with greedy search, every kept token is the model's own
# greedy choice, so **the output must equal plain greedy decoding**:

# %% [markdown] lang=de
# Mehrere Positionen in einem Durchlauf zu lesen kostet mehr als eine einzige (auf einer CPU deutlich
# mehr, denn sie hat pro Byte Speicherbandbreite weit weniger Rechenleistung als eine GPU), aber weit
# weniger als ein eigener Durchlauf pro Position. Genau das nutzt der nächste Trick aus.
#
# ## Prompt Lookup Decoding
#
# Wir könnten also mehrere *geratene* Tokens in einem Durchlauf prüfen. Woher kommen die Vermutungen?
# Bei einer eingabegebundenen Aufgabe schreibt die Antwort aus dem Prompt ab. **Prompt Lookup
# Decoding** (Apoorv Saxena, 2023, github.com/apoorvumang/prompt-lookup-decoding) nimmt die letzten
# paar bisher erzeugten Tokens, sucht dasselbe N-Gramm (eine Folge von n Tokens) im Prompt und schlägt
# die Tokens, die dort darauf folgten, als Entwurf (englisch *draft*) vor. Ein Durchlauf über den
# Entwurf liefert an jeder Entwurfsposition die eigene Wahl des Modells. Der Entwurf wird bis zur
# ersten Abweichung übernommen, dazu der eigene Token des Modells an dieser Stelle.
#
# In transformers 5.24 schalten Sie das mit einem einzigen Argument ein: `prompt_lookup_num_tokens`
# (die Länge des Entwurfs). `generate()` durchläuft dann seine Schleife für assistierte Generierung
# (`_assisted_decoding`) mit einem `PromptLookupCandidateGenerator`
# (`generation/candidate_generator.py`), der N-Gramme aus bis zu `max_matching_ngram_size` Tokens
# abgleicht (Standardwert 2). Das funktioniert mit Greedy Search und mit Sampling, für einen Batch aus
# einem einzigen Prompt. Bei Greedy Search ist jeder übernommene Token genau der, den das Modell auch
# ohne Entwurf gewählt hätte, deshalb **muss die Ausgabe dem einfachen Greedy Decoding gleichen**:

# %%
with torch.inference_mode():
    greedy_ids = model.generate(**passage_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    with ForwardPassRecorder(model) as lookup_passes:
        lookup_ids = model.generate(
            **passage_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, prompt_lookup_num_tokens=LOOKUP_TOKENS
        )
print("same tokens as greedy:", torch.equal(greedy_ids, lookup_ids))
print(repr(tokenizer.decode(lookup_ids[0, prompt_length:], skip_special_tokens=True)))

# %% [markdown] lang=en
# A model of 135 million parameters is a poor proofreader: in these first tokens it copies the
# passage, mistake included. Copying is what prompt lookup needs, and it did not change one
# token of the answer.
#
# How many forward passes did it take, and how many drafted tokens were accepted? Every pass
# reads its draft (the first one also the prompt), so the recorder shows the drafts, and each
# pass adds the accepted part of its draft plus one token of the model's own:

# %% [markdown] lang=de
# Ein Modell mit 135 Millionen Parametern ist ein schwacher Korrekturleser: In diesen ersten Tokens
# schreibt es den Abschnitt ab, samt Fehler. Abschreiben ist genau das, was Prompt Lookup braucht,
# und das Verfahren hat keinen einzigen Token der Antwort verändert.
#
# Wie viele Durchläufe waren nötig, und wie viele Entwurfs-Tokens wurden angenommen? Jeder
# Durchlauf liest seinen Entwurf (der erste außerdem den Prompt), daher zeigt der Recorder die
# Entwürfe. Jeder Durchlauf fügt den angenommenen Teil seines Entwurfs hinzu und dazu einen eigenen
# Token des Modells:

# %%
new_token_count = lookup_ids.shape[1] - prompt_length
acceptance = draft_acceptance(lookup_passes.input_lengths, prompt_length, new_token_count)
print("positions per pass:", lookup_passes.input_lengths)
print(f"{acceptance.new_tokens} new tokens in {acceptance.forward_passes} forward passes "
      f"({acceptance.tokens_per_pass:.1f} tokens per pass; plain greedy decoding makes 1)")
print(f"drafted tokens: {acceptance.proposed} proposed, {acceptance.accepted} accepted "
      f"({acceptance.acceptance_rate:.0%})")

# %% [markdown] lang=en
# A pass of one token means no draft was found (the last tokens did not occur in the prompt) or
# the token budget was almost spent. Fewer passes is not yet less time: as measured above, a
# pass over a draft costs more than a one-token pass. The clock decides (same prompt, same
# number of new tokens, median of `REPEATS` runs each):

# %% [markdown] lang=de
# Ein Durchlauf über nur einen Token bedeutet, dass kein Entwurf gefunden wurde (die letzten Tokens
# kamen im Prompt nicht vor) oder dass das Token-Budget fast aufgebraucht war. Weniger Durchläufe
# bedeuten aber noch nicht weniger Zeit: Wie oben gemessen, kostet ein Durchlauf über einen Entwurf mehr
# als einer über einen einzigen Token. Entscheiden muss die Uhr (gleicher Prompt, gleiche Anzahl neuer
# Tokens, jeweils der Median aus `REPEATS` Wiederholungen):

# %% tags=nbval-ignore-output
lookup_times = time_prefill_and_decode(
    model, passage_inputs, new_tokens=MAX_NEW_TOKENS, repeats=REPEATS, prompt_lookup_num_tokens=LOOKUP_TOKENS
)
print(f"greedy:        {greedy_times.total_ms:7.0f} ms for {MAX_NEW_TOKENS} new tokens")
print(f"prompt lookup: {lookup_times.total_ms:7.0f} ms")
print(f"speed-up:      {greedy_times.total_ms / lookup_times.total_ms:.1f}x "
      f"(forward passes: {new_token_count / acceptance.forward_passes:.1f}x fewer)")

# %% [markdown] lang=en
# Prompt lookup pays off when the answer copies its prompt. For an open question whose answer
# shares little with the prompt, few drafts are found or accepted, and the extra work per pass
# can make it slightly slower than plain decoding.
#
# ## Speculative decoding with a draft model
#
# Prompt lookup is a special case of **speculative decoding** (Leviathan, Kalman and Matias,
# 2023, "Fast Inference from Transformers via Speculative Decoding", arXiv:2211.17192): a cheap
# *draft* proposes tokens and the large model verifies them in one pass. Instead of copying
# from the prompt, the draft can come from a small model of the same family:
# `model.generate(**inputs, assistant_model=small_model, ...)`. With greedy search the output
# is again exactly the large model's; with sampling, transformers 5.24 applies the paper's
# acceptance rule (`_speculative_sampling`), which keeps the large model's distribution.
#
# Verification compares token ids, so the draft model must use the **same tokenizer** (the same
# vocabulary). transformers 5.24 checks the vocabulary sizes and refuses otherwise. Here is
# `tutorial-tiny` (a vocabulary of 768 tokens) offered as a draft for our model:

# %% [markdown] lang=de
# Prompt Lookup lohnt sich, wenn die Antwort aus ihrem Prompt abschreibt. Bei einer offenen Frage,
# deren Antwort wenig mit dem Prompt gemeinsam hat, werden kaum Entwürfe gefunden oder angenommen,
# und die zusätzliche Arbeit pro Durchlauf kann das Ganze sogar etwas langsamer machen als einfaches
# Decoding.
#
# ## Spekulatives Decoding mit einem Entwurfsmodell
#
# Prompt Lookup ist ein Spezialfall von **spekulativem Decoding** (englisch *speculative decoding*;
# Leviathan, Kalman und Matias, 2023, „Fast Inference from Transformers via Speculative Decoding“,
# arXiv:2211.17192): Ein billiger *Entwurf* schlägt Tokens vor, und das große Modell prüft sie in
# einem einzigen Durchlauf. Statt aus dem Prompt abzuschreiben, kann der Entwurf auch von einem
# kleinen Modell derselben Familie stammen: `model.generate(**inputs, assistant_model=small_model, ...)`.
# Mit Greedy Search ist die Ausgabe wieder genau die des großen Modells; beim Sampling wendet
# transformers 5.24 die Annahmeregel aus dem Paper an (`_speculative_sampling`), die die Verteilung
# des großen Modells unverändert lässt.
#
# Die Prüfung vergleicht Token-IDs, deshalb muss das Entwurfsmodell **denselben Tokenizer** (dasselbe
# Vokabular) verwenden. Die Bibliothek transformers 5.24 vergleicht die Größe der Vokabulare und
# bricht sonst mit einem Fehler ab. Hier bieten wir `tutorial-tiny` (ein Vokabular aus 768 Tokens)
# als Entwurfsmodell für unser Modell an:

# %%
draft_model, draft_tokenizer = companion.load_model("tutorial-tiny")
try:
    model.generate(**passage_inputs, assistant_model=draft_model, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    print("No error: the draft model uses the same vocabulary as the model (here it is the same model).")
except ValueError as error:
    print("ValueError:", error)

# %% [markdown] lang=en
# The error names the fix: with `tokenizer=tokenizer, assistant_tokenizer=draft_tokenizer`,
# transformers 5.24 runs *universal assisted decoding*, which translates the draft through text
# from one vocabulary into the other (`AssistedCandidateGeneratorDifferentTokenizers` for
# greedy search, `UniversalSpeculativeDecodingGenerator` for sampling, both in
# `generation/candidate_generator.py`). We don't run it: `tutorial-tiny` knows a few toy
# sentences and would hardly ever guess right. A good draft model is typically 10 to 100 times
# smaller than the main model, and from the same family, so that it often agrees with it.
#
# ## Exercises
#
# **Exercise 1 (predict, then run).** We generate 5 new tokens and ask `generate()` to return
# its cache:
#
# ```python
# output = model.generate(**passage_inputs, max_new_tokens=5, min_new_tokens=5, do_sample=False,
#                         return_dict_in_generate=True)
# output.cache.layers[0].keys.shape
# ```
#
# Predict the shape, as a tuple of four numbers, from `prompt_length` and `model.config`,
# before you run anything. The check runs the call and compares.

# %% [markdown] lang=de
# Die Fehlermeldung nennt die Abhilfe: Mit `tokenizer=tokenizer, assistant_tokenizer=draft_tokenizer`
# führt transformers 5.24 *Universal Assisted Decoding* aus, das den Entwurf über den Umweg Text von
# einem Vokabular ins andere übersetzt (`AssistedCandidateGeneratorDifferentTokenizers` für Greedy
# Search, `UniversalSpeculativeDecodingGenerator` für Sampling, beide in
# `generation/candidate_generator.py`). Wir führen das hier nicht aus: `tutorial-tiny` kennt nur ein
# paar Spielzeugsätze und würde fast nie richtig raten. Ein gutes Entwurfsmodell ist typischerweise
# 10- bis 100-mal kleiner als das Hauptmodell und stammt aus derselben Familie, damit es oft mit ihm
# übereinstimmt.
#
# ## Übungen
#
# **Übung 1 (erst vorhersagen, dann ausführen).** Wir erzeugen 5 neue Tokens und lassen uns von
# `generate()` seinen Cache zurückgeben:
#
# ```python
# output = model.generate(**passage_inputs, max_new_tokens=5, min_new_tokens=5, do_sample=False,
#                         return_dict_in_generate=True)
# output.cache.layers[0].keys.shape
# ```
#
# Sagen Sie die Form als Tupel aus vier Zahlen voraus, und zwar aus `prompt_length` und
# `model.config`, bevor Sie irgendetwas ausführen. Die Prüfung führt den Aufruf aus und vergleicht.

# %%
from companion.exercises.faster_decoding import check_cache_shape, check_fixed_lookup_call, check_smallest_lookup_tokens

answer = None  # your code here
correct = check_cache_shape(answer, model, passage_inputs)

# %% tags=solution
# Every position the model has read has keys: the prompt, then one per decoding step. The last of
# the 5 new tokens was chosen from the logits of the 4th step and never read, so it has none.
answer = (1, text_config.num_key_value_heads, prompt_length + 5 - 1, text_config.head_dim)
print(answer)
correct = check_cache_shape(answer, model, passage_inputs)

# %% [markdown] lang=en
# **Exercise 2 (fix a broken call).** Someone added prompt lookup to a call that they had
# copied from a beam-search example (12 new tokens, to keep it quick). It runs, but the warning
# under the cell says that some flags are ignored, and the recorder shows no speed-up: one
# forward pass per token.

# %% [markdown] lang=de
# **Übung 2 (einen fehlerhaften Aufruf reparieren).** Jemand hat Prompt Lookup in einen Aufruf
# eingebaut, den er aus einem Beispiel für Beam Search kopiert hatte (12 neue Tokens, damit es
# schnell geht). Der Aufruf läuft, aber die Warnung unter der Zelle sagt, dass einige Flags ignoriert
# werden, und der Recorder zeigt keine Beschleunigung: ein Durchlauf pro Token.

# %%
with torch.inference_mode():
    with ForwardPassRecorder(model) as broken_passes:
        broken_ids = model.generate(
            **passage_inputs, max_new_tokens=12, do_sample=False, num_beams=2,
            prompt_lookup_num_tokens=LOOKUP_TOKENS,
        )
print(f"{broken_passes.count} forward passes for {broken_ids.shape[1] - prompt_length} new tokens")

# %% [markdown] lang=en
# Fix it: hand in the keyword arguments of the fixed call as a dict (the check runs
# `model.generate(**passage_inputs, **answer)`). It should give the greedy answer, with fewer
# forward passes than new tokens.

# %% [markdown] lang=de
# Reparieren Sie ihn: Geben Sie die Keyword-Argumente des reparierten Aufrufs als Dict ab (die
# Prüfung führt `model.generate(**passage_inputs, **answer)` aus). Der Aufruf soll dieselbe Antwort
# wie Greedy Decoding liefern, mit weniger Durchläufen als neuen Tokens.

# %%
answer = None  # your code here
correct = check_fixed_lookup_call(answer, model, passage_inputs)

# %% tags=solution
# Prompt lookup extends greedy search or sampling; beam search ignores the drafts. Drop num_beams.
answer = {"max_new_tokens": 12, "do_sample": False, "prompt_lookup_num_tokens": LOOKUP_TOKENS}
correct = check_fixed_lookup_call(answer, model, passage_inputs)

# %% [markdown] lang=en
# **Exercise 3 (change a setting to reach a goal).** Longer drafts can make fewer passes, but
# every rejected draft token is work done for nothing. Find the **smallest**
# `prompt_lookup_num_tokens` that makes at least 2.5 new tokens per forward pass on our prompt
# (greedy, `MAX_NEW_TOKENS` new tokens). Try values with `ForwardPassRecorder`; hand in the number.

# %% [markdown] lang=de
# **Übung 3 (eine Einstellung ändern, um ein Ziel zu erreichen).** Längere Entwürfe können Durchläufe
# sparen, aber jeder abgelehnte Entwurfs-Token ist umsonst geleistete Arbeit. Finden Sie den
# **kleinsten** Wert für `prompt_lookup_num_tokens`, mit dem auf unserem Prompt mindestens 2,5 neue
# Tokens pro Durchlauf entstehen (Greedy Decoding, `MAX_NEW_TOKENS` neue Tokens). Probieren Sie
# Werte mit `ForwardPassRecorder` aus; geben Sie die Zahl ab.

# %%
answer = None  # your code here
correct = check_smallest_lookup_tokens(answer, model, passage_inputs, max_new_tokens=MAX_NEW_TOKENS, goal=2.5)

# %% tags=solution
# Try 1, 2, 3, ... and stop at the first draft length that reaches the goal.
answer = None
for lookup_tokens in range(1, 17):
    with torch.inference_mode(), ForwardPassRecorder(model) as passes:
        ids = model.generate(
            **passage_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, prompt_lookup_num_tokens=lookup_tokens
        )
    per_pass = (ids.shape[1] - prompt_length) / passes.count
    print(f"prompt_lookup_num_tokens={lookup_tokens}: {per_pass:.2f} new tokens per pass")
    if per_pass >= 2.5:
        answer = lookup_tokens
        break
correct = check_smallest_lookup_tokens(answer, model, passage_inputs, max_new_tokens=MAX_NEW_TOKENS, goal=2.5)

# %% [markdown] lang=en
# ## Further reading
#
# - [KV cache strategies](https://huggingface.co/docs/transformers/kv_cache): the cache classes
#   of transformers (dynamic, static, offloaded, quantized) and when each one helps.
# - [Generation strategies](https://huggingface.co/docs/transformers/generation_strategies) and
#   [assisted decoding](https://huggingface.co/docs/transformers/assisted_decoding): prompt
#   lookup, speculative decoding with an assistant model, universal assisted decoding.
# - [LLM inference optimization](https://huggingface.co/docs/transformers/llm_optims): a static
#   cache with `torch.compile`, attention kernels, quantization.
# - Leviathan, Kalman, Matias (2023), [Fast Inference from Transformers via Speculative
#   Decoding](https://arxiv.org/abs/2211.17192), and the
#   [prompt lookup decoding](https://github.com/apoorvumang/prompt-lookup-decoding) repository.
#
# ## Summary
#
# - The KV cache keeps every layer's keys and values for the positions read so far
#   (`outputs.cache`, a `DynamicCache` in transformers 5.24; `past_key_values` is the deprecated
#   name). With it, each step reads one new position; `use_cache=False` gives the same tokens,
#   measurably slower.
# - A call has two phases: prefill reads the whole prompt in one pass (the time to first token);
#   decode runs one pass per new token, and each pass reads all the weights for one position,
#   which makes decode memory-bound.
# - `prompt_lookup_num_tokens` drafts tokens from the prompt and verifies a whole draft in one
#   pass: for input-grounded tasks, fewer passes and the same greedy output. A
#   `ForwardPassRecorder` shows how many drafted tokens were accepted.
# - Speculative decoding with `assistant_model=` does the same with a small draft model; it needs
#   the same tokenizer, or `tokenizer=` and `assistant_tokenizer=` for universal assisted decoding.

# %% [markdown] lang=de
# ## Weiterführendes
#
# - [Strategien für den KV-Cache](https://huggingface.co/docs/transformers/kv_cache): die
#   Cache-Klassen von transformers (dynamisch, statisch, ausgelagert, quantisiert) und wann welche
#   hilft.
# - [Generierungsstrategien](https://huggingface.co/docs/transformers/generation_strategies) und
#   [Assisted Decoding](https://huggingface.co/docs/transformers/assisted_decoding): Prompt Lookup,
#   spekulatives Decoding mit einem Assistenzmodell, Universal Assisted Decoding.
# - [Optimierung der LLM-Inferenz](https://huggingface.co/docs/transformers/llm_optims): ein
#   statischer Cache mit `torch.compile`, Attention-Kernels, Quantisierung.
# - Leviathan, Kalman, Matias (2023), [Fast Inference from Transformers via Speculative
#   Decoding](https://arxiv.org/abs/2211.17192), und das Repository zu
#   [Prompt Lookup Decoding](https://github.com/apoorvumang/prompt-lookup-decoding).
#
# ## Zusammenfassung
#
# - Der KV-Cache speichert für jede Schicht die Keys und Values der bisher gelesenen Positionen
#   (`outputs.cache`, in transformers 5.24 ein `DynamicCache`; `past_key_values` ist der veraltete
#   Name). Mit ihm liest jeder Schritt nur eine neue Position; `use_cache=False` liefert dieselben
#   Tokens, messbar langsamer.
# - Ein Aufruf hat zwei Phasen: Prefill liest den ganzen Prompt in einem Durchlauf (die Zeit bis zum
#   ersten Token); Decode führt einen Durchlauf pro neuem Token aus, und jeder liest alle Gewichte für
#   eine einzige Position. Deshalb ist Decode speichergebunden.
# - `prompt_lookup_num_tokens` entnimmt Entwurfs-Tokens dem Prompt und prüft einen ganzen Entwurf in
#   einem Durchlauf: Bei eingabegebundenen Aufgaben ergibt das weniger Durchläufe und dieselbe Ausgabe
#   wie Greedy Decoding. Ein `ForwardPassRecorder` zeigt, wie viele Entwurfs-Tokens angenommen wurden.
# - Spekulatives Decoding mit `assistant_model=` macht dasselbe mit einem kleinen Entwurfsmodell; es
#   braucht denselben Tokenizer oder `tokenizer=` und `assistant_tokenizer=` für Universal Assisted
#   Decoding.
