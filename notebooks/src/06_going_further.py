# %% [markdown] lang=en
# # 06 · Going further: latency, throughput, memory
#
# The earlier notebooks made `generate()` produce the right text. This one looks at what it
# costs: how long a token takes, how many tokens per second a machine can produce, and how
# much memory the model needs. Every figure here is measured live on your machine.
#
# **What you will learn**
#
# - why each new token costs one full read of the model's weights, and the speed limit
#   that follows from your machine's memory bandwidth
# - how batching prompts into one `generate()` call multiplies throughput (measured)
# - how much memory the same model takes in full precision, 8-bit and 4-bit (measured)
# - how to show tokens as they are generated with `TextStreamer`
# - where to go next: the guides and libraries for serious deployments, and notebooks 07 and 08

# %% [markdown] lang=de
# # 06 · Ein Schritt weiter: Latenz, Durchsatz, Speicher
#
# In den bisherigen Notebooks ging es darum, dass `generate()` den richtigen Text erzeugt. Dieses
# Notebook fragt, was das kostet: wie lange ein einzelner Token dauert, wie viele Tokens pro Sekunde
# ein Rechner erzeugen kann und wie viel Speicher das Modell braucht. Alle Zahlen hier werden live
# auf Ihrem Rechner gemessen.
#
# **Was Sie lernen**
#
# - warum jeder neue Token einmal alle Gewichte des Modells lesen muss und welche
#   Geschwindigkeitsgrenze sich daraus aus der Speicherbandbreite Ihres Rechners ergibt
# - wie das Bündeln von Prompts in einem einzigen `generate()`-Aufruf den Durchsatz vervielfacht (gemessen)
# - wie viel Speicher dasselbe Modell in voller Genauigkeit, mit 8 Bit und mit 4 Bit belegt (gemessen)
# - wie Sie mit `TextStreamer` Tokens anzeigen, während sie erzeugt werden
# - wie es weitergeht: Anleitungen und Bibliotheken für ernsthafte Deployments sowie die Notebooks 07 und 08

# %% [colab-install]

# %% tags=parameters
MODEL = "smollm2-135m"  # a real small LLM on CPU; or "tutorial-tiny" (instant); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization
MAX_NEW_TOKENS = 12  # upper bound on new tokens per generate() call (kept small: we time things)
BATCH_SIZE = 8  # how many prompts go into one batch in the throughput experiment (at most 16)
QUANTIZATIONS_TO_COMPARE = [None, "8bit", "4bit"]  # each is loaded once to measure it; drop None for a 7B model
SEED = 0  # setup_notebook seeds Python, NumPy and torch with it, so sampling is repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
from transformers import TextStreamer

from companion.throughput import (
    BATCH_PROMPTS,
    decode_ms_per_token,
    linear_layers_ms,
    measure_batching,
    memory_bandwidth_gb_per_s,
    weight_bytes,
)

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(type(model).__name__)  # the setup line above names the device (cpu or cuda)

# %% [markdown] lang=en
# ## Latency: what one token costs
#
# To produce one new token, the model runs one forward pass, and that pass multiplies the
# hidden state with every weight matrix of the model. So **every new token reads all the
# weights once**. For a single prompt there is very little arithmetic per weight byte, and
# the processor spends most of its time waiting for memory. How many bytes is that?

# %% [markdown] lang=de
# ## Latenz: was ein Token kostet
#
# Für jeden neuen Token führt das Modell einen Durchlauf aus (durch alle Schichten), und dieser
# Durchlauf multipliziert den Hidden State (den inneren Zustand
# des Modells an der aktuellen Position) mit jeder Gewichtsmatrix des Modells. **Jeder neue Token
# liest also einmal alle Gewichte.** Bei einem einzelnen Prompt entfällt auf jedes Byte der Gewichte
# nur sehr wenig Rechenarbeit, und der Prozessor verbringt die meiste Zeit damit, auf den Speicher zu
# warten. Um wie viele Bytes geht es?

# %%
weight_byte_count = weight_bytes(model)
parameter_count = sum(parameter.numel() for parameter in model.parameters())
print(f"{parameter_count:,} parameters, {weight_byte_count / 1e6:.1f} MB of weights read per new token")

# %% [markdown] lang=en
# Next we measure how fast this machine moves memory: we copy a large tensor (far bigger
# than any CPU cache) and count the bytes read and written. Dividing the weight bytes by this
# bandwidth gives the **floor**: no implementation can generate a token faster than the time
# it takes to read the weights once. Then we time real greedy generation, one prompt,
# counting only the new tokens (the prompt's processing is subtracted). Timings vary from
# run to run and machine to machine, so your numbers will differ from the ones saved here.

# %% [markdown] lang=de
# Als Nächstes messen wir, wie schnell dieser Rechner Daten im Speicher bewegt: Wir kopieren einen
# großen Tensor (weit größer als jeder CPU-Cache) und zählen die gelesenen und geschriebenen Bytes.
# Teilt man die Bytes der Gewichte durch diese Bandbreite, erhält man die **Untergrenze**: Keine
# Implementierung kann einen Token schneller erzeugen, als das einmalige Lesen der Gewichte dauert.
# Danach messen wir echtes Greedy Decoding (in jedem Schritt wird der wahrscheinlichste Token
# gewählt) mit einem einzigen Prompt und zählen dabei nur die neuen Tokens (die Verarbeitung des
# Prompts wird herausgerechnet). Zeitmessungen schwanken von Lauf zu Lauf und von Rechner zu Rechner;
# Ihre Zahlen werden also von den hier gespeicherten abweichen.

# %% tags=nbval-ignore-output
bandwidth = memory_bandwidth_gb_per_s(megabytes=256, repeats=3)
bandwidth_gb_per_s = bandwidth["copy_gb_per_s"]
floor_ms = weight_byte_count / (bandwidth_gb_per_s * 1e9) * 1000
ms_per_token = decode_ms_per_token(model, tokenizer, "The capital of France is", new_tokens=MAX_NEW_TOKENS, repeats=1)
kernels_ms = linear_layers_ms(model)  # only the model's linear layers, on one row

print(f"memory bandwidth:       {bandwidth_gb_per_s:.1f} GB/s")
print(f"floor:                  {floor_ms:.1f} ms per token")
print(f"measured:               {ms_per_token:.1f} ms per token ({1000 / ms_per_token:.0f} tokens/s)")
print(f"measured / floor:       {ms_per_token / floor_ms:.1f}x")
print(f"linear layers alone:    {kernels_ms:.1f} ms ({kernels_ms / ms_per_token:.0%} of a step)")

# %% [markdown] lang=en
# On a CPU the measured time is several times the floor: the line `measured / floor` is always
# above 1, since a step reads every weight at least once and does more besides. Where does the
# rest go? The last line times only the model's linear layers (`linear_layers_ms`): the
# matrix-vector products of one step at batch 1, with nothing around them, the fastest of five
# tries. Its share of the step is the figure to read. On a quiet machine it is most of the step,
# because PyTorch's single-row kernels read the weights much more slowly than a plain copy does;
# the rest is attention, norms, the KV cache and the Python loop of `generate()`. When other
# programs take turns on the same cores, the step (timed once) suffers more than the best of five
# tries, and the share drops; run the cell again and watch the figures move. The course
# repository's performance notes (`docs/performance.md`) have a benchmark run on a quiet machine
# (`make bench` in a clone of the repository), which also tries the usual remedies (bfloat16
# weights, a static cache, `torch.compile`); notebook 08 looks inside a step and at faster decoding.
#
# Two levers move the floor itself: **read fewer bytes** (smaller weights: the memory
# section below) or **share each read among more tokens** (batching, next).
#
# ## Throughput: batching
#
# A batch of prompts goes through the model together: one read of the weights now serves
# every row of the batch. We generate the same prompts twice, greedily: one by one, and as
# one left-padded batch (the padding of notebook 04), and count the new tokens per second
# of each way. First the batch by hand: one `generate()` call on all prompts, timed with
# `time.perf_counter`, its new tokens counted up to each row's end-of-sequence token (after it,
# a finished row is only padding):

# %% [markdown] lang=de
# Auf einer CPU liegt die gemessene Zeit ein Mehrfaches über der Untergrenze: Die Zeile
# `measured / floor` liegt immer über 1, denn ein Schritt liest jedes Gewicht mindestens einmal und
# tut noch mehr. Wo bleibt der Rest? Die letzte Zeile misst nur die linearen Schichten des Modells
# (`linear_layers_ms`): die Matrix-Vektor-Produkte eines Schritts bei Batch-Größe 1, ohne alles, was
# drumherum geschieht, und zwar den schnellsten von fünf Versuchen. Ihr Anteil am Schritt ist die
# Zahl, auf die es ankommt. Auf einem unbelasteten Rechner macht er den größten Teil des Schritts
# aus, weil die Kernels von PyTorch (die Rechenroutinen, die die eigentliche Arbeit erledigen) die
# Gewichte bei einer einzelnen Zeile viel langsamer lesen als eine einfache Kopie; der Rest entfällt
# auf Attention, Normalisierungen, den KV-Cache und die Python-Schleife von `generate()`. Wenn sich
# andere Programme dieselben Kerne teilen, leidet der einmal gemessene Schritt stärker als der
# schnellste von fünf Versuchen, und der Anteil sinkt; führen Sie die Zelle noch einmal aus und
# beobachten Sie, wie sich die Zahlen bewegen. Die Performance-Notizen im Repository des Kurses
# (`docs/performance.md`) enthalten einen Benchmark-Lauf auf einem unbelasteten Rechner (`make bench`
# in einem Klon des Repositorys), der außerdem die üblichen Gegenmittel ausprobiert
# (bfloat16-Gewichte, einen statischen Cache, `torch.compile`); Notebook 08 schaut in einen
# Schritt hinein und zeigt schnelleres Decoding.
#
# Die Untergrenze selbst lässt sich mit zwei Hebeln verschieben: **weniger Bytes lesen** (kleinere
# Gewichte: der Abschnitt zum Speicher weiter unten) oder **jeden Lesevorgang auf mehr Tokens
# verteilen** (Batching, gleich im Anschluss).
#
# ## Durchsatz: Batching
#
# Ein Batch von Prompts durchläuft das Modell gemeinsam: Ein einziges Lesen der Gewichte dient
# jetzt jeder Zeile des Batches. Wir erzeugen die Antworten auf dieselben Prompts zweimal, jeweils
# mit Greedy Decoding: einmal einzeln nacheinander und einmal als einen links aufgefüllten Batch (das
# Padding aus Notebook 04), und zählen für beide Wege die neuen Tokens pro Sekunde.
# Zuerst der Batch von Hand: ein einziger `generate()`-Aufruf mit allen Prompts, gemessen mit
# `time.perf_counter`; seine neuen Tokens zählen wir bis zum End-of-Sequence-Token jeder Zeile
# (danach enthält eine fertige Zeile nur noch Padding):

# %%
prompts = BATCH_PROMPTS[:BATCH_SIZE]
for prompt in prompts:
    print(repr(prompt))

# %% tags=nbval-ignore-output
import time

if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token  # Llama tokenizers have no pad token (notebook 04)
batch_inputs = tokenizer(prompts, padding=True, padding_side="left", return_tensors="pt").to(model.device)

start = time.perf_counter()
batch_ids = model.generate(**batch_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
batch_seconds = time.perf_counter() - start

new_token_count = 0
for row in batch_ids[:, batch_inputs["input_ids"].shape[1]:].tolist():
    if tokenizer.eos_token_id in row:
        row = row[: row.index(tokenizer.eos_token_id) + 1]  # up to and including the EOS
    new_token_count += len(row)
print(f"as a batch: {new_token_count} new tokens in {batch_seconds:.2f} s = {new_token_count / batch_seconds:.0f} tokens/s")

# %% [markdown] lang=en
# `measure_batching` does the same both ways, one prompt after the other and as one batch, with
# a warm-up call first; read it with `companion.throughput.measure_batching??`. (Its batch rate
# can differ a little from the one above: the first call of a process pays one-off costs.)

# %% [markdown] lang=de
# `measure_batching` macht dasselbe auf beiden Wegen, Prompt für Prompt und als einen Batch, mit
# einem Aufwärmaufruf vorneweg; den Code sehen Sie mit `companion.throughput.measure_batching??`.
# (Seine Rate für den Batch kann etwas von der oben abweichen: Der erste Aufruf in einem Prozess
# zahlt einmalige Kosten.)

# %% tags=nbval-ignore-output
batching = measure_batching(model, tokenizer, prompts, max_new_tokens=MAX_NEW_TOKENS)
print(f"one by one: {batching.sequential_new_tokens} tokens in {batching.sequential_seconds:.2f} s "
      f"= {batching.sequential_tokens_per_second:.0f} tokens/s")
print(f"as a batch: {batching.batched_new_tokens} tokens in {batching.batched_seconds:.2f} s "
      f"= {batching.batched_tokens_per_second:.0f} tokens/s")
print(f"speed-up:   {batching.speedup:.1f}x")

# %% [markdown] lang=en
# The batch produces several times more tokens per second. The gain is smaller than the
# batch size because a batch step does more arithmetic than a single-row step, rows of
# different lengths carry padding, and the batch runs until its longest answer is done.
#
# Did batching change the answers? Greedy decoding should give the same tokens either way:

# %% [markdown] lang=de
# Der Batch liefert ein Mehrfaches an Tokens pro Sekunde. Der Gewinn fällt kleiner aus als die
# Batch-Größe, weil ein Schritt über den Batch mehr rechnet als ein Schritt über eine einzelne Zeile,
# weil Zeilen unterschiedlicher Länge Padding mitschleppen und weil der Batch so lange läuft, bis
# seine längste Antwort fertig ist.
#
# Hat das Batching die Antworten verändert? Greedy Decoding sollte auf beiden Wegen dieselben Tokens
# liefern:

# %%
print(f"identical answers: {batching.equal_rows} of {len(prompts)}")
for prompt, alone, batched in zip(prompts[:3], batching.sequential_texts, batching.batched_texts):
    print(f"{prompt!r}\n   alone: {alone!r}\n   batch: {batched!r}")

# %% [markdown] lang=en
# In float32 the answers usually agree exactly. They are not guaranteed to: a batched matrix
# product may add up its numbers in a different order than a single row, the last bits of a
# logit change, and where two tokens are nearly tied the greedy choice can flip. If a row
# differs on your machine, that is the reason, not a padding bug (the first differing
# position is in `batching.first_differences`).
#
# ## Memory: full precision, 8-bit and 4-bit
#
# The guide loads a 7-billion-parameter model with `load_in_4bit`. Here we measure what
# quantization does to the memory of our model: we load it once per setting and ask
# `get_memory_footprint()` (via `companion.footprint_mib`) how much its weights and buffers
# take. These numbers are exact, the same on every machine.

# %% [markdown] lang=de
# In float32 stimmen die Antworten meist exakt überein. Garantiert ist das nicht: Ein Matrixprodukt
# über den Batch kann seine Zahlen in einer anderen Reihenfolge aufsummieren als eines über eine
# einzelne Zeile, dadurch ändern sich die letzten Bits eines Logit-Werts, und wo zwei Tokens fast
# gleichauf liegen, kann die Wahl beim Greedy Decoding kippen. Weicht auf Ihrem Rechner eine Zeile
# ab, ist das der Grund und kein Fehler beim Padding (die erste abweichende Position steht in
# `batching.first_differences`).
#
# ## Speicher: volle Genauigkeit, 8 Bit und 4 Bit
#
# Die Anleitung lädt ein Modell mit 7 Milliarden Parametern mit `load_in_4bit`. Hier messen wir, was
# die Quantisierung (das Speichern der Gewichte mit weniger Bits) am Speicherbedarf unseres Modells
# ändert: Wir laden es für jede Einstellung einmal und fragen `get_memory_footprint()` (über
# `companion.footprint_mib`), wie viel Platz seine Gewichte und Buffer belegen. Diese Zahlen sind
# exakt und auf jedem Rechner gleich.

# %%
footprints = {}
for quantization in QUANTIZATIONS_TO_COMPARE:
    if quantization == QUANTIZATION:
        measured_model = model  # loaded above already
    else:
        measured_model, _ = companion.load_model(MODEL, quantization=quantization)
    footprints[quantization] = companion.footprint_mib(measured_model)
    del measured_model
for quantization, mebibytes in footprints.items():
    label = quantization or "full precision"
    print(f"{label:>15}: {mebibytes:7.1f} MiB")

# %%
if None in footprints:
    for quantization in QUANTIZATIONS_TO_COMPARE:
        print(f"{quantization or 'full precision':>15}: {footprints[quantization] / footprints[None]:.2f}x full precision")

# %% [markdown] lang=en
# 8-bit stores each linear layer's weight in one byte instead of four, 4-bit (NF4) in half a
# byte. The ratios stay above 1/4 and 1/8 because bitsandbytes keeps some parts in full
# precision: the token embeddings (for this small model a fifth of all weights), the norms,
# and one scale per block of weights. For a 7B model those parts matter less, and 4-bit
# brings about 28 GB of fp32 weights down to under 4 GB.
#
# Quantization saves memory; it is not automatically faster. On a GPU the smaller weights
# are read faster; on a CPU the kernels that unpack them may cost more than they save.
# The course's benchmark (`make bench`) measures both (and the process memory) for this model.
#
# ## Streaming: show tokens as they arrive
#
# A chat interface should not wait for the whole answer. Pass a streamer to `generate()` and
# it receives every new token as soon as it exists. `TextStreamer` prints the text;
# `skip_prompt=True` leaves out the prompt. Streaming does not make generation faster, but
# the first words appear after one step instead of after all of them. (It handles one prompt
# at a time; `TextIteratorStreamer` hands the text to your own loop, e.g. in a web server.)

# %% [markdown] lang=de
# Mit 8 Bit wird das Gewicht jeder linearen Schicht in einem Byte statt in vier gespeichert, mit
# 4 Bit (NF4) in einem halben Byte. Die Verhältnisse bleiben über 1/4 und 1/8, weil bitsandbytes
# einige Teile in voller Genauigkeit belässt: die Token-Embeddings (bei diesem kleinen Modell ein
# Fünftel aller Gewichte), die Normalisierungen und einen Skalierungsfaktor pro Block von Gewichten.
# Bei einem 7B-Modell fallen diese Teile weniger ins Gewicht, und 4 Bit verkleinern rund 28 GB an
# fp32-Gewichten auf weniger als 4 GB.
#
# Quantisierung spart Speicher, macht die Generierung aber nicht automatisch schneller. Auf einer
# GPU werden die kleineren Gewichte schneller gelesen; auf einer CPU kann das Entpacken in den
# Kernels mehr kosten, als es einspart. Der Benchmark des Kurses (`make bench`) misst für dieses
# Modell beides (und dazu den Speicher des Prozesses).
#
# ## Streaming: Tokens anzeigen, sobald sie entstehen
#
# Eine Chat-Oberfläche sollte nicht auf die ganze Antwort warten. Übergeben Sie `generate()` einen
# Streamer; er erhält dann jeden neuen Token, sobald dieser existiert. `TextStreamer` gibt den Text
# aus, `skip_prompt=True` lässt dabei den Prompt weg. Streaming macht die Generierung nicht
# schneller, aber die ersten Wörter erscheinen schon nach einem Schritt statt erst nach allen.
# (`TextStreamer` verarbeitet nur einen Prompt auf einmal; `TextIteratorStreamer` reicht den Text an
# Ihre eigene Schleife weiter, etwa in einem Webserver.)

# %%
streamer = TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
stream_inputs = tokenizer(["Once upon a time, there was a little"], return_tensors="pt").to(model.device)
streamed_ids = model.generate(**stream_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, streamer=streamer)

# %% [markdown] lang=en
# ## Exercises
#
# **Exercise 1 (predict, then run).** One `generate()` call on the first 4 of our prompts, as a
# left-padded batch, greedy, with `max_new_tokens=MAX_NEW_TOKENS` and
# `min_new_tokens=MAX_NEW_TOKENS` (so that no row stops early). How many forward passes of the
# model does it make? Write down your prediction; the check runs the call and counts them.

# %% [markdown] lang=de
# ## Übungen
#
# **Übung 1 (erst vorhersagen, dann ausführen).** Ein einziger `generate()`-Aufruf mit den ersten 4
# unserer Prompts als links aufgefülltem Batch, mit Greedy Decoding, `max_new_tokens=MAX_NEW_TOKENS`
# und `min_new_tokens=MAX_NEW_TOKENS` (damit keine Zeile vorzeitig aufhört): Wie viele
# Durchläufe des Modells führt er aus? Notieren Sie Ihre Vorhersage; die Prüfung führt den Aufruf aus
# und zählt nach.

# %%
from companion.exercises.going_further import (
    check_batch_forward_passes,
    check_floor_ms_per_token,
    check_left_padded_answers,
    check_quantization_for_gpu,
    check_seven_billion_memory,
)

exercise_prompts = prompts[:4]
answer = None  # your code here
correct = check_batch_forward_passes(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% tags=solution
# The pass over the prompts gives the first new token of every row, each further pass one more
# token of every row: one pass per new token, whatever the batch size.
answer = MAX_NEW_TOKENS
correct = check_batch_forward_passes(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Exercise 2.** The same model on a GPU whose memory delivers 300 GB/s: what is the fastest
# possible time per new token there, in milliseconds? Use `weight_byte_count` from above.
# (1 GB = 10**9 bytes.)

# %% [markdown] lang=de
# **Übung 2.** Dasselbe Modell auf einer GPU, deren Speicher 300 GB/s liefert: Wie kurz kann die
# Zeit pro neuem Token dort höchstens sein, in Millisekunden? Verwenden Sie `weight_byte_count` von
# oben. (1 GB = 10**9 Bytes.)

# %%
gpu_bandwidth_gb_per_s = 300  # GB/s
answer = None  # your code here: milliseconds per token
correct = check_floor_ms_per_token(answer, model, gpu_bandwidth_gb_per_s)

# %% tags=solution
# One step reads every weight byte once, at bandwidth_gb_per_s * 1e9 bytes per second.
answer = weight_byte_count / (gpu_bandwidth_gb_per_s * 1e9) * 1000  # seconds -> milliseconds
correct = check_floor_ms_per_token(answer, model, gpu_bandwidth_gb_per_s)

# %% [markdown] lang=en
# **Exercise 3 (fix a broken call).** This batch was meant for a throughput measurement, but
# its answers are wrong: the warning under the cell says why.

# %% [markdown] lang=de
# **Übung 3 (einen fehlerhaften Aufruf reparieren).** Dieser Batch war für eine Messung des
# Durchsatzes gedacht, doch seine Antworten sind falsch: Die Warnung unter der Zelle sagt, warum.

# %%
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token  # Llama tokenizers have no pad token (notebook 04)
broken_inputs = tokenizer(exercise_prompts, padding=True, padding_side="right", return_tensors="pt").to(model.device)
broken_ids = model.generate(**broken_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
broken_answers = tokenizer.batch_decode(broken_ids[:, broken_inputs["input_ids"].shape[1]:], skip_special_tokens=True)

# %% [markdown] lang=en
# Fix the call, and hand in the decoded new text of each prompt (a list of 4 strings).

# %% [markdown] lang=de
# Reparieren Sie den Aufruf und geben Sie den dekodierten neuen Text zu jedem Prompt ab (eine Liste
# aus 4 Strings).

# %%
answer = None  # your code here
correct = check_left_padded_answers(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% tags=solution
fixed_inputs = tokenizer(exercise_prompts, padding=True, padding_side="left", return_tensors="pt").to(model.device)
fixed_ids = model.generate(**fixed_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
answer = tokenizer.batch_decode(fixed_ids[:, fixed_inputs["input_ids"].shape[1]:], skip_special_tokens=True)
correct = check_left_padded_answers(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Exercise 4.** The guide's model, `openlm-research/open_llama_7b`, has about 7 billion
# parameters. How many GB do its weights take in fp32 (32 bits each), bf16 (16 bits) and
# 4-bit? Hand in a dict `{"fp32": ..., "bf16": ..., "4bit": ...}` in GB.

# %% [markdown] lang=de
# **Übung 4.** Das Modell der Anleitung, `openlm-research/open_llama_7b`, hat rund 7 Milliarden
# Parameter. Wie viele GB belegen seine Gewichte in fp32 (32 Bit pro Parameter), in bf16 (16 Bit)
# und mit 4 Bit? Geben Sie ein Dict `{"fp32": ..., "bf16": ..., "4bit": ...}` mit Werten in GB ab.

# %%
answer = None  # your answer here
correct = check_seven_billion_memory(answer)

# %% tags=solution
parameters_7b = 7e9
answer = {
    "fp32": parameters_7b * 32 / 8 / 1e9,  # bits per parameter / 8 = bytes per parameter
    "bf16": parameters_7b * 16 / 8 / 1e9,
    "4bit": parameters_7b * 4 / 8 / 1e9,
}
print(answer)
correct = check_seven_billion_memory(answer)

# %% [markdown] lang=en
# **Exercise 5 (change a setting to reach a goal).** You want to run the 7B model on a GPU with
# 6 GB of memory for its weights. Which setting of the `QUANTIZATION` parameter keeps the most
# precision while the weights still fit: `None` (32 bits per weight), `"8bit"` (8 bits) or
# `"4bit"` (4 bits)? Store its bits per weight in `answer`: 32, 8 or 4.

# %% [markdown] lang=de
# **Übung 5 (eine Einstellung ändern, um ein Ziel zu erreichen).** Sie möchten das 7B-Modell auf
# einer GPU ausführen, die 6 GB Speicher für seine Gewichte bietet. Welche Einstellung des Parameters
# `QUANTIZATION` bewahrt die meiste Genauigkeit, während die Gewichte noch hineinpassen: `None`
# (32 Bit pro Gewicht), `"8bit"` (8 Bit) oder `"4bit"` (4 Bit)? Speichern Sie ihre Bits pro Gewicht
# in `answer`: 32, 8 oder 4.

# %%
answer = None  # your answer here: 32, 8 or 4 (bits per weight)
correct = check_quantization_for_gpu(answer, gpu_gb=6.0)

# %% tags=solution
# 32 bits (None) need 28 GB, 8 bits 7 GB, 4 bits 3.5 GB: only 4-bit fits in 6 GB.
answer = 4
correct = check_quantization_for_gpu(answer, gpu_gb=6.0)

# %% [markdown] lang=en
# ## Further resources
#
# - Notebooks 07 and 08 of this course go on from here: 07 reads the scores behind each chosen
#   token, and 08 looks inside a `generate()` call (the KV cache, prefill and decode) and makes
#   greedy decoding faster with prompt lookup, without changing its output.
# - [Generation strategies guide](https://huggingface.co/docs/transformers/generation_strategies):
#   reach for it when you want another decoding method (beam search, assisted generation and
#   prompt lookup), a `generation_config.json` of your own, or streaming. Some methods have left
#   the library: in transformers 5.24, contrastive search, DoLa, group beam search and
#   constrained beam search run from the Hub as `custom_generate` code
#   (`transformers-community/contrastive-search`, `transformers-community/dola`,
#   `transformers-community/group-beam-search`, `transformers-community/constrained-beam-search`;
#   `GENERATION_MODES_MAPPING` in `generation/utils.py`), and `generate()` loads them only with
#   `trust_remote_code=True`.
# - [`GenerationConfig` and `generate()` API reference](https://huggingface.co/docs/transformers/main_classes/text_generation)
#   (and the [generation utilities](https://huggingface.co/docs/transformers/internal/generation_utils)):
#   when you need the exact meaning and default of a parameter, a logits processor or a
#   stopping criterion.
# - [LLM inference optimization](https://huggingface.co/docs/transformers/llm_optims): when
#   generation is too slow: a static KV cache with `torch.compile`, faster attention kernels,
#   speculative decoding and quantization, in transformers itself.
# - [KV cache strategies](https://huggingface.co/docs/transformers/kv_cache): when long prompts
#   or large batches fill your GPU memory: static, offloaded and quantized caches.
# - [Quantization guide](https://huggingface.co/docs/transformers/main_classes/quantization):
#   when a model does not fit your GPU, or you want to compare bitsandbytes, GPTQ, AWQ and others.
# - [vLLM](https://github.com/vllm-project/vllm) and [SGLang](https://github.com/sgl-project/sglang):
#   when many users send requests to one model and one `generate()` process is not enough:
#   serving engines with continuous batching, a paged KV cache and optimized kernels. For a quick
#   OpenAI-compatible server from transformers itself there is `transformers serve`
#   (`transformers/cli/serve.py` in 5.24). Hugging Face's own
#   [text-generation-inference](https://github.com/huggingface/text-generation-inference) has been
#   in maintenance mode since December 2025 and recommends vLLM and SGLang (its README).
# - [Optimum](https://github.com/huggingface/optimum): when you deploy to specific hardware
#   (ONNX Runtime, OpenVINO, Intel, AWS chips and more) and want its optimizations.
#
# ## Summary
#
# - Each new token reads all the weights once, so the time per token on a single prompt is
#   bounded below by weight bytes / memory bandwidth.
# - Batching shares each read among many prompts: several times more tokens per second, with
#   the same greedy answers (up to the last bits of floating point).
# - 8-bit and 4-bit quantization shrink the weights to roughly 0.4x and 0.3x of full
#   precision here, and a 7B model to a size a free GPU can hold.
# - `TextStreamer(tokenizer, skip_prompt=True)` shows the answer while it is generated.
#
# You can now generate text with `generate()`, control its length and its decoding, batch and
# pad correctly, prompt chat models, and measure what it all costs. Notebooks 07 and 08 go
# further: the scores behind each token, and what happens inside a `generate()` call.

# %% [markdown] lang=de
# ## Weiterführendes
#
# - Die Notebooks 07 und 08 dieses Kurses setzen hier an: 07 liest die Scores hinter jedem gewählten
#   Token, und 08 schaut in einen `generate()`-Aufruf hinein (KV-Cache, Prefill und Decode) und
#   beschleunigt Greedy Decoding mit Prompt Lookup, ohne seine Ausgabe zu verändern.
# - [Anleitung zu Generierungsstrategien](https://huggingface.co/docs/transformers/generation_strategies):
#   die richtige Stelle, wenn Sie ein anderes Decoding-Verfahren brauchen (Beam Search, Assisted
#   Generation und Prompt Lookup), eine eigene `generation_config.json` oder Streaming. Manche
#   Verfahren sind aus der Bibliothek ausgezogen: In transformers 5.24 laufen Contrastive Search,
#   DoLa, Group Beam Search und Constrained Beam Search als `custom_generate`-Code vom Hub
#   (`transformers-community/contrastive-search`, `transformers-community/dola`,
#   `transformers-community/group-beam-search`, `transformers-community/constrained-beam-search`;
#   `GENERATION_MODES_MAPPING` in `generation/utils.py`), und `generate()` lädt sie nur mit
#   `trust_remote_code=True`.
# - [API-Referenz zu `GenerationConfig` und `generate()`](https://huggingface.co/docs/transformers/main_classes/text_generation)
#   (und die [Hilfsfunktionen für die Generierung](https://huggingface.co/docs/transformers/internal/generation_utils)):
#   wenn Sie die genaue Bedeutung und den Standardwert eines Parameters, eines Logits Processors oder
#   eines Stopping Criterion nachschlagen müssen.
# - [Optimierung der LLM-Inferenz](https://huggingface.co/docs/transformers/llm_optims): wenn die
#   Generierung zu langsam ist: ein statischer KV-Cache mit `torch.compile`, schnellere
#   Attention-Kernels, Speculative Decoding und Quantisierung, direkt in transformers.
# - [Strategien für den KV-Cache](https://huggingface.co/docs/transformers/kv_cache): wenn lange
#   Prompts oder große Batches Ihren GPU-Speicher füllen: statische, ausgelagerte und quantisierte Caches.
# - [Anleitung zur Quantisierung](https://huggingface.co/docs/transformers/main_classes/quantization):
#   wenn ein Modell nicht auf Ihre GPU passt oder Sie bitsandbytes, GPTQ, AWQ und andere Verfahren
#   vergleichen möchten.
# - [vLLM](https://github.com/vllm-project/vllm) und [SGLang](https://github.com/sgl-project/sglang):
#   wenn viele Nutzerinnen und Nutzer Anfragen an ein Modell schicken und ein einzelner
#   `generate()`-Prozess nicht mehr reicht: Serving-Engines mit Continuous Batching, einem
#   seitenweise verwalteten KV-Cache und optimierten Kernels. Für einen schnellen, OpenAI-kompatiblen
#   Server aus transformers selbst gibt es `transformers serve` (`transformers/cli/serve.py` in 5.24).
#   Der hauseigene Server von Hugging Face,
#   [text-generation-inference](https://github.com/huggingface/text-generation-inference), ist seit
#   Dezember 2025 im Wartungsmodus und empfiehlt vLLM und SGLang (laut seinem README).
# - [Optimum](https://github.com/huggingface/optimum): wenn Sie auf bestimmter Hardware bereitstellen
#   (ONNX Runtime, OpenVINO, Intel, AWS-Chips und mehr) und deren Optimierungen nutzen möchten.
#
# ## Zusammenfassung
#
# - Jeder neue Token liest alle Gewichte einmal; bei einem einzelnen Prompt ist die Zeit pro Token
#   deshalb nach unten begrenzt durch Bytes der Gewichte / Speicherbandbreite.
# - Batching verteilt jeden Lesevorgang auf viele Prompts: ein Mehrfaches an Tokens pro Sekunde, mit
#   denselben Antworten beim Greedy Decoding (bis auf die letzten Bits der Gleitkommarechnung).
# - Quantisierung mit 8 und 4 Bit verkleinert die Gewichte hier auf etwa das 0,4- und 0,3-Fache der
#   vollen Genauigkeit und ein 7B-Modell auf eine Größe, die eine kostenlose GPU aufnehmen kann.
# - `TextStreamer(tokenizer, skip_prompt=True)` zeigt die Antwort an, während sie erzeugt wird.
#
# Sie können jetzt mit `generate()` Text erzeugen, seine Länge und sein Decoding steuern, Batches
# mit dem richtigen Padding bilden, Chat-Modelle richtig prompten und messen, was das alles kostet.
# Die Notebooks 07 und 08 gehen noch weiter: die Scores hinter jedem Token und das, was in einem
# `generate()`-Aufruf geschieht.
