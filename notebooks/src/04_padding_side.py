# %% [markdown] lang=en
# # 04 · Wrong padding side
#
# Prompts of different lengths share a batch only after padding, and a decoder-only model needs that padding on the left: padded on the right, a short prompt is continued from padding instead of from its own last token. We write the guide's plain `transformers` calls, first with the mistake, then with the fix, on the course's tiny model and then on a real small LLM.
#
# **What you will learn**
#
# - why a batch of prompts with different lengths needs padding, and what to do when a tokenizer has no pad token;
# - what goes wrong when a decoder-only model gets a batch padded **on the right**, and the warning transformers gives;
# - the fix, `padding_side="left"`: a left-padded batch gives the same tokens as each prompt on its own;
# - why you always pass the `attention_mask` to `generate()`, and how positions are derived from it;
# - why the guide printed an empty string for its broken example.

# %% [markdown] lang=de
# # 04 · Padding auf der falschen Seite
#
# Prompts unterschiedlicher Länge passen erst nach dem Padding (dem Auffüllen kürzerer Eingaben auf eine gemeinsame Länge) in einen Batch, und ein Decoder-only-Modell (ein Modell, das Text Token für Token von links nach rechts fortschreibt) braucht dieses Padding auf der linken Seite: Wird rechts aufgefüllt, setzt das Modell einen kurzen Prompt nicht an dessen letztem Token fort, sondern am Padding. Wir schreiben die schlichten `transformers`-Aufrufe der Anleitung nach, zuerst mit dem Fehler, dann mit der Korrektur, erst am winzigen Kursmodell und danach an einem echten kleinen LLM.
#
# **Was Sie lernen**
#
# - warum ein Batch aus Prompts unterschiedlicher Länge Padding braucht und was zu tun ist, wenn ein Tokenizer keinen Pad-Token hat;
# - was schiefgeht, wenn ein Decoder-only-Modell einen **rechts** aufgefüllten Batch bekommt, und welche Warnung transformers dann ausgibt;
# - die Korrektur `padding_side="left"`: Ein links aufgefüllter Batch liefert dieselben Tokens wie jeder Prompt für sich allein;
# - warum Sie `generate()` immer die `attention_mask` übergeben und wie die Positionen daraus abgeleitet werden;
# - warum die Anleitung bei ihrem fehlerhaften Beispiel einen leeren String ausgegeben hat.

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"      # or "smollm2-135m" (a real small LLM on CPU), or "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None          # None for full precision; "4bit" or "8bit" for bitsandbytes quantization
MAX_NEW_TOKENS = 12          # upper bound on new tokens per generate() call
SEED = 0                     # random seed for setup_notebook, so sampling is repeatable (this notebook decodes greedily)
REAL_MODEL = "smollm2-135m"  # a real LLM that shows the same effect near the end; None skips that part

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %% [markdown] lang=en
# `companion.load_model` loads the model (with a `BitsAndBytesConfig` when `QUANTIZATION` is set). The tokenizer we load ourselves, exactly as the guide does, from the model's folder (`resolve_model_path` gives the local folder of a built-in model, or the hub id as it is).

# %% [markdown] lang=de
# `companion.load_model` lädt das Modell (mit einer `BitsAndBytesConfig`, wenn `QUANTIZATION` gesetzt ist). Den Tokenizer laden wir selbst, genau wie die Anleitung, aus dem Ordner des Modells (`resolve_model_path` liefert bei einem eingebauten Modell dessen lokalen Ordner und gibt eine Hub-ID unverändert zurück).

# %%
from transformers import AutoTokenizer

from companion.models import resolve_model_path

model, _ = companion.load_model(MODEL, quantization=QUANTIZATION)
path = resolve_model_path(MODEL)
tokenizer = AutoTokenizer.from_pretrained(path)
print("pad token:", tokenizer.pad_token)
print("padding side:", tokenizer.padding_side)

# %% [markdown] lang=en
# ## A batch needs padding
#
# `generate()` works on a tensor of shape `(batch, length)`: every row must have the same length. The guide's pair, `"1, 2, 3"` and `"A, B, C, D, E"`, does not: the first prompt is a few tokens shorter. We run that pair first and then a pair that differs much more, a short prompt and a long one, so that the short row needs many padding tokens. The tokenizer pads with `padding=True`, but only if it knows which token to pad with:

# %% [markdown] lang=de
# ## Ein Batch braucht Padding
#
# `generate()` arbeitet mit einem Tensor der Form `(batch, length)`: Alle Zeilen müssen gleich lang sein. Beim Paar aus der Anleitung, `"1, 2, 3"` und `"A, B, C, D, E"`, ist das nicht so: Der erste Prompt ist einige Tokens kürzer. Wir lassen zuerst dieses Paar laufen und danach ein Paar, das sich viel stärker unterscheidet, einen kurzen und einen langen Prompt, sodass die kurze Zeile viele Padding-Tokens braucht. Mit `padding=True` füllt der Tokenizer auf, allerdings nur, wenn er weiß, mit welchem Token:

# %%
PROMPTS = ["A, B", "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7"]

try:
    inputs = tokenizer(PROMPTS, padding=True, return_tensors="pt")
    print("This tokenizer already has a pad token:", repr(tokenizer.pad_token))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown] lang=en
# With `tutorial-tiny`, as with the guide's `open_llama_7b`, this is a Llama tokenizer without a pad token, and transformers refuses with the `ValueError` above ("Asking to pad but the tokenizer does not have a padding token", raised in `tokenization_utils_base.py` of transformers 5.24). The message itself suggests the usual fix, which the guide uses too: reuse the end-of-sequence token as pad token. (`smollm2-135m` already has a pad token, so for it the cell prints that instead.)
#
# ## The mistake: padding on the right
#
# With the pad token set, the tokenizer pads, on the side it was loaded with. We generate greedily, as anyone would, and decode whole rows as the guide does:

# %% [markdown] lang=de
# Bei `tutorial-tiny` handelt es sich, wie beim `open_llama_7b` der Anleitung, um einen Llama-Tokenizer ohne Pad-Token, und transformers verweigert das Auffüllen mit dem `ValueError` oben (`Asking to pad but the tokenizer does not have a padding token`, ausgelöst in `tokenization_utils_base.py` von transformers 5.24). Die Fehlermeldung schlägt selbst die übliche Abhilfe vor, die auch die Anleitung nutzt: Man verwendet den End-of-Sequence-Token (den Token, der das Ende eines Textes markiert) zusätzlich als Pad-Token. (`smollm2-135m` hat bereits einen Pad-Token; mit diesem Modell gibt die Zelle stattdessen genau das aus.)
#
# ## Der Fehler: Padding auf der rechten Seite
#
# Sobald der Pad-Token gesetzt ist, füllt der Tokenizer auf, und zwar auf der Seite, mit der er geladen wurde. Wir generieren mit Greedy Decoding (in jedem Schritt der wahrscheinlichste Token), wie es wohl jeder tun würde, und dekodieren wie die Anleitung ganze Zeilen:

# %%
tokenizer.pad_token = tokenizer.eos_token  # Llama has no pad token of its own
GUIDE_PROMPTS = ["1, 2, 3", "A, B, C, D, E"]  # the guide's pair
guide_right_inputs = tokenizer(GUIDE_PROMPTS, padding=True, return_tensors="pt").to(model.device)
guide_right_ids = model.generate(**guide_right_inputs, max_new_tokens=7, do_sample=False)  # 7: the guide's length
print(tokenizer.batch_decode(guide_right_ids, skip_special_tokens=True))

# %% [markdown] lang=en
# With `tutorial-tiny` the first row reads "1, 2, 3 4, 5, 6, 7": the comma after the 3 is missing, and nothing else looks wrong. Under the cell transformers warns about right padding (more on that below). With a pair whose lengths differ more, the damage is impossible to miss:

# %% [markdown] lang=de
# Bei `tutorial-tiny` lautet die erste Zeile „1, 2, 3 4, 5, 6, 7“: Das Komma nach der 3 fehlt, sonst fällt nichts auf. Unter der Zelle warnt transformers vor Padding auf der rechten Seite (mehr dazu unten). Bei einem Paar, dessen Längen sich stärker unterscheiden, lässt sich der Schaden nicht mehr übersehen:

# %%
right_inputs = tokenizer(PROMPTS, padding=True, return_tensors="pt").to(model.device)
print("padding side:", tokenizer.padding_side)
print(right_inputs["attention_mask"].cpu())  # .cpu(): on a GPU a tensor's repr also names its device

right_ids = model.generate(**right_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
for text in tokenizer.batch_decode(right_ids, skip_special_tokens=True):
    print(repr(text))

# %% [markdown] lang=en
# The tokenizer padded on the **right** (its default): the short row's mask ends in a run of 0s. Under the cell, transformers warns: "A decoder-only architecture is being used, but right-padding was detected! For correct generation results, please set `padding_side='left'` when initializing the tokenizer." (`generate()` in transformers 5.24 checks whether any row's attention mask ends in 0.) And the short row's text is wrong. To see how wrong, here is each prompt on its own, with no padding at all:

# %% [markdown] lang=de
# Der Tokenizer hat **rechts** aufgefüllt (seine Voreinstellung): Die Attention Mask (1 = echter Token, 0 = Padding) der kurzen Zeile endet mit einer langen Folge von Nullen. Unter der Zelle warnt transformers: ``A decoder-only architecture is being used, but right-padding was detected! For correct generation results, please set `padding_side='left'` when initializing the tokenizer.`` (In transformers 5.24 prüft `generate()`, ob die Attention Mask irgendeiner Zeile mit einer 0 endet.) Und der Text der kurzen Zeile ist falsch. Wie falsch, zeigt der Vergleich mit jedem Prompt für sich allein, ganz ohne Padding:

# %%
alone_texts = []
for prompt in PROMPTS:
    alone_inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    alone_ids = model.generate(**alone_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    alone_texts.append(tokenizer.batch_decode(alone_ids, skip_special_tokens=True)[0])
    print(repr(alone_texts[-1]))

# %% [markdown] lang=en
# Alone, `tutorial-tiny` continues the letters; in the right-padded batch it wrote something that has nothing to do with its prompt. The long row has no padding, so it is the same both ways.
#
# ## Where the guide's empty string came from
#
# For this example the guide prints `''`, as if the model had generated nothing. It did generate: the empty string comes from its decoding line, `tokenizer.batch_decode(generated_ids[0], skip_special_tokens=True)[0]`. `generated_ids[0]` is one row, not a batch. In transformers 4.x (4.28.0 and 4.36.2, for example), `batch_decode` looped over what it was given, so it decoded every id of that row on its own, and `[0]` kept the text of the first id. The cell below does the same by hand:

# %% [markdown] lang=de
# Allein setzt `tutorial-tiny` die Buchstabenfolge fort; im rechts aufgefüllten Batch dagegen schreibt das Modell etwas, das mit seinem Prompt nichts zu tun hat. Die lange Zeile hat kein Padding und liefert deshalb in beiden Fällen denselben Text.
#
# ## Woher der leere String der Anleitung kam
#
# Für dieses Beispiel gibt die Anleitung `''` aus, als hätte das Modell gar nichts erzeugt. Erzeugt hat es sehr wohl etwas: Der leere String stammt aus der Codezeile, mit der die Anleitung dekodiert, `tokenizer.batch_decode(generated_ids[0], skip_special_tokens=True)[0]`. Dabei ist `generated_ids[0]` eine einzelne Zeile, kein Batch. In transformers 4.x (zum Beispiel 4.28.0 und 4.36.2) lief `batch_decode` über alles, was es bekam, dekodierte also jede ID dieser Zeile einzeln, und `[0]` behielt nur den Text der ersten ID. Die folgende Zelle macht dasselbe von Hand:

# %%
first_row = right_ids[0]
print("first id of row 0:", tokenizer.convert_ids_to_tokens(int(first_row[0])))
texts_of_single_ids = [tokenizer.decode([token_id], skip_special_tokens=True) for token_id in first_row.tolist()]
print("the guide's [0] in 4.x:", repr(texts_of_single_ids[0]))
print("the guide's line in transformers 5.24:", repr(tokenizer.batch_decode(first_row, skip_special_tokens=True)[0]))

# %% [markdown] lang=en
# With `tutorial-tiny`, as with `open_llama_7b`, every prompt starts with the special token `<s>`, which `skip_special_tokens=True` removes: that first id decodes to `''` whether generation worked or not. transformers 5.24 reads a single row passed to `batch_decode` as one sequence (and warns under the cell that this is deprecated), so the same line now prints the whole first row. Either way, decode the full output, `tokenizer.batch_decode(generated_ids, ...)`, and pick rows from the list of strings it returns.
#
# ## The fix: padding on the left
#
# The guide's fix is one argument when loading the tokenizer, `padding_side="left"`, plus the same pad token:

# %% [markdown] lang=de
# Bei `tutorial-tiny` beginnt, wie bei `open_llama_7b`, jeder Prompt mit dem Spezial-Token `<s>`, den `skip_special_tokens=True` entfernt: Diese erste ID wird zu `''` dekodiert, ganz gleich, ob die Generierung funktioniert hat oder nicht. In transformers 5.24 wird eine einzelne Zeile, die man an `batch_decode` übergibt, als eine einzige Sequenz gelesen (unter der Zelle warnt transformers, dass dies veraltet ist); dieselbe Codezeile gibt deshalb heute die komplette erste Zeile aus. So oder so gilt: Dekodieren Sie die gesamte Ausgabe, `tokenizer.batch_decode(generated_ids, ...)`, und wählen Sie die gewünschten Zeilen aus der Liste von Strings, die dabei zurückkommt.
#
# ## Die Korrektur: Padding auf der linken Seite
#
# Die Korrektur der Anleitung besteht aus einem einzigen Argument beim Laden des Tokenizers, `padding_side="left"`, dazu kommt derselbe Pad-Token wie zuvor:

# %%
tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token  # Llama has no pad token of its own
left_inputs = tokenizer(PROMPTS, padding=True, return_tensors="pt").to(model.device)
print(left_inputs["attention_mask"].cpu())

left_ids = model.generate(**left_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
left_texts = tokenizer.batch_decode(left_ids, skip_special_tokens=True)
for row, text in enumerate(left_texts):
    print(repr(text), "  same as alone:", text == alone_texts[row])

guide_left_inputs = tokenizer(GUIDE_PROMPTS, padding=True, return_tensors="pt").to(model.device)
guide_left_ids = model.generate(**guide_left_inputs, max_new_tokens=7, do_sample=False)
print("the guide's pair:", tokenizer.batch_decode(guide_left_ids, skip_special_tokens=True))

# %% [markdown] lang=en
# Now the padding sits at the start of the short row, no warning appears, and both rows give exactly the text they give alone. The guide's pair comes out right as well: with `tutorial-tiny` its first row is "1, 2, 3, 4, 5, 6,", the guide's own output.
#
# ## Why: the last column predicts the next token
#
# A decoder-only model produces one score vector per position, and `generate()` takes the next token from the **last** column of each row. `companion.padding.padding_table` prints the two batches we just made: for each row the tokens, the attention mask (1 = real token, 0 = padding) and the position of each real token.

# %% [markdown] lang=de
# Jetzt steht das Padding am Anfang der kurzen Zeile, es erscheint keine Warnung, und beide Zeilen liefern genau den Text, den sie auch allein liefern. Auch das Paar aus der Anleitung kommt richtig heraus: Bei `tutorial-tiny` lautet seine erste Zeile „1, 2, 3, 4, 5, 6,“, genau die Ausgabe der Anleitung.
#
# ## Warum: Die letzte Spalte sagt den nächsten Token vorher
#
# Ein Decoder-only-Modell berechnet für jede Position einen eigenen Vektor von Logits, und `generate()` wählt den nächsten Token anhand der **letzten** Spalte jeder Zeile. `companion.padding.padding_table` zeigt die beiden Batches, die wir gerade gebildet haben: für jede Zeile die Tokens, die Attention Mask (1 = echter Token, 0 = Padding) und die Position jedes echten Tokens.

# %%
from companion.padding import padding_table, predicted_next_tokens

print(padding_table(tokenizer, right_inputs, title="Padded on the right"))
print()
print(padding_table(tokenizer, left_inputs, title="Padded on the left"))

# %% [markdown] lang=en
# On the right, the short row's last column is padding; on the left, every row ends in its prompt's last token. `predicted_next_tokens` runs one forward pass over each batch and shows what the last column predicts, which is the first token `generate()` adds:

# %% [markdown] lang=de
# Rechts aufgefüllt, enthält die letzte Spalte der kurzen Zeile Padding; links aufgefüllt, endet jede Zeile mit dem letzten Token ihres Prompts. `predicted_next_tokens` schickt jeden Batch einmal durch das Modell (ein Durchlauf) und zeigt, was die letzte Spalte vorhersagt; das ist der erste Token, den `generate()` anhängt:

# %%
for side, padded_inputs in [("right", right_inputs), ("left", left_inputs)]:
    print(f"Padded on the {side}:")
    for row, (last_token, next_token) in enumerate(predicted_next_tokens(model, tokenizer, padded_inputs)):
        print(f"  row {row}: last token {last_token:>6} -> predicted next token {next_token}")

# %% [markdown] lang=en
# With right padding, the short row's first new token is predicted from a pad token (here the end-of-sequence token), not from its prompt's last token, and every later token builds on that first one. A model is not trained to continue a prompt from a pad token, so the row no longer follows its prompt.
#
# The positions in the table are counted from each row's first real token, so a left-padded prompt gets the same positions as when it is alone. `generate()` derives them from the attention mask alone (Exercise 2 below asks you how). That is not new in transformers 5: Llama's `prepare_inputs_for_generation` already computed them the same way in transformers 4.28.0 and 4.36.2, for example. Padding positions receive a filler value that has changed between versions (1 there, 0 in transformers 5.24); the mask hides padding anyway, so the table shows `-` there.
#
# ## Always pass the attention mask
#
# Left padding is half of the fix. The other half is the `attention_mask` that the tokenizer returns next to `input_ids`: `**left_inputs` passes both. Here is the left-padded batch once more, this time passing only the ids (the mistake, do not copy this):

# %% [markdown] lang=de
# Bei rechtem Padding wird der erste neue Token der kurzen Zeile aus einem Pad-Token vorhergesagt (hier dem End-of-Sequence-Token) statt aus dem letzten Token ihres Prompts, und jeder weitere Token baut auf diesem ersten auf. Kein Modell ist darauf trainiert, einen Prompt ab einem Pad-Token fortzusetzen, und so hat die Zeile mit ihrem Prompt nichts mehr zu tun.
#
# Die Positionen in der Tabelle werden ab dem ersten echten Token jeder Zeile gezählt; ein links aufgefüllter Prompt erhält also dieselben Positionen wie allein. `generate()` leitet sie allein aus der Attention Mask ab (wie, fragt Übung 2 unten). Das ist nicht neu in transformers 5: Schon in transformers 4.28.0 und 4.36.2 zum Beispiel berechnete Llamas `prepare_inputs_for_generation` die Positionen auf dieselbe Weise. Padding-Positionen erhalten einen Füllwert, der sich zwischen den Versionen geändert hat (dort 1, in transformers 5.24 dagegen 0); die Maske blendet das Padding ohnehin aus, deshalb zeigt die Tabelle an diesen Stellen `-`.
#
# ## Immer die Attention Mask übergeben
#
# Linkes Padding ist nur die halbe Korrektur. Die andere Hälfte ist die `attention_mask`, die der Tokenizer zusammen mit den `input_ids` zurückgibt: `**left_inputs` übergibt beide. Hier noch einmal der links aufgefüllte Batch, diesmal nur mit den IDs (das ist der Fehler, übernehmen Sie ihn nicht):

# %%
no_mask_ids = model.generate(input_ids=left_inputs["input_ids"], max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
no_mask_texts = tokenizer.batch_decode(no_mask_ids, skip_special_tokens=True)
for row, text in enumerate(no_mask_texts):
    print(repr(text), "  same as with the mask:", text == left_texts[row])

# %% [markdown] lang=en
# The padded row goes wrong again, and transformers says why under the cell: "The attention mask is not set with a batched input, and cannot be inferred from input because pad token is same as eos token." (transformers 5.24, `_prepare_special_tokens`). Without a mask, `generate()` can rebuild one only from a pad token that differs from the end-of-sequence token; ours is the same token, so it treats every token as real text and the model reads the run of pad tokens as part of the prompt. With `tutorial-tiny`, whose generation config sets no pad token id, a second warning comes first: "The attention mask and the pad token id were not set, with a batched input."
#
# ## Recap with the companion helpers
#
# `companion.padding.compare_padding_sides` does this section's experiment in one call: each prompt alone, in a right-padded batch and in a left-padded batch, greedy, with the attention mask passed every time. The right-padded run triggers transformers' warning again, as it should.

# %% [markdown] lang=de
# Die aufgefüllte Zeile geht wieder schief, und unter der Zelle nennt transformers den Grund: `The attention mask is not set with a batched input, and cannot be inferred from input because pad token is same as eos token.` (transformers 5.24, `_prepare_special_tokens`). Ohne Maske kann `generate()` eine Maske nur aus einem Pad-Token rekonstruieren, der sich vom End-of-Sequence-Token unterscheidet; bei uns ist es derselbe Token, also behandelt `generate()` jeden Token als echten Text, und das Modell liest die Folge von Pad-Tokens als Teil des Prompts. Bei `tutorial-tiny`, dessen Generierungskonfiguration keine Pad-Token-ID festlegt, erscheint davor noch eine zweite Warnung: `The attention mask and the pad token id were not set, with a batched input.`
#
# ## Rückblick mit den Hilfsfunktionen des Kurspakets
#
# `companion.padding.compare_padding_sides` erledigt das Experiment dieses Abschnitts in einem einzigen Aufruf: jeder Prompt allein, in einem rechts aufgefüllten und in einem links aufgefüllten Batch, jeweils mit Greedy Decoding und jedes Mal mit übergebener Attention Mask. Der rechts aufgefüllte Lauf löst die Warnung von transformers erneut aus, so wie es sein soll.

# %%
from companion.padding import compare_padding_sides

for comparison in compare_padding_sides(model, tokenizer, PROMPTS, max_new_tokens=MAX_NEW_TOKENS):
    print(comparison.report())

# %% [markdown] lang=en
# (The helper prints only the new text of each row.) Every helper in `companion` pads on the left, falls back to the end-of-sequence token when there is no pad token, and passes the attention mask (`companion.tokenize_batch`, `companion.generate_text`). To catch a right-padded batch before it reaches `generate()`, `companion.require_left_padded` raises an error that says what to change:

# %% [markdown] lang=de
# (Die Hilfsfunktion gibt nur den neuen Text jeder Zeile aus.) Alle Hilfsfunktionen in `companion` füllen links auf, greifen auf den End-of-Sequence-Token zurück, wenn es keinen Pad-Token gibt, und übergeben die Attention Mask (`companion.tokenize_batch`, `companion.generate_text`). Um einen rechts aufgefüllten Batch abzufangen, bevor er bei `generate()` ankommt, löst `companion.require_left_padded` einen Fehler aus, der sagt, was zu ändern ist:

# %%
try:
    companion.require_left_padded(right_inputs["attention_mask"])
except companion.PaddingError as error:
    print("PaddingError:", error)
companion.require_left_padded(left_inputs["attention_mask"])  # no error: every row ends in a real token
print("left-padded batch: OK")

# %% [markdown] lang=en
# ## The same on a real LLM
#
# `tutorial-tiny` was trained on a handful of patterns. Does a real model care about the padding side as much? The same plain calls with `smollm2-135m` (skipped if `REAL_MODEL` is None). Its tokenizer has a pad token already.

# %% [markdown] lang=de
# ## Dasselbe mit einem echten LLM
#
# `tutorial-tiny` wurde nur auf eine Handvoll Muster trainiert. Ist einem echten Modell die Padding-Seite genauso wichtig? Dieselben schlichten Aufrufe mit `smollm2-135m` (die Zelle wird übersprungen, wenn `REAL_MODEL` den Wert None hat). Sein Tokenizer bringt bereits einen Pad-Token mit.

# %%
if REAL_MODEL:
    real_model, _ = companion.load_model(REAL_MODEL)
    real_path = resolve_model_path(REAL_MODEL)
    real_texts = {}
    for side in ["right", "left"]:
        real_tokenizer = AutoTokenizer.from_pretrained(real_path, padding_side=side)
        if real_tokenizer.pad_token is None:
            real_tokenizer.pad_token = real_tokenizer.eos_token
        real_inputs = real_tokenizer(PROMPTS, padding=True, return_tensors="pt").to(real_model.device)
        real_ids = real_model.generate(**real_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        real_texts[side] = real_tokenizer.batch_decode(real_ids, skip_special_tokens=True)
    for row in range(len(PROMPTS)):
        print(f"row {row} padded on the right: {real_texts['right'][row]!r}")
        print(f"row {row} padded on the left : {real_texts['left'][row]!r}")

# %% [markdown] lang=en
# The real model, too, loses its short prompt when padded on the right (and transformers warns again): it starts something new instead of continuing the letters. Padded on the left, it continues the prompt.
#
# ## Exercise 1: change one setting
#
# `exercise_tokenizer` below is loaded without `padding_side`, with the end-of-sequence token as pad token. Change **one setting** of this tokenizer (do not load a new one) so that it makes batches `generate()` can continue; then tokenize `PROMPTS` with padding and PyTorch tensors and store the result in `answer`.

# %% [markdown] lang=de
# Auch das echte Modell verliert seinen kurzen Prompt, wenn rechts aufgefüllt wird (und transformers warnt erneut): Statt die Buchstaben fortzusetzen, beginnt es etwas ganz Neues. Links aufgefüllt setzt es den Prompt fort.
#
# ## Übung 1: Eine Einstellung ändern
#
# Der `exercise_tokenizer` unten wird ohne `padding_side` geladen, mit dem End-of-Sequence-Token als Pad-Token. Ändern Sie **eine Einstellung** dieses Tokenizers (laden Sie keinen neuen), sodass er Batches bildet, die `generate()` fortsetzen kann; tokenisieren Sie dann `PROMPTS` mit Padding und als PyTorch-Tensoren und speichern Sie das Ergebnis in `answer`.

# %%
from companion.exercises.padding_side import (
    check_batch_continuations,
    check_batch_ready_for_generation,
    check_position_ids,
)

exercise_tokenizer = AutoTokenizer.from_pretrained(path)
if exercise_tokenizer.pad_token is None:
    exercise_tokenizer.pad_token = exercise_tokenizer.eos_token

# %%
answer = None  # your code here
check_batch_ready_for_generation(answer)

# %% tags=solution
exercise_tokenizer.padding_side = "left"
answer = exercise_tokenizer(PROMPTS, padding=True, return_tensors="pt")
check_batch_ready_for_generation(answer)

# %% [markdown] lang=en
# ## Exercise 2: predict the positions, then compute them
#
# Here is the attention mask of another left-padded batch. First predict, on paper, the position of every real token in each row. Then compute the positions from `exercise_mask` alone (one tensor of the same shape) and store it in `answer`. What you put at padding does not matter: the check looks only at real tokens.

# %% [markdown] lang=de
# ## Übung 2: Die Positionen vorhersagen, dann berechnen
#
# Hier sehen Sie die Attention Mask eines weiteren links aufgefüllten Batches. Sagen Sie zuerst auf Papier für jede Zeile die Position jedes echten Tokens vorher. Berechnen Sie die Positionen dann allein aus `exercise_mask` (als einen Tensor derselben Form) und speichern Sie diesen in `answer`. Was an den Padding-Stellen steht, ist egal: Die Prüfung betrachtet nur die echten Tokens.

# %%
exercise_mask = tokenizer(["1, 2", "A list of colors: red, blue, green"], padding=True, return_tensors="pt")["attention_mask"]
print(exercise_mask)

# %%
answer = None  # your code here
check_position_ids(exercise_mask, answer)

# %% tags=solution
answer = exercise_mask.cumsum(dim=-1) - 1  # padding gets -1 here: masked, so any value would do
print(answer)
check_position_ids(exercise_mask, answer)

# %% [markdown] lang=en
# A running count of the mask, minus one, `attention_mask.cumsum(-1) - 1`, is also how `generate()` computes the positions of a left-padded batch.

# %% [markdown] lang=de
# Eine laufende Summe über die Maske, minus eins, `attention_mask.cumsum(-1) - 1`: So berechnet auch `generate()` die Positionen eines links aufgefüllten Batches.

# %% [markdown] lang=en
# ## Exercise 3: fix a broken call
#
# This code generates for `EXERCISE_PROMPTS` but gets the short row wrong:
#
# ```python
# broken_tokenizer = AutoTokenizer.from_pretrained(path)
# broken_tokenizer.pad_token = broken_tokenizer.eos_token
# inputs = broken_tokenizer(EXERCISE_PROMPTS, padding=True, return_tensors="pt")
# ids = model.generate(input_ids=inputs["input_ids"], max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
# answer = broken_tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
# ```
#
# Write a fixed version: greedy, `MAX_NEW_TOKENS` new tokens, and `answer` holding the new text of each prompt (without the prompt). There is more than one thing to fix.

# %% [markdown] lang=de
# ## Übung 3: Einen fehlerhaften Aufruf reparieren
#
# Dieser Code generiert für `EXERCISE_PROMPTS`, liefert für die kurze Zeile aber ein falsches Ergebnis:
#
# ```python
# broken_tokenizer = AutoTokenizer.from_pretrained(path)
# broken_tokenizer.pad_token = broken_tokenizer.eos_token
# inputs = broken_tokenizer(EXERCISE_PROMPTS, padding=True, return_tensors="pt")
# ids = model.generate(input_ids=inputs["input_ids"], max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
# answer = broken_tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
# ```
#
# Schreiben Sie eine korrigierte Fassung: mit Greedy Decoding, `MAX_NEW_TOKENS` neuen Tokens und einem `answer`, das den neuen Text jedes Prompts enthält (ohne den Prompt selbst). Es gibt mehr als eine Stelle, die Sie korrigieren müssen.

# %%
EXERCISE_PROMPTS = ["I am a cat.", "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7"]

answer = None  # your code here
check_batch_continuations(model, tokenizer, EXERCISE_PROMPTS, answer, MAX_NEW_TOKENS)

# %% tags=solution
fixed_tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
if fixed_tokenizer.pad_token is None:
    fixed_tokenizer.pad_token = fixed_tokenizer.eos_token
inputs = fixed_tokenizer(EXERCISE_PROMPTS, padding=True, return_tensors="pt").to(model.device)
ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)  # **inputs passes the attention mask
answer = fixed_tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
print(answer)
check_batch_continuations(model, tokenizer, EXERCISE_PROMPTS, answer, MAX_NEW_TOKENS)

# %% [markdown] lang=en
# ## Summary
#
# - Prompts of different lengths are padded to one length. A tokenizer without a pad token raises a `ValueError` when asked to pad; `tokenizer.pad_token = tokenizer.eos_token` is the usual fix.
# - Load the tokenizer with `padding_side="left"` for generation: `generate()` continues each row from its last column, which must hold the prompt's last token. Then a batch gives exactly what each prompt gives alone. With right padding, short rows continue from padding, and transformers warns.
# - Pass the `attention_mask` (`model.generate(**inputs, ...)` does): it hides the padding, and positions are derived from it. When the pad token is the end-of-sequence token, `generate()` cannot rebuild the mask, and warns.
# - Decode the full output with `tokenizer.batch_decode(generated_ids, ...)`; the guide's `''` came from decoding one row as if it were a batch.
# - `companion.tokenize_batch` and `companion.generate_text` do all of this for you; `companion.require_left_padded` catches right-padded batches.

# %% [markdown] lang=de
# ## Zusammenfassung
#
# - Prompts unterschiedlicher Länge werden auf eine gemeinsame Länge aufgefüllt. Ein Tokenizer ohne Pad-Token löst beim Auffüllen einen `ValueError` aus; `tokenizer.pad_token = tokenizer.eos_token` ist die übliche Abhilfe.
# - Laden Sie den Tokenizer für die Generierung mit `padding_side="left"`: `generate()` setzt jede Zeile an ihrer letzten Spalte fort, und dort muss der letzte Token des Prompts stehen. Dann liefert ein Batch genau das, was jeder Prompt allein liefert. Bei rechtem Padding setzen kurze Zeilen am Padding an, und transformers warnt.
# - Übergeben Sie die `attention_mask` (`model.generate(**inputs, ...)` erledigt das): Die Maske blendet das Padding aus, und die Positionen werden aus ihr abgeleitet. Ist der Pad-Token derselbe wie der End-of-Sequence-Token, kann `generate()` die Maske nicht rekonstruieren und warnt.
# - Dekodieren Sie die gesamte Ausgabe mit `tokenizer.batch_decode(generated_ids, ...)`; das `''` der Anleitung entstand, weil eine einzelne Zeile wie ein Batch dekodiert wurde.
# - `companion.tokenize_batch` und `companion.generate_text` erledigen all das für Sie; `companion.require_left_padded` fängt rechts aufgefüllte Batches ab.
