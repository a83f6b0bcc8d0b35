# %% [markdown] lang=en
# # 09 · generate() inside an application
#
# An application needs more from `generate()` than one call in a notebook cell: text that
# appears while it is being written, answers that stop where the application wants, tokens it
# may or may not write, a time budget, and a server when one process is not enough. This
# notebook builds each of these with the plain `transformers` API, and ends with a tool that
# looks at your own `generate()` call before it runs and names every pitfall from notebooks
# 02–05 that it hits.
#
# **What you will learn**
#
# - streaming: `TextIteratorStreamer` with `generate()` in a thread, and the time to first text
# - stopping: `stop_strings` (with `tokenizer=`), a `StoppingCriteria` of your own, several
#   end-of-sequence ids, and `max_time`, and what each leaves in the output
# - steering: a `LogitsProcessor` of your own, `suppress_tokens`, `bad_words_ids` and `sequence_bias`
# - serving: `transformers serve` (an OpenAI-compatible server) and the official `openai` client
# - the pitfall doctor: `companion.diagnose(model, tokenizer, inputs, **generate_kwargs)`

# %% [markdown] lang=de
# # 09 · generate() in einer Anwendung
#
# Eine Anwendung braucht von `generate()` mehr als einen Aufruf in einer Notebook-Zelle: Text, der
# erscheint, während er geschrieben wird, Antworten, die dort enden, wo die Anwendung es will,
# Tokens, die das Modell schreiben darf oder nicht, ein Zeitbudget und einen Server, wenn ein
# einzelner Prozess nicht genügt. Dieses Notebook baut all das mit der gewöhnlichen API von
# `transformers` und endet mit einem Werkzeug, das Ihren eigenen `generate()`-Aufruf prüft, bevor
# er läuft, und jede Falle aus den Notebooks 02–05 benennt, in die er tappt.
#
# **Was Sie lernen**
#
# - Streaming: `TextIteratorStreamer` mit `generate()` in einem Thread und die Zeit bis zum ersten Text
# - Abbrechen: `stop_strings` (mit `tokenizer=`), ein eigenes `StoppingCriteria`, mehrere
#   End-of-Sequence-IDs und `max_time`, und was jede Variante in der Ausgabe hinterlässt
# - Steuern: ein eigener `LogitsProcessor`, `suppress_tokens`, `bad_words_ids` und `sequence_bias`
# - Bereitstellen: `transformers serve` (ein OpenAI-kompatibler Server) und der offizielle Client `openai`
# - der Fallen-Doktor: `companion.diagnose(model, tokenizer, inputs, **generate_kwargs)`

# %% [colab-install]

# %% tags=parameters
MODEL = "smollm2-135m"  # an instruct model (a base model such as tutorial-tiny gets plain-text prompts); a hub id on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization
MAX_NEW_TOKENS = 24  # upper bound on new tokens per generate() call
SEED = 0  # setup_notebook seeds Python, NumPy and torch with it (this notebook decodes greedily)

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
import time
from threading import Thread

import torch

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token  # Llama tokenizers (tutorial-tiny) have no pad token of their own


def prompt_inputs(request, plain_text):
    """The tokenized prompt: `request` through the chat template for an instruct model, else `plain_text` to continue."""
    if tokenizer.chat_template:
        messages = [{"role": "user", "content": request}]
        return tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(model.device)
    return tokenizer([plain_text], return_tensors="pt").to(model.device)


story_inputs = prompt_inputs("Write two sentences about a cat that likes to sleep in the sun.", "I am a cat.")
number_inputs = prompt_inputs("List the first ten prime numbers.", "A sequence of numbers: 1, 2")
story_length = story_inputs["input_ids"].shape[1]
number_length = number_inputs["input_ids"].shape[1]
print("chat template:", tokenizer.chat_template is not None)

# %% [markdown] lang=en
# ## Streaming into an application
#
# `generate()` returns when the whole answer is done. A chat UI wants the words as they come.
# transformers' answer is a *streamer*: `generate(streamer=...)` hands every new token to it
# (transformers 5.24, `GenerationMixin._sample` calls `streamer.put`). `TextIteratorStreamer`
# decodes them and puts the text in a queue that you read with a `for` loop. Because `generate()`
# blocks until it is done, it runs in a second thread while the main thread reads the queue —
# the pattern web UIs use. `skip_prompt=True` leaves out the prompt, and extra keyword arguments
# (`skip_special_tokens=True`) go to `tokenizer.decode`.

# %% [markdown] lang=de
# ## Streaming in eine Anwendung
#
# `generate()` kehrt erst zurück, wenn die ganze Antwort fertig ist. Eine Chat-Oberfläche will die
# Wörter aber schon, während sie entstehen. Die Antwort von transformers ist ein *Streamer*:
# `generate(streamer=...)` übergibt ihm jeden neuen Token (transformers 5.24, `GenerationMixin._sample`
# ruft `streamer.put` auf). `TextIteratorStreamer` dekodiert die Tokens und legt den Text in eine
# Warteschlange, die Sie mit einer `for`-Schleife lesen. Weil `generate()` blockiert, bis es fertig
# ist, läuft es in einem zweiten Thread, während der Haupt-Thread die Warteschlange liest — das
# Muster, das Web-Oberflächen verwenden. `skip_prompt=True` lässt den Prompt weg, und weitere
# Keyword-Argumente (`skip_special_tokens=True`) gehen an `tokenizer.decode`.

# %%
from transformers import TextIteratorStreamer

streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=60)
generation_kwargs = dict(**story_inputs, streamer=streamer, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
thread = Thread(target=model.generate, kwargs=generation_kwargs)

start = time.perf_counter()
thread.start()
pieces, first_text_s = [], None
for piece in streamer:  # blocks until the next piece of text is ready
    if piece and first_text_s is None:
        first_text_s = time.perf_counter() - start
    pieces.append(piece)
thread.join()
total_s = time.perf_counter() - start
print(pieces)

# %% [markdown] lang=en
# The streamer hands out text in pieces, not one per token: it holds tokens back until they
# end in a space or a line break (`TextStreamer.put` in `generation/streamers.py`), so that a
# word split into several tokens never appears half-written. Joined, the pieces are exactly
# the answer that `generate()` returns without a streamer:

# %% [markdown] lang=de
# Der Streamer gibt den Text in Stücken aus, nicht einen Token nach dem anderen: Er hält Tokens
# zurück, bis sie mit einem Leerzeichen oder Zeilenumbruch enden (`TextStreamer.put` in
# `generation/streamers.py`), damit ein Wort, das aus mehreren Tokens besteht, nie halb geschrieben
# erscheint. Zusammengesetzt ergeben die Stücke genau die Antwort, die `generate()` ohne Streamer liefert:

# %%
with torch.inference_mode():
    story_ids = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
story_answer = tokenizer.decode(story_ids[0, story_length:], skip_special_tokens=True)
print("same text:", "".join(pieces) == story_answer)

# %% tags=nbval-ignore-output
print(f"time to first text: {first_text_s:.2f} s, whole answer: {total_s:.2f} s ({len(pieces)} pieces)")

# %% [markdown] lang=en
# The time to first text is what a user waits before anything happens; without a streamer
# they would wait for the whole answer. Two more things to know: a streamer takes one prompt at
# a time (`TextStreamer.put` raises "TextStreamer only supports batch size 1"), and `timeout=`
# makes the `for` loop raise instead of waiting forever if `generate()` fails in its thread. In
# an `asyncio` application (a FastAPI server, for example) use `AsyncTextIteratorStreamer`
# instead, and read it with `async for piece in streamer:` (transformers 5.24,
# `generation/streamers.py`).

# %% [markdown] lang=de
# Die Zeit bis zum ersten Text ist die Zeit, die jemand wartet, bevor überhaupt etwas passiert; ohne
# Streamer würde er auf die ganze Antwort warten. Zwei Dinge sollten Sie noch wissen: Ein Streamer
# nimmt nur einen Prompt auf einmal (`TextStreamer.put` meldet „TextStreamer only supports batch
# size 1“), und `timeout=` lässt die `for`-Schleife einen Fehler auslösen, statt ewig zu warten,
# falls `generate()` in seinem Thread scheitert. In einer `asyncio`-Anwendung (etwa einem
# FastAPI-Server) nehmen Sie stattdessen `AsyncTextIteratorStreamer` und lesen ihn mit
# `async for piece in streamer:` (transformers 5.24, `generation/streamers.py`).

# %% [markdown] lang=en
# ## Stopping where you want
#
# Left alone, `generate()` stops at the model's end-of-sequence (EOS) token or after
# `max_new_tokens`. An application often wants to stop earlier: at the end of a sentence, after
# some words, at a given token, or after some time. Each way leaves something different in the
# output.
#
# **`stop_strings`** stops as soon as the generated text contains one of the strings. To know
# the tokens as text, `generate()` needs the tokenizer, passed as `tokenizer=`. Without it:

# %% [markdown] lang=de
# ## Abbrechen, wo Sie es wollen
#
# Ohne weitere Angaben hört `generate()` beim End-of-Sequence-Token (EOS) des Modells auf oder nach
# `max_new_tokens`. Eine Anwendung will oft früher aufhören: am Ende eines Satzes, nach einer Anzahl
# Wörter, an einem bestimmten Token oder nach einer bestimmten Zeit. Jeder Weg lässt etwas anderes
# in der Ausgabe zurück.
#
# **`stop_strings`** hält an, sobald der erzeugte Text eine der Zeichenketten enthält. Dafür muss
# `generate()` die Tokens als Text kennen, also braucht es den Tokenizer als `tokenizer=`. Ohne ihn:

# %%
try:
    model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, stop_strings=["."])
except ValueError as error:
    print("ValueError:", error)

# %% [markdown] lang=en
# With the tokenizer, the answer ends right after the first comma or full stop (`stop_strings`
# takes a list), and the stop string stays in the output:

# %% [markdown] lang=de
# Mit dem Tokenizer endet die Antwort direkt nach dem ersten Komma oder Punkt (`stop_strings`
# nimmt eine Liste), und die Stop-Zeichenkette bleibt in der Ausgabe:

# %%
with torch.inference_mode():
    stopped_ids = model.generate(
        **story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, stop_strings=[",", "."], tokenizer=tokenizer
    )
print(repr(tokenizer.decode(stopped_ids[0, story_length:], skip_special_tokens=True)))
print("the start of the full answer:", story_answer.startswith(tokenizer.decode(stopped_ids[0, story_length:], skip_special_tokens=True)))

# %% [markdown] lang=en
# **A `StoppingCriteria` of your own** decides after every step, for every row, whether that row
# is done: `__call__(input_ids, scores)` gets all ids so far, shape (batch, length), and returns
# a bool tensor of shape (batch,). This one stops a row once its new text has a number of words.
# It sees tokens, not words: the step that starts the last word ends the row, so that word may
# be cut.

# %% [markdown] lang=de
# **Ein eigenes `StoppingCriteria`** entscheidet nach jedem Schritt für jede Zeile, ob sie fertig
# ist: `__call__(input_ids, scores)` bekommt alle bisherigen IDs in der Form (Batch, Länge) und gibt
# einen Bool-Tensor der Form (Batch,) zurück. Dieses hier beendet eine Zeile, sobald ihr neuer Text
# eine bestimmte Zahl von Wörtern hat. Es sieht Tokens, keine Wörter: Der Schritt, der das letzte
# Wort beginnt, beendet die Zeile, also kann dieses Wort abgeschnitten sein.

# %%
from transformers import StoppingCriteria, StoppingCriteriaList


class StopAfterWords(StoppingCriteria):
    """Stop each row once its new text (after `prompt_length` ids) has `words` words."""

    def __init__(self, tokenizer, prompt_length, words):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.words = words

    def __call__(self, input_ids, scores, **kwargs):
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length:], skip_special_tokens=True)
        done = [len(text.split()) >= self.words for text in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


with torch.inference_mode():
    word_ids = model.generate(
        **story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
        stopping_criteria=StoppingCriteriaList([StopAfterWords(tokenizer, story_length, words=4)]),
    )
print(repr(tokenizer.decode(word_ids[0, story_length:], skip_special_tokens=True)))

# %% [markdown] lang=en
# **Several end-of-sequence ids:** `eos_token_id=` takes a list, and `generate()` stops a row at
# any of them (`EosTokenCriteria`). Here we add the ids of the comma and the full stop to the
# model's own EOS ids. Unlike `stop_strings`, this matches one token id exactly: a token that
# merely contains a full stop (such as `".\n"` in some vocabularies) does not stop it. The EOS token itself stays in
# the output; `skip_special_tokens=True` removes only tokens that are special, and a full stop is not.

# %% [markdown] lang=de
# **Mehrere End-of-Sequence-IDs:** `eos_token_id=` nimmt eine Liste, und `generate()` beendet eine
# Zeile bei jeder davon (`EosTokenCriteria`). Hier fügen wir den eigenen EOS-IDs des Modells die IDs
# von Komma und Punkt hinzu. Anders als `stop_strings` trifft das genau eine Token-ID: Ein Token, der einen
# Punkt nur enthält (etwa `".\n"` in manchen Vokabularen), beendet die Zeile nicht. Der EOS-Token
# selbst bleibt in der Ausgabe; `skip_special_tokens=True` entfernt nur Tokens, die Spezial-Tokens
# sind, und ein Punkt ist keiner.

# %%
from companion.generation import end_of_sequence_ids

comma_id, full_stop_id = tokenizer.convert_tokens_to_ids([",", "."])
eos_ids = end_of_sequence_ids(model, tokenizer) + [comma_id, full_stop_id]
with torch.inference_mode():
    eos_stopped = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, eos_token_id=eos_ids)
print("EOS ids:", eos_ids)
print("last token:", repr(tokenizer.decode(eos_stopped[0, -1:])))
print(repr(tokenizer.decode(eos_stopped[0, story_length:], skip_special_tokens=True)))

# %% [markdown] lang=en
# **`max_time`** gives the call a time budget in seconds (`MaxTimeCriteria`): after each new
# token, `generate()` compares the time since the call started with the budget. What comes
# back is whatever was written in time, the start of the full answer cut anywhere, so its length
# depends on the machine (that is why this cell's output is not compared by the tests):

# %% [markdown] lang=de
# **`max_time`** gibt dem Aufruf ein Zeitbudget in Sekunden (`MaxTimeCriteria`): Nach jedem neuen
# Token vergleicht `generate()` die Zeit seit Beginn des Aufrufs mit dem Budget. Zurück kommt,
# was rechtzeitig geschrieben wurde: der Anfang der vollständigen Antwort, an beliebiger Stelle
# abgeschnitten. Die Länge hängt also vom Rechner ab (darum vergleichen die Tests die Ausgabe dieser
# Zelle nicht):

# %% tags=nbval-ignore-output
with torch.inference_mode():
    timed_ids = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, max_time=0.5)
timed_text = tokenizer.decode(timed_ids[0, story_length:], skip_special_tokens=True)
print(f"{timed_ids.shape[1] - story_length} of at most {MAX_NEW_TOKENS} new tokens in 0.5 s")
print("the start of the full answer:", story_answer.startswith(timed_text))

# %% [markdown] lang=en
# ## Steering the next token
#
# At every step, `generate()` passes the next-token scores through a list of *logits
# processors* before it picks a token (notebook 03 met the ones behind temperature, top-k and
# top-p). You can add your own: a `LogitsProcessor` gets `input_ids` (batch, length) and
# `scores` (batch, vocabulary) and returns new scores. Setting a score to minus infinity makes
# that token impossible.
#
# Our goal: the model must answer with a list of numbers, so only tokens made of digits,
# commas and spaces are allowed, plus the end-of-sequence token so it can stop. First the
# allowed ids, found by decoding every token of the vocabulary:

# %% [markdown] lang=de
# ## Den nächsten Token steuern
#
# Bei jedem Schritt schickt `generate()` die Scores für den nächsten Token durch eine Liste von
# *Logits-Prozessoren*, bevor es einen Token wählt (Notebook 03 hat die hinter Temperature, Top-k
# und Top-p kennengelernt). Sie können eigene hinzufügen: Ein `LogitsProcessor` bekommt `input_ids`
# (Batch, Länge) und `scores` (Batch, Vokabular) und gibt neue Scores zurück. Setzt er einen Score
# auf minus unendlich, kann dieser Token nicht mehr gewählt werden.
#
# Unser Ziel: Das Modell soll mit einer Liste von Zahlen antworten, also sind nur Tokens aus Ziffern,
# Kommas und Leerzeichen erlaubt, dazu der End-of-Sequence-Token, damit es aufhören kann. Zuerst die
# erlaubten IDs, gefunden, indem wir jeden Token des Vokabulars dekodieren:

# %%
ALLOWED_CHARACTERS = set("0123456789, ")
allowed_ids = [
    token_id for token_id in range(len(tokenizer))
    if (text := tokenizer.decode([token_id])) and set(text) <= ALLOWED_CHARACTERS
] + end_of_sequence_ids(model, tokenizer)
print(f"{len(allowed_ids)} of {len(tokenizer)} tokens allowed, e.g.", [tokenizer.decode([i]) for i in allowed_ids[:8]])

# %%
from transformers import LogitsProcessor, LogitsProcessorList


class OnlyTheseTokens(LogitsProcessor):
    """Allow only `allowed_ids` at every step: every other token's score becomes -inf."""

    def __init__(self, allowed_ids):
        self.allowed_ids = torch.tensor(sorted(set(allowed_ids)))

    def __call__(self, input_ids, scores):  # scores: (batch, vocabulary)
        blocked = torch.full_like(scores, float("-inf"))
        blocked[:, self.allowed_ids.to(scores.device)] = 0.0
        return scores + blocked


with torch.inference_mode():
    free_ids = model.generate(**number_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    steered_ids = model.generate(
        **number_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
        logits_processor=LogitsProcessorList([OnlyTheseTokens(allowed_ids)]),
    )
print("free:   ", repr(tokenizer.decode(free_ids[0, number_length:], skip_special_tokens=True)))
print("steered:", repr(tokenizer.decode(steered_ids[0, number_length:], skip_special_tokens=True)))

# %% [markdown] lang=en
# transformers has a built-in processor that does the opposite job, `SuppressTokensLogitsProcessor`:
# `generate(suppress_tokens=[...])` blocks the ids you list. Blocking every id that is not
# allowed must give exactly the same tokens as our processor:

# %% [markdown] lang=de
# transformers hat einen eingebauten Prozessor für die umgekehrte Aufgabe,
# `SuppressTokensLogitsProcessor`: `generate(suppress_tokens=[...])` sperrt die IDs, die Sie
# auflisten. Sperren wir jede ID, die nicht erlaubt ist, müssen genau dieselben Tokens herauskommen
# wie mit unserem Prozessor:

# %%
allowed = set(allowed_ids)
blocked_ids = [token_id for token_id in range(model.config.get_text_config().vocab_size) if token_id not in allowed]
with torch.inference_mode():
    suppressed_ids = model.generate(
        **number_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, suppress_tokens=blocked_ids
    )
print("same tokens as suppress_tokens:", torch.equal(suppressed_ids, steered_ids))

# %% [markdown] lang=en
# Two more built-ins work on words rather than on one token. **`bad_words_ids`** forbids
# sequences of ids (`NoBadWordsLogitsProcessor`): the last token of a sequence is blocked
# whenever the tokens before it have just been written. Here we forbid the first token of the
# free answer, so the model has to start differently. **`sequence_bias`** adds a bonus or a
# penalty to a sequence instead of forbidding it (`SequenceBiasLogitsProcessor`), with tuples
# of ids as keys; a penalty of -5 on the same token is a strong nudge, not a ban:

# %% [markdown] lang=de
# Zwei weitere eingebaute Prozessoren arbeiten mit Wörtern statt mit einem einzelnen Token.
# **`bad_words_ids`** verbietet Folgen von IDs (`NoBadWordsLogitsProcessor`): Der letzte Token einer
# Folge wird gesperrt, sobald die Tokens davor gerade geschrieben wurden. Hier verbieten wir den
# ersten Token der freien Antwort, also muss das Modell anders beginnen. **`sequence_bias`** gibt
# einer Folge einen Bonus oder Malus, statt sie zu verbieten (`SequenceBiasLogitsProcessor`), mit
# Tupeln von IDs als Schlüsseln; ein Malus von -5 auf denselben Token ist ein kräftiger Schubs, kein Verbot:

# %%
first_token = free_ids[0, number_length].item()
with torch.inference_mode():
    banned_ids = model.generate(
        **number_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, bad_words_ids=[[first_token]]
    )
    biased_ids = model.generate(
        **number_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, sequence_bias={(first_token,): -5.0}
    )
print("forbidden first token:", repr(tokenizer.decode([first_token])))
print("bad_words_ids:", repr(tokenizer.decode(banned_ids[0, number_length:], skip_special_tokens=True)))
print("sequence_bias:", repr(tokenizer.decode(biased_ids[0, number_length:], skip_special_tokens=True)))

# %% [markdown] lang=en
# ## When one process is not enough: `transformers serve`
#
# A model loaded in a notebook serves one user. For several, put it behind a server that speaks
# the OpenAI API, so that any OpenAI client can use it. transformers 5.24 has one:
# `transformers serve MODEL` (`transformers/cli/serve.py`) starts a FastAPI app under uvicorn with
# `/v1/chat/completions`, `/v1/completions`, `/v1/models` and `/health`. We checked in its source
# and by running it that it serves a **local model folder offline on a CPU**:
#
# - `ModelManager.process_model_name` (`cli/serving/model_manager.py`) keeps an existing local
#   path as it is, and `from_pretrained` reads it without the hub (we set `HF_HUB_OFFLINE=1`).
# - `--device cpu` (here: the device the notebook's model is on) sets the `device_map`; `--quantization bnb-4bit`/`bnb-8bit` quantizes with bitsandbytes.
# - The `transformers` command checks PyPI for a newer version once a day
#   (`huggingface_hub.cli._cli_utils.check_cli_update`); `HF_HUB_DISABLE_UPDATE_CHECK=1` skips it.
# - It needs packages that transformers does not install itself: `Serve.__init__` raises
#   "Missing dependencies for serving" unless `is_serve_available()` finds pydantic, fastapi,
#   uvicorn and openai (`utils/import_utils.py`); `pip install "transformers[serving]"` brings them.
#
# Two server defaults differ from `generate()`'s: without `max_tokens` it writes up to 1024 new
# tokens, and it samples if the model's generation config says so; `temperature=0` in the request
# turns sampling off (`BaseHandler._build_generation_config` in `cli/serving/utils.py`). The next
# cell starts the server on this machine only (`--host 127.0.0.1`), if those packages are installed:

# %% [markdown] lang=de
# ## Wenn ein Prozess nicht genügt: `transformers serve`
#
# Ein in einem Notebook geladenes Modell bedient einen Nutzer. Für mehrere stellen Sie es hinter
# einen Server, der die OpenAI-API spricht, sodass jeder OpenAI-Client es verwenden kann.
# transformers 5.24 bringt einen mit: `transformers serve MODEL` (`transformers/cli/serve.py`)
# startet eine FastAPI-App unter uvicorn mit `/v1/chat/completions`, `/v1/completions`, `/v1/models`
# und `/health`. Wir haben im Quelltext und durch Ausführen geprüft, dass er einen **lokalen
# Modellordner offline auf einer CPU** bereitstellt:
#
# - `ModelManager.process_model_name` (`cli/serving/model_manager.py`) lässt einen vorhandenen lokalen
#   Pfad unverändert, und `from_pretrained` liest ihn ohne den Hub (wir setzen `HF_HUB_OFFLINE=1`).
# - `--device cpu` (hier: das Gerät, auf dem das Modell des Notebooks liegt) setzt die `device_map`; `--quantization bnb-4bit`/`bnb-8bit` quantisiert mit bitsandbytes.
# - Der Befehl `transformers` fragt einmal am Tag bei PyPI nach einer neueren Version
#   (`huggingface_hub.cli._cli_utils.check_cli_update`); `HF_HUB_DISABLE_UPDATE_CHECK=1` überspringt das.
# - Er braucht Pakete, die transformers nicht selbst installiert: `Serve.__init__` meldet „Missing
#   dependencies for serving“, wenn `is_serve_available()` nicht pydantic, fastapi, uvicorn und openai
#   findet (`utils/import_utils.py`); `pip install "transformers[serving]"` bringt sie mit.
#
# Zwei Voreinstellungen des Servers unterscheiden sich von denen von `generate()`: Ohne `max_tokens`
# schreibt er bis zu 1024 neue Tokens, und er verwendet Sampling, wenn die Generierungskonfiguration des
# Modells es vorsieht; `temperature=0` in der Anfrage schaltet das Sampling ab
# (`BaseHandler._build_generation_config` in `cli/serving/utils.py`). Die nächste Zelle startet den
# Server nur für diesen Rechner (`--host 127.0.0.1`), falls diese Pakete installiert sind:

# %%
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request

SERVING_PACKAGES = ["pydantic", "fastapi", "uvicorn", "openai"]  # what is_serve_available() looks for
missing_packages = [name for name in SERVING_PACKAGES if importlib.util.find_spec(name) is None]
print("missing for transformers serve:", missing_packages or "nothing")

server = None
if not missing_packages:
    with socket.socket() as probe:  # a free port on this machine
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # the `transformers` command of this kernel's Python (its console script's module, so it works wherever pip put scripts)
    serve_command = [sys.executable, "-m", "transformers.cli.transformers", "serve", model.name_or_path,
                     "--host", "127.0.0.1", "--port", str(port), "--device", str(model.device)]
    if QUANTIZATION:
        serve_command += ["--quantization", f"bnb-{QUANTIZATION}"]
    server_log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(
        serve_command, stdout=server_log, stderr=subprocess.STDOUT,  # its log, to show if it fails
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1"},
    )
    for _ in range(240):  # wait up to 2 minutes for the model to load
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    print("server ready:", server.poll() is None)
    if server.poll() is not None:  # it stopped: its last lines say why
        server_log.seek(0)
        print(*server_log.read().splitlines()[-15:], sep="\n")

# %% [markdown] lang=en
# The official `openai` client talks to it like to any OpenAI endpoint: `base_url` points at our
# server, the API key is not checked, and `model` names the folder the server was started with. An
# instruct model gets `chat.completions` (the server applies the chat template with
# `add_generation_prompt=True`); a base model gets the plain-text `completions`. `stream=True`
# returns the answer in chunks, as the streamer did above. Where the packages are missing, the
# cell does what the server does for each request, in this process: the same prompt, greedy, with
# a `TextIteratorStreamer`.

# %% [markdown] lang=de
# Der offizielle Client `openai` spricht mit ihm wie mit jedem OpenAI-Endpunkt: `base_url` zeigt auf
# unseren Server, der API-Schlüssel wird nicht geprüft, und `model` nennt den Ordner, mit dem der
# Server gestartet wurde. Ein Instruct-Modell bekommt `chat.completions` (der Server wendet das
# Chat-Template mit `add_generation_prompt=True` an), ein Basismodell das reine Text-`completions`.
# `stream=True` liefert die Antwort in Stücken, wie der Streamer oben. Wo die Pakete fehlen, macht die
# Zelle in diesem Prozess, was der Server für jede Anfrage tut: derselbe Prompt, greedy, mit einem
# `TextIteratorStreamer`.

# %%
question, plain_prompt = "Write two sentences about a cat that likes to sleep in the sun.", "I am a cat."
if server is not None:
    from openai import OpenAI

    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="not-checked")
    if tokenizer.chat_template:
        request = dict(model=model.name_or_path, messages=[{"role": "user", "content": question}],
                       max_tokens=MAX_NEW_TOKENS, temperature=0)
        reply = client.chat.completions.create(**request).choices[0].message.content
        chunks = [chunk.choices[0].delta.content or "" for chunk in client.chat.completions.create(**request, stream=True)
                  if chunk.choices]
    else:
        request = dict(model=model.name_or_path, prompt=plain_prompt, max_tokens=MAX_NEW_TOKENS, temperature=0)
        reply = client.completions.create(**request).choices[0].text
        chunks = [chunk.choices[0].text for chunk in client.completions.create(**request, stream=True) if chunk.choices]
else:
    served_streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=60)
    served_thread = Thread(target=model.generate, kwargs=dict(
        **story_inputs, streamer=served_streamer, max_new_tokens=MAX_NEW_TOKENS, do_sample=False))
    served_thread.start()
    chunks = list(served_streamer)
    served_thread.join()
    reply = "".join(chunks)
print("reply:", repr(reply))
print("streamed in", len(chunks), "chunks; joined equal to the reply:", "".join(chunks) == reply)
print("the same as generate() here:", reply.strip() == story_answer.strip())

# %%
if server is not None:
    server.terminate()  # stop the server at the end: it would hold the model and the port
    server.wait(timeout=30)
    print("server stopped:", server.returncode is not None)

# %% [markdown] lang=en
# One `transformers serve` process answers requests one after the other (`GenerateManager` in
# `cli/serving/utils.py` runs `model.generate()` on one thread) unless you start it with
# `--continuous-batching`, which batches requests as they arrive, with a paged KV cache.
# For production traffic, dedicated servers go much further: [vLLM](https://docs.vllm.ai)
# (paged attention, continuous batching, many GPUs) and [SGLang](https://docs.sglang.ai)
# (fast structured output, prefix caching); both speak the same OpenAI API, so the client code
# above stays as it is.

# %% [markdown] lang=de
# Ein einzelner Prozess von `transformers serve` beantwortet Anfragen nacheinander (`GenerateManager` in
# `cli/serving/utils.py` führt `model.generate()` in einem einzigen Thread aus), es sei denn, Sie
# starten ihn mit `--continuous-batching`; dann bündelt er Anfragen, sobald sie eintreffen, mit einem
# seitenweise verwalteten KV-Cache. Für Produktionsverkehr gehen spezialisierte Server viel weiter:
# [vLLM](https://docs.vllm.ai) (Paged Attention, Continuous Batching, viele GPUs) und
# [SGLang](https://docs.sglang.ai) (schnelle strukturierte Ausgabe, Prefix Caching); beide sprechen
# dieselbe OpenAI-API, der Client-Code oben bleibt also, wie er ist.

# %% [markdown] lang=en
# ## The pitfall doctor
#
# Notebooks 02–05 showed calls that quietly do the wrong thing: no length, sampling settings
# without sampling, padding on the wrong side, an instruct model without its chat template.
# The library's warnings about them are scattered, and some no longer appear in transformers 5.
# `companion.diagnose(model, tokenizer, inputs, **generate_kwargs)` takes exactly what you are
# about to pass to `model.generate(**inputs, **generate_kwargs)` and checks it *before* it runs.
# Each finding names the pitfall, the evidence from this call, the fix, and the notebook that
# teaches it. The course's tests prove every rule against the real library (`tests/test_diagnose.py`).
#
# First, notebook 02's call without a length:

# %% [markdown] lang=de
# ## Der Fallen-Doktor
#
# Die Notebooks 02–05 haben Aufrufe gezeigt, die still das Falsche tun: keine Länge, Sampling-Einstellungen
# ohne Sampling, Padding auf der falschen Seite, ein Instruct-Modell ohne sein Chat-Template. Die
# Warnungen der Bibliothek dazu sind verstreut, und einige erscheinen in transformers 5 gar nicht
# mehr. `companion.diagnose(model, tokenizer, inputs, **generate_kwargs)` nimmt genau das, was Sie an
# `model.generate(**inputs, **generate_kwargs)` übergeben wollen, und prüft es, *bevor* es läuft. Jeder
# Befund nennt die Falle, den Beleg aus diesem Aufruf, die Abhilfe und das Notebook, das sie erklärt.
# Die Tests des Kurses beweisen jede Regel an der echten Bibliothek (`tests/test_diagnose.py`).
#
# Zuerst der Aufruf aus Notebook 02, ohne Länge:

# %%
from companion import diagnose

print(diagnose(model, tokenizer, story_inputs))

# %% [markdown] lang=en
# Notebook 03's quiet mistake, sampling settings without `do_sample=True`, and a decoding step
# that will print the prompt again (pass your decoding as `decode=`, a function of the generated
# ids; the doctor runs it on the prompt plus one token):

# %% [markdown] lang=de
# Der stille Fehler aus Notebook 03, Sampling-Einstellungen ohne `do_sample=True`, und ein
# Dekodierschritt, der den Prompt noch einmal ausgeben wird (übergeben Sie Ihr Dekodieren als
# `decode=`, eine Funktion der erzeugten IDs; der Doktor ruft sie mit dem Prompt plus einem Token auf):

# %%
print(diagnose(
    model, tokenizer, story_inputs, max_new_tokens=MAX_NEW_TOKENS, temperature=0.7, top_p=0.9,
    decode=lambda ids: tokenizer.batch_decode(ids, skip_special_tokens=True),
))

# %% [markdown] lang=en
# Notebook 04's batch, padded on the right, and the same batch passed without its attention mask
# (this model's pad token is its EOS token, so `generate()` cannot tell padding from text):

# %% [markdown] lang=de
# Der Batch aus Notebook 04, rechts aufgefüllt, und derselbe Batch ohne seine Attention Mask
# übergeben (der Pad-Token dieses Modells ist sein EOS-Token, also kann `generate()` Padding nicht
# von Text unterscheiden):

# %%
texts = [tokenizer.decode(story_inputs["input_ids"][0]), tokenizer.decode(number_inputs["input_ids"][0])]
texts = [text.removeprefix(tokenizer.bos_token) if tokenizer("a")["input_ids"][0] == tokenizer.bos_token_id else text
         for text in texts]  # a tokenizer that adds BOS itself would add it again
right_padded = tokenizer(texts, padding=True, padding_side="right", return_tensors="pt")
print(diagnose(model, tokenizer, right_padded, max_new_tokens=MAX_NEW_TOKENS, do_sample=False))
left_padded = tokenizer(texts, padding=True, padding_side="left", return_tensors="pt")
print(diagnose(model, tokenizer, left_padded["input_ids"], max_new_tokens=MAX_NEW_TOKENS, do_sample=False))

# %% [markdown] lang=en
# Notebook 05's pitfalls need an instruct model: a question without the chat template, and the
# template without the generation prompt. A base model has no template, so for it these rules
# stay silent:

# %% [markdown] lang=de
# Die Fallen aus Notebook 05 brauchen ein Instruct-Modell: eine Frage ohne Chat-Template und das
# Template ohne Generation Prompt. Ein Basismodell hat kein Template, bei ihm schweigen diese Regeln also:

# %%
raw_question = tokenizer(["Write two sentences about a cat."], return_tensors="pt")
print(diagnose(model, tokenizer, raw_question, max_new_tokens=MAX_NEW_TOKENS, do_sample=False))
if tokenizer.chat_template:
    no_header = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Write two sentences about a cat."}],
        add_generation_prompt=False, return_tensors="pt", return_dict=True,
    )
    print(diagnose(model, tokenizer, no_header, max_new_tokens=MAX_NEW_TOKENS, do_sample=False))

# %% [markdown] lang=en
# One pitfall no earlier notebook showed: asking for more positions than the model has. A model
# knows `config.max_position_embeddings` positions; past them, `generate()` of transformers 5.24
# goes on anyway with only a "friendly reminder" warning (`MaxLengthCriteria` in
# `generation/stopping_criteria.py`), and a model with rotary positions, like both course models,
# writes at positions it never saw in training. The doctor adds the prompt and `max_new_tokens`:

# %% [markdown] lang=de
# Eine Falle, die noch kein früheres Notebook gezeigt hat: mehr Positionen zu verlangen, als das Modell
# hat. Ein Modell kennt `config.max_position_embeddings` Positionen; darüber hinaus macht `generate()`
# in transformers 5.24 trotzdem weiter, nur mit einer „friendly reminder“-Warnung (`MaxLengthCriteria`
# in `generation/stopping_criteria.py`), und ein Modell mit rotierenden Positionskodierungen (RoPE),
# wie beide Kursmodelle, schreibt an Positionen, die es im Training nie gesehen hat. Der Doktor zählt
# Prompt und `max_new_tokens` zusammen:

# %%
context = model.config.get_text_config().max_position_embeddings
print(diagnose(model, tokenizer, story_inputs, max_new_tokens=context, do_sample=False))

# %% [markdown] lang=en
# And the fixed call: left padding, the attention mask, a length, an explicit `do_sample`, and
# decoding only the new columns. The doctor is silent, and the answers are right:

# %% [markdown] lang=de
# Und der reparierte Aufruf: Padding links, die Attention Mask, eine Länge, ein ausdrückliches
# `do_sample` und Dekodieren nur der neuen Spalten. Der Doktor schweigt, und die Antworten stimmen:

# %%
prompt_columns = left_padded["input_ids"].shape[1]
print(diagnose(
    model, tokenizer, left_padded, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
    decode=lambda ids: tokenizer.batch_decode(ids[:, prompt_columns:], skip_special_tokens=True),
))
with torch.inference_mode():
    batch_ids = model.generate(**left_padded.to(model.device), max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
batch_answers = tokenizer.batch_decode(batch_ids[:, prompt_columns:], skip_special_tokens=True)
print("first answer as alone:", batch_answers[0] == story_answer)
print("second answer as alone:", batch_answers[1] == tokenizer.decode(free_ids[0, number_length:], skip_special_tokens=True))

# %% [markdown] lang=en
# The doctor's rules, with the notebook that teaches each (`companion.doctor.RULES`): right
# padding and a missing attention mask where pad = EOS (04); no length and decoding that includes
# the prompt (02); sampling flags without `do_sample`, sampling inherited from the checkpoint's
# generation config, and the default top-k that cuts what `top_p` or `min_p` would keep (03); an
# instruct model without its chat template, a template without the generation prompt, and a
# BOS token doubled by template plus tokenizer (05); a prompt plus `max_new_tokens` longer than
# the model's context (this notebook). It reads the settings as `generate()` does: your keyword
# arguments, then a `generation_config=` you pass, then `model.generation_config`, then the
# library's defaults. Before you run a call of your own, in this course or in an application,
# hand the doctor the same arguments first: `print(diagnose(model, tokenizer, inputs, **kwargs))`.
# It knows these pitfalls only; a silent doctor is no proof that the output is what you want.
#
# ## Exercises
#
# **Exercise 1 (predict, then run).** How many new tokens does this call return?
#
# ```python
# model.generate(**story_inputs, max_new_tokens=20, do_sample=False, max_time=1e-6)
# ```
#
# One microsecond is over before the model has read the prompt. Write your prediction as a
# whole number, then run the call to see.

# %% [markdown] lang=de
# Die Regeln des Doktors, mit dem Notebook, das jede erklärt (`companion.doctor.RULES`): Padding
# rechts und eine fehlende Attention Mask, wo Pad = EOS ist (04); keine Länge und Dekodieren, das
# den Prompt enthält (02); Sampling-Einstellungen ohne `do_sample`, Sampling, das aus der
# Generierungskonfiguration des Checkpoints stammt, und das voreingestellte Top-k, das wegschneidet, was `top_p` oder
# `min_p` behalten würden (03); ein Instruct-Modell ohne sein Chat-Template, ein Template ohne
# Generation Prompt und ein BOS-Token, den Template und Tokenizer doppelt einfügen (05); ein Prompt,
# der zusammen mit `max_new_tokens` länger ist als der Kontext des Modells (dieses Notebook). Der
# Doktor liest die Einstellungen so wie `generate()`: Ihre Keyword-Argumente, dann eine übergebene
# `generation_config=`, dann `model.generation_config`, dann die Standardwerte der Bibliothek. Bevor
# Sie einen eigenen Aufruf ausführen, in diesem Kurs oder in einer Anwendung, geben Sie dem Doktor
# zuerst dieselben Argumente: `print(diagnose(model, tokenizer, inputs, **kwargs))`. Er kennt nur
# diese Fallen; schweigt er, beweist das noch nicht, dass die Ausgabe die gewünschte ist.
#
# ## Übungen
#
# **Übung 1 (erst vorhersagen, dann ausführen).** Wie viele neue Tokens liefert dieser Aufruf?
#
# ```python
# model.generate(**story_inputs, max_new_tokens=20, do_sample=False, max_time=1e-6)
# ```
#
# Eine Mikrosekunde ist vorbei, bevor das Modell den Prompt gelesen hat. Schreiben Sie Ihre
# Vorhersage als ganze Zahl auf und führen Sie dann den Aufruf aus.

# %%
from companion.exercises.application import check_digits_and_spaces, check_fixed_call, check_max_time_tokens

answer = None  # your code here
check_max_time_tokens(answer, model, story_inputs)

# %% tags=solution
with torch.inference_mode():
    timed_out = model.generate(**story_inputs, max_new_tokens=20, do_sample=False, max_time=1e-6)
answer = timed_out.shape[1] - story_length
print(answer)
check_max_time_tokens(answer, model, story_inputs)

# %% [markdown] lang=en
# **Exercise 2 (fix a broken call).** This batched call hits several pitfalls:
#
# ```python
# broken_inputs = tokenizer(texts, padding=True, padding_side="right", return_tensors="pt")
# broken_ids = model.generate(broken_inputs["input_ids"], temperature=0.7)
# ```
#
# Run `diagnose` on it, then build the fixed call: the same prompts (`texts`), greedy. Hand in
# the pair `(inputs, generate_kwargs)` so that `model.generate(**inputs, **generate_kwargs)` is
# the fixed call; the check asks the doctor and compares each row with its prompt alone.

# %% [markdown] lang=de
# **Übung 2 (einen fehlerhaften Aufruf reparieren).** Dieser Aufruf mit einem Batch tappt in mehrere Fallen:
#
# ```python
# broken_inputs = tokenizer(texts, padding=True, padding_side="right", return_tensors="pt")
# broken_ids = model.generate(broken_inputs["input_ids"], temperature=0.7)
# ```
#
# Lassen Sie `diagnose` darauf los, dann bauen Sie den reparierten Aufruf: dieselben Prompts (`texts`),
# greedy. Geben Sie das Paar `(inputs, generate_kwargs)` ab, sodass
# `model.generate(**inputs, **generate_kwargs)` der reparierte Aufruf ist; die Prüfung fragt den
# Doktor und vergleicht jede Zeile mit ihrem Prompt allein.

# %%
answer = None  # your code here
check_fixed_call(answer, model, tokenizer, texts)

# %% tags=solution
broken_inputs = tokenizer(texts, padding=True, padding_side="right", return_tensors="pt")
print(diagnose(model, tokenizer, broken_inputs["input_ids"], temperature=0.7))
fixed_inputs = tokenizer(texts, padding=True, padding_side="left", return_tensors="pt")
answer = (fixed_inputs, {"max_new_tokens": MAX_NEW_TOKENS, "do_sample": False})
check_fixed_call(answer, model, tokenizer, texts)

# %% [markdown] lang=en
# **Exercise 3 (change a setting to reach a goal).** Make the model answer the prime-number
# request (`number_inputs`) with digits and spaces only: no commas this time. Hand in a dict of
# keyword arguments for `generate()` (a `logits_processor`, `suppress_tokens`, ...); the check
# runs `model.generate(**number_inputs, max_new_tokens=..., do_sample=False, **answer)`.

# %% [markdown] lang=de
# **Übung 3 (eine Einstellung ändern, um ein Ziel zu erreichen).** Bringen Sie das Modell dazu, die
# Bitte um Primzahlen (`number_inputs`) nur mit Ziffern und Leerzeichen zu beantworten, diesmal ohne
# Kommas. Geben Sie ein Dict mit Keyword-Argumenten für `generate()` ab (einen `logits_processor`,
# `suppress_tokens`, ...); die Prüfung führt `model.generate(**number_inputs, max_new_tokens=...,
# do_sample=False, **answer)` aus.

# %%
answer = None  # your code here
check_digits_and_spaces(answer, model, tokenizer, number_inputs, MAX_NEW_TOKENS)

# %% tags=solution
digit_ids = [  # digits, with or without spaces; no EOS, which a model may prefer to a list without commas
    token_id for token_id in range(len(tokenizer))
    if (text := tokenizer.decode([token_id])) and set(text) <= set("0123456789 ") and not text.isspace()
]
answer = {"logits_processor": LogitsProcessorList([OnlyTheseTokens(digit_ids)])}
check_digits_and_spaces(answer, model, tokenizer, number_inputs, MAX_NEW_TOKENS)

# %% [markdown] lang=en
# ## Summary
#
# - `TextIteratorStreamer` + `generate()` in a `Thread`: read the text as it is written; the
#   time to first text is what users feel. `AsyncTextIteratorStreamer` for `asyncio` code.
# - `stop_strings` needs `tokenizer=` and keeps the stop string; a `StoppingCriteria` decides per
#   row after each step; `eos_token_id=[...]` stops at any listed id; `max_time` cuts wherever the
#   clock runs out, after at least one token.
# - A `LogitsProcessor` reshapes the scores of every step: `-inf` forbids a token. `suppress_tokens`,
#   `bad_words_ids` and `sequence_bias` are the built-in ones.
# - `transformers serve` gives a local folder an OpenAI-compatible API on a CPU, offline, once
#   fastapi, uvicorn and openai are installed; vLLM and SGLang serve the same API at scale.
# - `companion.diagnose(model, tokenizer, inputs, **generate_kwargs)` checks a call before it
#   runs and names each pitfall with its evidence, its fix and the notebook that teaches it.

# %% [markdown] lang=de
# ## Zusammenfassung
#
# - `TextIteratorStreamer` + `generate()` in einem `Thread`: Lesen Sie den Text, während er
#   geschrieben wird; die Zeit bis zum ersten Text ist das, was Nutzer spüren. `AsyncTextIteratorStreamer`
#   für `asyncio`-Code.
# - `stop_strings` braucht `tokenizer=` und behält die Stop-Zeichenkette; ein `StoppingCriteria`
#   entscheidet nach jedem Schritt für jede Zeile; `eos_token_id=[...]` hält bei jeder aufgelisteten
#   ID an; `max_time` schneidet ab, wo die Uhr abläuft, nach mindestens einem Token.
# - Ein `LogitsProcessor` formt die Scores jedes Schritts um: `-inf` verbietet einen Token.
#   `suppress_tokens`, `bad_words_ids` und `sequence_bias` sind die eingebauten.
# - `transformers serve` gibt einem lokalen Ordner offline auf einer CPU eine OpenAI-kompatible API,
#   sobald fastapi, uvicorn und openai installiert sind; vLLM und SGLang bieten dieselbe API im großen Maßstab.
# - `companion.diagnose(model, tokenizer, inputs, **generate_kwargs)` prüft einen Aufruf, bevor er
#   läuft, und benennt jede Falle mit Beleg, Abhilfe und dem Notebook, das sie erklärt.
