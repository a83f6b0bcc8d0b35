# %% [markdown] lang=en
# # 07 · Token scores: how sure was the model?
#
# `generate()` returns token ids, but at every step it also had a whole probability
# distribution in hand. Asked for it, `generate()` hands those scores back, and with them you
# can see how likely each chosen token was: where the model was sure, where it hesitated, and
# how likely a whole answer is compared with another.
#
# **What you will learn**
#
# - to ask `generate()` for its scores: `output_scores=True` together with
#   `return_dict_in_generate=True`, and what `outputs.sequences` and `outputs.scores` hold
# - to turn scores into the log-probability and probability of each chosen token with
#   `model.compute_transition_scores(..., normalize_logits=True)`
# - why, when sampling, `outputs.scores` describe the *sampling* distribution (after
#   temperature and top-k), while `output_logits=True` gives the model's own scores
# - to score a left-padded batch row by row, and to add log-probabilities up to compare whole
#   answers

# %% [markdown] lang=de
# # 07 · Token-Scores: Wie sicher war sich das Modell?
#
# `generate()` liefert Token-IDs, doch in jedem Schritt hatte das Modell eine vollständige
# Wahrscheinlichkeitsverteilung über das Vokabular vor sich. Auf Wunsch gibt `generate()` diese
# Scores (die Bewertungen, die das Modell jedem möglichen Token gibt) mit zurück. Mit ihnen sehen
# Sie, wie wahrscheinlich jeder gewählte Token war: wo sich das Modell sicher war, wo es gezögert
# hat und wie wahrscheinlich eine ganze Antwort im Vergleich zu einer anderen ist.
#
# **Was Sie lernen**
#
# - wie Sie `generate()` nach seinen Scores fragen: `output_scores=True` zusammen mit
#   `return_dict_in_generate=True`, und was in `outputs.sequences` und `outputs.scores` steht
# - wie Sie aus den Scores mit `model.compute_transition_scores(..., normalize_logits=True)` die
#   Log-Wahrscheinlichkeit und die Wahrscheinlichkeit jedes gewählten Tokens gewinnen
# - warum `outputs.scores` beim Sampling die *Sampling*-Verteilung beschreiben (nach Temperatur
#   und Top-k), während `output_logits=True` die eigenen Scores des Modells liefert
# - wie Sie einen links aufgefüllten Batch Zeile für Zeile bewerten und Log-Wahrscheinlichkeiten
#   addieren, um ganze Antworten miteinander zu vergleichen

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real small LLM, CPU); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 12  # upper bound on new tokens per generate() call; short, so the tables stay readable
SEED = 0  # set_seed(SEED) before sampling makes the samples (and their scores) repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
import torch
from transformers import set_seed

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(type(model).__name__)  # the setup line above names the device (cpu or cuda)
PROMPT = "My name is"
inputs = tokenizer([PROMPT], return_tensors="pt").to(model.device)
prompt_length = inputs["input_ids"].shape[1]  # the new tokens start after this many columns
print("prompt tokens:", tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]))

# %% [markdown] lang=en
# ## Asking `generate()` for its scores
#
# `generate()` has a flag for the scores, `output_scores=True`. On its own it does nothing:

# %% [markdown] lang=de
# ## `generate()` nach seinen Scores fragen
#
# Für die Scores hat `generate()` einen eigenen Schalter, `output_scores=True`. Allein bewirkt er
# nichts:

# %%
outputs = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, output_scores=True)
print("generate() returned a", type(outputs).__name__, "of shape", tuple(outputs.shape))
print("does it have scores?", hasattr(outputs, "scores"))

# %% [markdown] lang=en
# The warning under the cell says that `output_scores` "may be ignored", and it was: we got
# the usual tensor of token ids. In transformers 5.24, `GenerationConfig.validate()` flags
# every `output_...` option that is set while `return_dict_in_generate` is not `True` ("When
# `return_dict_in_generate` is not `True`, `output_scores` is ignored", as
# `TRANSFORMERS_VERBOSITY=info` spells out). The scores only come back in a structured output,
# so ask for both:

# %% [markdown] lang=de
# Die Warnung unter der Zelle sagt, dass `output_scores` „may be ignored“ (möglicherweise
# ignoriert wird), und genau so ist es gekommen: Wir haben wie gewohnt einen Tensor mit Token-IDs
# erhalten. In transformers 5.24 meldet `GenerationConfig.validate()` jede `output_...`-Option,
# die gesetzt ist, solange `return_dict_in_generate` nicht `True` ist („When
# `return_dict_in_generate` is not `True`, `output_scores` is ignored“, wie es mit
# `TRANSFORMERS_VERBOSITY=info` ausführlich heißt). Die Scores kommen nur in einer strukturierten
# Ausgabe zurück; fordern Sie deshalb beides an:

# %%
outputs = model.generate(
    **inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, output_scores=True, return_dict_in_generate=True
)
print("generate() returned a", type(outputs).__name__, "with fields", list(outputs.keys()))
print("outputs.sequences:", tuple(outputs.sequences.shape), "(batch, prompt + new tokens)")
print("outputs.scores:    a", type(outputs.scores).__name__, "of", len(outputs.scores), "tensors, one per new token")
print("outputs.scores[0]:", tuple(outputs.scores[0].shape), "(batch, vocabulary)")
new_tokens = outputs.sequences[:, prompt_length:]
print("new text:", repr(tokenizer.batch_decode(new_tokens, skip_special_tokens=True)[0]))

# %% [markdown] lang=en
# - `outputs.sequences` is what `generate()` returns without the flags: the prompt's ids
#   followed by the new ones.
# - `outputs.scores` is a tuple with one entry per *new* token. Entry *i* has shape
#   (batch, vocabulary): the score of every vocabulary token at step *i*, from which the
#   *i*-th new token was chosen. The prompt has no entries.
#
# The transformers 5.24 docs of `GenerateDecoderOnlyOutput` call these scores "processed
# prediction scores": in the decoding loop (`_sample` in `generation/utils.py`) each step runs
# the logits processors on the model's logits and stores the result. Greedy decoding with
# this model runs no processors, so here the scores are the logits themselves; we come back
# to this when we sample.
#
# ## From scores to probabilities: `compute_transition_scores`
#
# `model.compute_transition_scores(sequences, scores)` picks, at each step, the score of the
# token that was actually chosen. Its `normalize_logits` argument defaults to `False`, and
# then it gives back the raw scores of the chosen tokens:

# %% [markdown] lang=de
# - `outputs.sequences` ist das, was `generate()` ohne die beiden Schalter zurückgibt: die IDs des
#   Prompts, gefolgt von den neuen.
# - `outputs.scores` ist ein Tupel mit einem Eintrag pro *neuem* Token. Eintrag *i* hat die Form
#   (Batch, Vokabular): die Scores aller Tokens des Vokabulars in Schritt *i*; aus ihnen wurde
#   der *i*-te neue Token gewählt. Für den Prompt gibt es keine Einträge.
#
# Die Dokumentation von `GenerateDecoderOnlyOutput` in transformers 5.24 nennt diese Scores
# „processed prediction scores“, also bereits verarbeitete Vorhersagewerte: In der
# Decoding-Schleife (`_sample` in `generation/utils.py`) wendet jeder Schritt die
# Logits-Prozessoren auf die Logits des Modells an und speichert das Ergebnis. Beim Greedy
# Decoding (in jedem Schritt wird der wahrscheinlichste Token genommen) läuft mit diesem Modell
# kein Prozessor, hier sind die Scores also die Logits selbst. Beim Sampling kommen wir darauf
# zurück.
#
# ## Von Scores zu Wahrscheinlichkeiten: `compute_transition_scores`
#
# `model.compute_transition_scores(sequences, scores)` greift in jedem Schritt den Score des
# Tokens heraus, der tatsächlich gewählt wurde. Sein Argument `normalize_logits` ist
# standardmäßig `False`, und dann erhalten Sie die rohen Scores der gewählten Tokens:

# %%
raw_chosen_scores = model.compute_transition_scores(outputs.sequences, outputs.scores)
print("normalize_logits=False:", [round(score, 2) for score in raw_chosen_scores[0].tolist()])
print("exp() of those:        ", [f"{score:.3g}" for score in raw_chosen_scores[0].exp().tolist()])  # 3 digits: float noise stays out

# %% [markdown] lang=en
# These are logits, not log-probabilities, so `exp()` gives numbers far above 1. A logit
# only means something next to the other logits of the same step. With
# `normalize_logits=True`, transformers 5.24 first applies a `log_softmax` over the
# vocabulary to every step's scores (step 3 of `compute_transition_scores` in
# `generation/utils.py`) and then picks the chosen tokens. The result is the
# **log-probability** of each chosen token (at most 0), and `exp()` turns it into a
# **probability** between 0 and 1:

# %% [markdown] lang=de
# Das sind Logits, keine Log-Wahrscheinlichkeiten, deshalb liefert `exp()` Zahlen weit über 1.
# Ein einzelner Logit bedeutet nur etwas im Vergleich mit den anderen Logits desselben Schritts.
# Mit `normalize_logits=True` wendet transformers 5.24 zuerst in jedem Schritt einen
# `log_softmax` über das Vokabular auf die Scores an (Schritt 3 von `compute_transition_scores`
# in `generation/utils.py`) und greift erst danach die gewählten Tokens heraus. Das Ergebnis ist
# die **Log-Wahrscheinlichkeit** jedes gewählten Tokens (höchstens 0), und `exp()` macht daraus
# eine **Wahrscheinlichkeit** zwischen 0 und 1:

# %%
transition_scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
print("transition_scores:", tuple(transition_scores.shape), "(batch, new tokens)")
print(f"{'token':<12} {'id':>6} {'log-prob':>9} {'probability':>12}")
for token_id, log_probability in zip(new_tokens[0], transition_scores[0]):
    print(f"{tokenizer.decode(token_id)!r:<12} {int(token_id):>6} {log_probability.item():>9.3f} "
          f"{log_probability.exp().item():>12.1%}")

# %% [markdown] lang=en
# Nothing magic happens inside. The same number comes straight out of the scores with a
# softmax, and, for greedy decoding, out of one ordinary forward pass over the whole text:
# the logits at position *p* predict the token at position *p + 1*. (With
# `QUANTIZATION="4bit"` the forward pass can differ in the second decimal: 4-bit matrix
# products round differently for the whole text at once than for `generate()`'s
# one-token-at-a-time steps with its cache.)

# %% [markdown] lang=de
# Dahinter steckt keine Zauberei. Dieselbe Zahl erhalten Sie direkt aus den Scores mit der
# Softmax-Funktion und, beim Greedy Decoding, auch aus einem gewöhnlichen Durchlauf des Modells
# über den ganzen Text: Die Logits an Position *p* sagen den Token
# an Position *p + 1* voraus. (Mit `QUANTIZATION="4bit"` kann der Durchlauf in der zweiten
# Nachkommastelle abweichen: 4-Bit-Matrixprodukte runden für den ganzen Text auf einmal anders
# als in den Einzelschritten von `generate()`, das Token für Token mit seinem KV-Cache arbeitet.)

# %%
first_id = new_tokens[0, 0]
from_scores = torch.softmax(outputs.scores[0][0], dim=-1)[first_id]  # step 0, row 0
with torch.inference_mode():
    forward_logits = model(outputs.sequences).logits  # (1, prompt + new tokens, vocabulary)
from_forward_pass = torch.softmax(forward_logits[0, prompt_length - 1], dim=-1)[first_id]
print(f"first new token {tokenizer.decode(first_id)!r}:")
print(f"  exp(transition score)      {transition_scores[0, 0].exp().item():.4f}")
print(f"  softmax of outputs.scores  {from_scores.item():.4f}")
print(f"  softmax of a forward pass  {from_forward_pass.item():.4f}")
all_steps = torch.log_softmax(forward_logits[0, prompt_length - 1:-1].float(), dim=-1)  # (new tokens, vocabulary)
forward_log_probabilities = all_steps.gather(-1, new_tokens[0, :, None]).squeeze(-1)
print("all new tokens agree with the forward pass:",
      torch.allclose(forward_log_probabilities, transition_scores[0], atol=1e-3))

# %% [markdown] lang=en
# ## The same, with the companion helpers
#
# `companion.scores.token_probability_table` turns `sequences` and `transition_scores` into one
# list of rows per sequence (it leaves out the padding that follows an end-of-sequence token,
# see the batch below), and `plot_token_probabilities` draws the text with every token
# coloured by its probability: green when the model was sure, red when it was not.

# %% [markdown] lang=de
# ## Dasselbe mit den Hilfsfunktionen von companion
#
# `companion.scores.token_probability_table` macht aus `sequences` und `transition_scores` für
# jede Sequenz eine Liste von Zeilen (das Padding, also die Füll-Tokens nach einem
# End-of-Sequence-Token, lässt sie weg; siehe den Batch weiter unten), und
# `plot_token_probabilities` zeichnet den Text und färbt jeden Token nach seiner
# Wahrscheinlichkeit: grün, wo sich das Modell sicher war, rot, wo nicht.

# %%
from companion.scores import format_token_probability_table, plot_token_probabilities, token_probability_table

greedy_table = token_probability_table(tokenizer, outputs.sequences, transition_scores, prompt_length)[0]
print(format_token_probability_table(greedy_table))
least_certain = min(greedy_table, key=lambda score: score.probability)
print(f"least certain token: {least_certain.token!r} at position {least_certain.position}, "
      f"p = {least_certain.probability:.1%}")

# %%
figure = plot_token_probabilities([greedy_table], titles=[f"Greedy continuation of {PROMPT!r}"])

# %% [markdown] lang=en
# Greedy decoding always takes the most likely token, yet that token can still be unlikely:
# with `tutorial-tiny`, the name right after "My name is" is the least certain token. The
# model has seen many names there and no single one stands out, so it spreads its
# probability over all of them, and greedy decoding commits to one of them anyway. The full
# stop after the name is close to certain. A low probability does not mean a wrong token; it
# means the model saw several good options.
#
# ## Sampling: the scores are those of the sampling distribution
#
# When sampling, `generate()` reshapes the distribution before drawing (notebook 03). In
# transformers 5.24, `_get_logits_processor` appends `TemperatureLogitsWarper`,
# `TopKLogitsWarper` and `TopPLogitsWarper` (in that order, only with `do_sample=True`), and
# `_sample` stores each step's scores *after* them. So `compute_transition_scores` on
# `outputs.scores` gives the probability of each token under the distribution it was drawn
# from. The model's own, unchanged logits come back when you add `output_logits=True`, in
# `outputs.logits` (same layout as `outputs.scores`). Here we sample with temperature 0.7 and
# top-k 5 and ask for both:

# %% [markdown] lang=de
# Greedy Decoding nimmt immer den wahrscheinlichsten Token, und doch kann gerade dieser Token
# unwahrscheinlich sein: Bei `tutorial-tiny` ist der Name direkt nach „My name is“ der Token, bei
# dem sich das Modell am wenigsten sicher ist. An dieser Stelle hat das Modell viele Namen gesehen,
# keiner sticht heraus, also verteilt es seine Wahrscheinlichkeit auf alle, und das Greedy
# Decoding legt sich trotzdem auf einen davon fest. Der Punkt nach dem Namen ist dagegen fast
# sicher. Eine niedrige Wahrscheinlichkeit heißt also nicht, dass der Token falsch ist, sondern
# dass das Modell mehrere gute Möglichkeiten gesehen hat.
#
# ## Sampling: Die Scores gehören zur Sampling-Verteilung
#
# Beim Sampling (dem zufälligen Ziehen des nächsten Tokens) formt `generate()` die Verteilung vor
# dem Ziehen um (Notebook 03). In transformers 5.24 hängt `_get_logits_processor` dafür
# `TemperatureLogitsWarper`, `TopKLogitsWarper` und `TopPLogitsWarper` an (in dieser Reihenfolge
# und nur mit `do_sample=True`), und `_sample` speichert die Scores jedes Schritts *nach* diesen
# Prozessoren. `compute_transition_scores` auf `outputs.scores` liefert also die
# Wahrscheinlichkeit jedes Tokens unter genau der Verteilung, aus der er gezogen wurde. Die
# eigenen, unveränderten Logits des Modells bekommen Sie zusätzlich, wenn Sie
# `output_logits=True` angeben: in `outputs.logits` (gleicher Aufbau wie `outputs.scores`). Hier
# ziehen wir mit Temperatur 0,7 und Top-k 5 und fordern beides an:

# %% tags=device-dependent
SAMPLING_PROMPT = "I am a cat."
sampling_inputs = tokenizer([SAMPLING_PROMPT], return_tensors="pt").to(model.device)
sampling_prompt_length = sampling_inputs["input_ids"].shape[1]
set_seed(SEED)
sampled = model.generate(
    **sampling_inputs,
    max_new_tokens=MAX_NEW_TOKENS,
    do_sample=True,
    temperature=0.7,
    top_k=5,
    top_p=1.0,
    output_scores=True,
    output_logits=True,
    return_dict_in_generate=True,
)
print("tokens left in the sampling distribution at step 0:", int(torch.isfinite(sampled.scores[0][0]).sum()),
      "of", sampled.scores[0].shape[-1])
sampling_log_probabilities = model.compute_transition_scores(sampled.sequences, sampled.scores, normalize_logits=True)
model_log_probabilities = model.compute_transition_scores(sampled.sequences, sampled.logits, normalize_logits=True)
print(f"{'token':<12} {'p when sampling':>16} {'p of the model':>15}")
for token_id, sampling_log_probability, model_log_probability in zip(
    sampled.sequences[0, sampling_prompt_length:], sampling_log_probabilities[0], model_log_probabilities[0]
):
    print(f"{tokenizer.decode(token_id)!r:<12} {sampling_log_probability.exp().item():>16.1%} "
          f"{model_log_probability.exp().item():>15.1%}")

# %% [markdown] lang=en
# Top-k set every score but five to minus infinity at each step, as the first line shows.
# The two columns answer two different questions about the same tokens:
#
# - **p when sampling** (from `outputs.scores`): how likely was it to draw this token with
#   these settings? Top-k gives the probability of the removed tokens to the five that are
#   left, and a temperature below 1 moves more of it to the likeliest ones, so with
#   `tutorial-tiny` the likely tokens come out well above the model's own figure here. (The
#   temperature also takes probability away from unlikely tokens, so a token drawn against
#   the odds can come out *below* the model's figure.)
# - **p of the model** (from `outputs.logits`): how likely does the model itself find the
#   token? This column does not depend on the sampling settings; use it to judge the text.
#
# The chart shows both for the same text:

# %% [markdown] lang=de
# Top-k hat in jedem Schritt alle Scores bis auf fünf auf minus unendlich gesetzt, wie die erste
# Zeile der Ausgabe zeigt. Die beiden Spalten beantworten zwei verschiedene Fragen zu denselben
# Tokens:
#
# - **p when sampling** (aus `outputs.scores`): Wie wahrscheinlich war es, mit diesen
#   Einstellungen genau diesen Token zu ziehen? Top-k verteilt die Wahrscheinlichkeit der
#   entfernten Tokens auf die fünf verbliebenen, und eine Temperatur unter 1 verschiebt noch mehr
#   davon zu den wahrscheinlichsten; deshalb liegen bei `tutorial-tiny` die wahrscheinlichen Tokens
#   hier deutlich über dem Wert des Modells. (Die Temperatur nimmt auch unwahrscheinlichen Tokens
#   Wahrscheinlichkeit weg; ein Token, der gegen die Erwartung gezogen wurde, kann deshalb *unter*
#   dem Wert des Modells liegen.)
# - **p of the model** (aus `outputs.logits`): Wie wahrscheinlich findet das Modell selbst diesen
#   Token? Diese Spalte hängt nicht von den Sampling-Einstellungen ab; beurteilen Sie den Text
#   anhand dieser Spalte.
#
# Das Diagramm zeigt beides für denselben Text:

# %%
sampled_tables = [
    token_probability_table(tokenizer, sampled.sequences, sampling_log_probabilities, sampling_prompt_length)[0],
    token_probability_table(tokenizer, sampled.sequences, model_log_probabilities, sampling_prompt_length)[0],
]
figure = plot_token_probabilities(
    sampled_tables, titles=["under the sampling distribution (outputs.scores)", "under the model (outputs.logits)"]
)

# %% [markdown] lang=en
# ## A batch: one row of scores per prompt
#
# The scores of a batch line up row by row with `outputs.sequences`. As always with a batch
# for a decoder-only model, pad on the left and pass the attention mask (notebook 04). The
# tokenizer of a Llama model has no pad token, so we reuse the end-of-sequence token:

# %% [markdown] lang=de
# ## Ein Batch: eine Zeile Scores pro Prompt
#
# Die Scores eines Batches passen Zeile für Zeile zu `outputs.sequences`. Wie immer bei einem
# Batch für ein Decoder-only-Modell füllen Sie links auf (Padding links) und übergeben die
# Attention Mask (Notebook 04). Der Tokenizer eines Llama-Modells hat keinen eigenen Pad-Token,
# deshalb verwenden wir den End-of-Sequence-Token dafür:

# %%
BATCH_PROMPTS = ["Tom has a", "A list of colors: red, blue"]
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token  # Llama tokenizers have no pad token of their own
tokenizer.padding_side = "left"  # every row then ends with its prompt's last token
batch = tokenizer(BATCH_PROMPTS, padding=True, return_tensors="pt").to(model.device)
batch_prompt_length = batch["input_ids"].shape[1]
batch_outputs = model.generate(
    **batch,  # input_ids and attention_mask
    max_new_tokens=MAX_NEW_TOKENS,
    do_sample=False,
    pad_token_id=tokenizer.pad_token_id,  # fills rows that end early (left out: the model's pad id, else EOS)
    output_scores=True,
    return_dict_in_generate=True,
)
batch_scores = model.compute_transition_scores(batch_outputs.sequences, batch_outputs.scores, normalize_logits=True)
print("sequences:", tuple(batch_outputs.sequences.shape), " scores per step:", tuple(batch_outputs.scores[0].shape),
      " transition scores:", tuple(batch_scores.shape))
for row, prompt in enumerate(BATCH_PROMPTS):
    print(f"row {row}: {prompt!r}")
    tokens = batch_outputs.sequences[row, batch_prompt_length:]
    print("   " + " ".join(f"{tokenizer.decode(token_id)!r}:{log_probability.exp().item():.0%}"
                           for token_id, log_probability in zip(tokens, batch_scores[row])))

# %% [markdown] lang=en
# Row *r* of `transition_scores` belongs to row *r* of `outputs.sequences`, whatever padding
# the prompt had: the padding sits in the prompt columns, which have no scores.
#
# Watch the end of a row, though. A row that produces its end-of-sequence token first is
# filled up with padding until the whole batch is done (with `tutorial-tiny`, the first row
# ends with `</s>` after a few tokens). `compute_transition_scores` still reports a score for
# those padding columns: in transformers 5.24 it only masks steps of finished beams
# (`beam_indices`, step 9), never for greedy decoding or sampling. Those numbers are not part
# of the text.
#
# ## The probability of a whole answer
#
# The probability of a whole continuation is the product of its tokens' probabilities, so
# its log-probability is the **sum** of their log-probabilities (sums of logs do not
# underflow the way products of small numbers do). Sum only up to each row's end token. A mask
# of the columns that belong to the text, by hand: in each row, everything after the first
# end-of-sequence token is padding.

# %% [markdown] lang=de
# Zeile *r* von `transition_scores` gehört zu Zeile *r* von `outputs.sequences`, ganz gleich,
# wie viel Padding der Prompt hatte: Das Padding steht in den Spalten des Prompts, und für die
# gibt es keine Scores.
#
# Achten Sie aber auf das Ende einer Zeile. Eine Zeile, die ihren End-of-Sequence-Token vor den
# anderen erzeugt, wird mit Padding aufgefüllt, bis der ganze Batch fertig ist (bei
# `tutorial-tiny` endet die erste Zeile schon nach wenigen Tokens mit `</s>`).
# `compute_transition_scores` meldet auch für diese Padding-Spalten einen Score: In
# transformers 5.24 maskiert es nur die Schritte beendeter Beams, also der Kandidaten einer
# Beam Search (`beam_indices`, Schritt 9), nie beim Greedy Decoding oder beim Sampling. Diese
# Zahlen gehören nicht zum Text.
#
# ## Die Wahrscheinlichkeit einer ganzen Antwort
#
# Die Wahrscheinlichkeit einer ganzen Fortsetzung ist das Produkt der Wahrscheinlichkeiten ihrer
# Tokens, ihre Log-Wahrscheinlichkeit also die **Summe** der Log-Wahrscheinlichkeiten (eine Summe
# von Logarithmen wird nicht so winzig, dass der Rechner sie als 0 speichert, ein Produkt vieler
# kleiner Zahlen dagegen schon). Summieren Sie nur bis zum End-Token der jeweiligen Zeile. Eine
# Maske der Spalten, die zum Text gehören, von Hand: In jeder Zeile ist alles nach dem ersten
# End-of-Sequence-Token Padding.

# %%
new_tokens = batch_outputs.sequences[:, batch_prompt_length:]  # (batch, new tokens), like batch_scores
text_mask = torch.ones_like(new_tokens, dtype=torch.bool)
for row in range(new_tokens.shape[0]):
    end_positions = (new_tokens[row] == tokenizer.eos_token_id).nonzero()  # where the row wrote </s>
    if len(end_positions) > 0:
        text_mask[row, end_positions[0].item() + 1:] = False  # the first EOS counts, what follows is padding
for row, prompt in enumerate(BATCH_PROMPTS):
    all_columns = batch_scores[row].sum().item()
    text_only = batch_scores[row][text_mask[row]].sum().item()
    print(f"row {row}: {int(text_mask[row].sum())} tokens of text; sum over all columns {all_columns:.3f}, "
          f"over the text only {text_only:.3f} (p = {torch.tensor(text_only).exp().item():.3g})")

# %% [markdown] lang=en
# `companion.scores.generated_token_mask` builds the same mask (and takes several end ids, for
# generation configs that list more than one); the helpers below use it:

# %% [markdown] lang=de
# `companion.scores.generated_token_mask` baut dieselbe Maske (und nimmt auch mehrere End-IDs an,
# für Generierungskonfigurationen, die mehr als eine nennen); die Hilfsfunktionen weiter unten
# verwenden sie:

# %%
from companion.scores import generated_token_mask

helper_mask = generated_token_mask(batch_outputs.sequences, batch_prompt_length, [tokenizer.eos_token_id])
print("the same mask:", torch.equal(helper_mask, text_mask))

# %% [markdown] lang=en
# With that sum you can compare candidate answers to the same prompt. Here we draw four
# samples in one call (`num_return_sequences=4`) and score each of them, and the greedy
# answer, with the model's own log-probabilities (`outputs.logits`, so that the sampling
# settings do not enter the comparison). A longer answer has more terms to add up and so
# usually a lower total; the mean per token compares answers of different lengths more fairly.

# %% [markdown] lang=de
# Mit dieser Summe können Sie verschiedene Antworten auf denselben Prompt vergleichen. Hier ziehen
# wir in einem Aufruf vier Samples (`num_return_sequences=4`) und bewerten jedes davon, dazu die
# Greedy-Antwort, mit den eigenen Log-Wahrscheinlichkeiten des Modells (`outputs.logits`, damit
# die Sampling-Einstellungen nicht in den Vergleich eingehen). Eine längere Antwort hat mehr
# Summanden und daher meist eine niedrigere Summe; der Mittelwert pro Token vergleicht Antworten
# unterschiedlicher Länge gerechter.

# %% tags=device-dependent
from companion.scores import sequence_log_probabilities

set_seed(SEED)
candidates = model.generate(
    **inputs,
    max_new_tokens=MAX_NEW_TOKENS,
    do_sample=True,
    temperature=1.0,
    top_k=50,
    top_p=1.0,
    num_return_sequences=4,
    pad_token_id=tokenizer.pad_token_id,  # fills rows that end early (left out: the model's pad id, else EOS)
    output_logits=True,
    return_dict_in_generate=True,
)
candidate_scores = model.compute_transition_scores(candidates.sequences, candidates.logits, normalize_logits=True)
candidate_tables = token_probability_table(tokenizer, candidates.sequences, candidate_scores, prompt_length)
candidate_tables.append(greedy_table)  # the greedy answer from the start of the notebook, for comparison
labels = ["sample 1", "sample 2", "sample 3", "sample 4", "greedy"]
for label, table, total in zip(labels, candidate_tables, sequence_log_probabilities(candidate_tables)):
    text = "".join(score.token for score in table)
    print(f"{label:<9} sum {total:8.3f}   mean per token {total / len(table):7.3f}   {text!r}")

# %% [markdown] lang=en
# With `tutorial-tiny`, the sample that stops right after the name has the highest total
# simply because it is the shortest, while per token the greedy answer scores best. Greedy
# decoding picks the likeliest token at each step, but it is not guaranteed to find the
# likeliest *whole* answer: beam search
# (`num_beams`, notebook 03) searches for that. Ranking several candidates by their summed
# (or mean) log-probability is a simple way to pick the answer the model believes in most.
#
# ## Exercises
#
# **Exercise 1 (predict, then run).** Suppose you sample the continuation of "I am a cat." with
# `do_sample=True` and `top_k=1`, and compute the probability of every chosen token from
# `outputs.scores` with `normalize_logits=True`. What probability will each token have?
# Write your prediction down as a number, then run the check: it samples and shows you.

# %% [markdown] lang=de
# Bei `tutorial-tiny` hat das Sample, das direkt nach dem Namen endet, die höchste Summe, einfach
# weil es das kürzeste ist, während die Greedy-Antwort pro Token am besten abschneidet. Greedy
# Decoding wählt in jedem Schritt den wahrscheinlichsten Token, findet aber nicht garantiert die
# wahrscheinlichste *ganze* Antwort: Nach dieser sucht die Beam Search
# (`num_beams`, Notebook 03). Mehrere Kandidaten nach ihrer summierten (oder mittleren)
# Log-Wahrscheinlichkeit zu ordnen ist ein einfacher Weg, die Antwort zu finden, die das Modell
# selbst für die beste hält.
#
# ## Übungen
#
# **Übung 1 (erst vorhersagen, dann ausführen).** Angenommen, Sie ziehen die Fortsetzung von
# „I am a cat.“ mit `do_sample=True` und `top_k=1` und berechnen die Wahrscheinlichkeit jedes
# gewählten Tokens aus `outputs.scores` mit `normalize_logits=True`. Welche Wahrscheinlichkeit
# hat dann jeder Token? Notieren Sie Ihre Vorhersage als Zahl und führen Sie dann die Prüfung aus:
# Sie zieht selbst und zeigt Ihnen das Ergebnis.

# %%
from companion.exercises.token_scores import (
    check_batch_probabilities,
    check_confident_temperature,
    check_least_certain_token,
    check_top_k_one_prediction,
)

answer = None  # your prediction: a probability between 0 and 1
check_top_k_one_prediction(answer, model, tokenizer, SAMPLING_PROMPT, MAX_NEW_TOKENS)

# %% [markdown] lang=en
# *Solution:*

# %% [markdown] lang=de
# *Lösung:*

# %% tags=solution
top_1 = model.generate(
    **sampling_inputs,
    max_new_tokens=MAX_NEW_TOKENS,
    do_sample=True,
    top_k=1,
    output_scores=True,
    return_dict_in_generate=True,
)
top_1_probabilities = model.compute_transition_scores(top_1.sequences, top_1.scores, normalize_logits=True).exp()
print(top_1_probabilities.cpu())  # top_k=1 leaves one token per step, and it gets all the probability
answer = 1.0
check_top_k_one_prediction(answer, model, tokenizer, SAMPLING_PROMPT, MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Exercise 2.** Generate the greedy continuation of `"A list of fruits:"` (with
# `MAX_NEW_TOKENS` new tokens) and find the new token the model was least sure of. Give its
# token id or its text. (If the text ends early, ignore the padding after the end token.)

# %% [markdown] lang=de
# **Übung 2.** Erzeugen Sie die Greedy-Fortsetzung von `"A list of fruits:"` (mit
# `MAX_NEW_TOKENS` neuen Tokens) und finden Sie den neuen Token, bei dem sich das Modell am
# wenigsten sicher war. Geben Sie seine Token-ID oder seinen Text an. (Endet der Text vorzeitig,
# lassen Sie das Padding nach dem End-Token außer Acht.)

# %%
answer = None  # your code here
check_least_certain_token(answer, model, tokenizer, "A list of fruits:", MAX_NEW_TOKENS)

# %% [markdown] lang=en
# *Solution:*

# %% [markdown] lang=de
# *Lösung:*

# %% tags=solution
fruit_inputs = tokenizer(["A list of fruits:"], return_tensors="pt").to(model.device)
fruit_outputs = model.generate(
    **fruit_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, output_scores=True, return_dict_in_generate=True
)
fruit_scores = model.compute_transition_scores(fruit_outputs.sequences, fruit_outputs.scores, normalize_logits=True)
fruit_ids = fruit_outputs.sequences[0, fruit_inputs["input_ids"].shape[1]:]
least_position = 0
for position in range(len(fruit_ids)):
    if fruit_scores[0, position] < fruit_scores[0, least_position]:
        least_position = position
    if fruit_ids[position] == tokenizer.eos_token_id:
        break  # what follows the end token is padding
answer = int(fruit_ids[least_position])
check_least_certain_token(answer, model, tokenizer, "A list of fruits:", MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Exercise 3 (fix a broken call).** The cell below is meant to print the probability of
# every new token for a batch of two prompts, but its numbers are far above 1, and a warning
# appears under it. Find both mistakes, and store the corrected probabilities (a tensor of
# shape (2, 8): prompts by new tokens, greedy decoding) in `answer`.

# %% [markdown] lang=de
# **Übung 3 (einen fehlerhaften Aufruf reparieren).** Die Zelle unten soll für einen Batch aus
# zwei Prompts die Wahrscheinlichkeit jedes neuen Tokens ausgeben, doch ihre Zahlen liegen weit
# über 1, und darunter erscheint eine Warnung. Finden Sie beide Fehler und speichern Sie die
# korrigierten Wahrscheinlichkeiten (einen Tensor der Form (2, 8): Prompts mal neue Tokens, mit
# Greedy Decoding) in `answer`.

# %%
EXERCISE_PROMPTS = ["A, B, C", "A sequence of numbers: 1, 2, 3"]
broken_batch = tokenizer(EXERCISE_PROMPTS, padding=True, return_tensors="pt").to(model.device)
broken = model.generate(
    broken_batch["input_ids"],
    max_new_tokens=8,
    do_sample=False,
    pad_token_id=tokenizer.pad_token_id,  # fills rows that end early (left out: the model's pad id, else EOS)
    output_scores=True,
    return_dict_in_generate=True,
)
broken_probabilities = model.compute_transition_scores(broken.sequences, broken.scores).exp()
print("largest 'probability':", f"{broken_probabilities.max().item():.3g}")

# %%
answer = None  # your code here
check_batch_probabilities(answer, model, tokenizer, EXERCISE_PROMPTS, 8)

# %% [markdown] lang=en
# *Solution:*

# %% [markdown] lang=de
# *Lösung:*

# %% tags=solution
fixed = model.generate(
    **broken_batch,  # input_ids AND attention_mask: the model must know which columns are padding
    max_new_tokens=8,
    do_sample=False,
    pad_token_id=tokenizer.pad_token_id,  # fills rows that end early (left out: the model's pad id, else EOS)
    output_scores=True,
    return_dict_in_generate=True,
)
answer = model.compute_transition_scores(fixed.sequences, fixed.scores, normalize_logits=True).exp()
print(f"largest probability: {answer.max().item():.3f}")
check_batch_probabilities(answer, model, tokenizer, EXERCISE_PROMPTS, 8)

# %% [markdown] lang=en
# **Exercise 4 (change a setting to reach a goal).** Sample the continuation of "I am a cat."
# with `set_seed(SEED)` and `do_sample=True`. Find a `temperature` at which *every* sampled
# token has a probability above 0.5 under the sampling distribution (from `outputs.scores`).
# Try values in a cell of your own, then put the temperature in `answer`. The check samples
# with it and tells you the lowest probability; it also shows what the model itself thinks.

# %% [markdown] lang=de
# **Übung 4 (eine Einstellung ändern, um ein Ziel zu erreichen).** Ziehen Sie die Fortsetzung von
# „I am a cat.“ mit `set_seed(SEED)` und `do_sample=True`. Finden Sie eine `temperature`, bei der
# *jeder* gezogene Token unter der Sampling-Verteilung (aus `outputs.scores`) eine
# Wahrscheinlichkeit über 0,5 hat. Probieren Sie Werte in einer eigenen Zelle aus und tragen Sie
# dann die Temperatur in `answer` ein. Die Prüfung zieht mit diesem Wert und nennt Ihnen die
# niedrigste Wahrscheinlichkeit; außerdem zeigt sie, was das Modell selbst von den Tokens hält.

# %%
answer = None  # a temperature
check_confident_temperature(answer, model, tokenizer, SAMPLING_PROMPT, MAX_NEW_TOKENS, SEED)

# %% [markdown] lang=en
# *Solution:*

# %% [markdown] lang=de
# *Lösung:*

# %% tags=solution,device-dependent
for temperature in (1.0, 0.5, 0.1):
    set_seed(SEED)
    trial = model.generate(
        **sampling_inputs,
        max_new_tokens=MAX_NEW_TOKENS,
        do_sample=True,
        temperature=temperature,
        output_scores=True,
        return_dict_in_generate=True,
    )
    trial_probabilities = model.compute_transition_scores(trial.sequences, trial.scores, normalize_logits=True).exp()
    print(f"temperature {temperature}: lowest probability {trial_probabilities.min().item():.1%}")
answer = 0.1  # a low temperature sharpens the sampling distribution
check_confident_temperature(answer, model, tokenizer, SAMPLING_PROMPT, MAX_NEW_TOKENS, SEED)

# %% [markdown] lang=en
# ## Summary
#
# - `generate(..., output_scores=True, return_dict_in_generate=True)` returns
#   `outputs.sequences` (prompt + new ids) and `outputs.scores`, a tuple with one
#   (batch, vocabulary) tensor per new token. Without `return_dict_in_generate=True` the
#   flag is ignored, and transformers warns.
# - `model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)`
#   gives the log-probability of every chosen token, shape (batch, new tokens); `exp()` makes
#   it a probability. Without `normalize_logits=True` you get raw scores, not probabilities.
# - `outputs.scores` are processed scores: when sampling, they describe the distribution after
#   temperature, top-k and top-p. `output_logits=True` adds `outputs.logits`, the model's own
#   scores, which tell you how likely the model finds the text.
# - In a batch (left padding, attention mask), row *r* of the scores belongs to row *r* of the
#   sequences; after a row's end token come padding columns whose scores mean nothing.
# - The sum of the log-probabilities is the log-probability of the whole answer: use it to
#   compare candidates.

# %% [markdown] lang=de
# ## Zusammenfassung
#
# - `generate(..., output_scores=True, return_dict_in_generate=True)` gibt
#   `outputs.sequences` (Prompt + neue IDs) und `outputs.scores` zurück, ein Tupel mit einem
#   Tensor der Form (Batch, Vokabular) pro neuem Token. Ohne `return_dict_in_generate=True` wird
#   der Schalter ignoriert, und transformers gibt eine Warnung aus.
# - `model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)`
#   liefert die Log-Wahrscheinlichkeit jedes gewählten Tokens, Form (Batch, neue Tokens); `exp()`
#   macht daraus eine Wahrscheinlichkeit. Ohne `normalize_logits=True` erhalten Sie rohe Scores,
#   keine Wahrscheinlichkeiten.
# - `outputs.scores` sind verarbeitete Scores: Beim Sampling beschreiben sie die Verteilung nach
#   Temperatur, Top-k und Top-p. `output_logits=True` liefert zusätzlich `outputs.logits`, die
#   eigenen Scores des Modells; sie zeigen, wie wahrscheinlich das Modell den Text findet.
# - In einem Batch (Padding links, Attention Mask) gehört Zeile *r* der Scores zu Zeile *r* der
#   Sequenzen; nach dem End-Token einer Zeile folgen Padding-Spalten, deren Scores nichts bedeuten.
# - Die Summe der Log-Wahrscheinlichkeiten ist die Log-Wahrscheinlichkeit der ganzen Antwort:
#   Damit können Sie Kandidaten vergleichen.
