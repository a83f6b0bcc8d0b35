# %% [markdown] lang=en
# # NN · Title of the notebook
#
# One paragraph that says what goes wrong or what the learner will be able to do. Its first
# sentence becomes the notebook's summary in the README's table, so make it a whole sentence.
#
# **What you will learn**
#
# - the first thing, named by the `transformers` call that teaches it
# - the second thing

# %% [markdown] lang=de
# # NN · Titel des Notebooks
#
# Ein Absatz, der sagt, was schiefgeht oder was Lernende danach können. Jede Sprache hat ihre
# eigene Zelle direkt nach der englischen; der Code darunter ist für beide Ausgaben derselbe.
#
# **Was Sie lernen**
#
# - das Erste, benannt nach dem `transformers`-Aufruf, der es zeigt
# - das Zweite

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (a real small LLM on CPU); a hub id in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization
MAX_NEW_TOKENS = 20  # upper bound on new tokens per generate() call
SEED = 0  # setup_notebook seeds Python, NumPy and torch with it, so sampling is repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)

# %% [markdown] lang=en
# ## The lesson, with the real API
#
# Show the call a learner would write, with plain `transformers` (`tokenizer(...)`,
# `model.generate(**inputs, max_new_tokens=..., do_sample=...)`, `tokenizer.batch_decode`).
# If the lesson is a pitfall, make the mistake here and let its warning show under the cell;
# then fix it, again with plain calls. `companion` helpers come afterwards, as a recap.

# %% [markdown] lang=de
# ## Die Lektion, mit der echten API
#
# Zeigen Sie den Aufruf, den Lernende selbst schreiben würden, mit reinem `transformers`.
# Geht es um eine Falle, machen Sie den Fehler hier, und seine Warnung erscheint unter der Zelle;
# danach folgt die Korrektur. Die Hilfsfunktionen aus `companion` kommen erst danach, als Rückblick.

# %%
inputs = tokenizer(["A list of colors: red, blue"], return_tensors="pt").to(model.device)
generated_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
print(tokenizer.batch_decode(generated_ids, skip_special_tokens=True)[0])

# %% [markdown] lang=en
# ## Exercises
#
# **Exercise 1 (predict, then run).** Ask a question whose answer the learner predicts first.

# %% [markdown] lang=de
# ## Übungen
#
# **Übung 1 (erst vorhersagen, dann ausführen).** Eine Frage, deren Antwort Lernende zuerst vorhersagen.

# %%
from companion.exercises.generating_text import check_most_likely_token

answer = None  # your code here
check_most_likely_token(answer, model, tokenizer, "A list of colors:")

# %% tags=solution
import torch

with torch.inference_mode():
    logits = model(**tokenizer("A list of colors:", return_tensors="pt").to(model.device)).logits
answer = logits[0, -1].argmax()
check_most_likely_token(answer, model, tokenizer, "A list of colors:")

# %% [markdown] lang=en
# **Exercise 2 (fix a broken call)** and **Exercise 3 (change a setting to reach a goal)**
# follow the same pattern: `answer = None` and the check, then a cell tagged `solution`.
#
# ## Summary
#
# - One line per thing learned.

# %% [markdown] lang=de
# **Übung 2 (einen fehlerhaften Aufruf reparieren)** und **Übung 3 (eine Einstellung ändern, um ein
# Ziel zu erreichen)** folgen demselben Muster: `answer = None` und die Prüfung, danach eine Zelle
# mit dem Tag `solution`.
#
# ## Zusammenfassung
#
# - Eine Zeile für jedes Gelernte.
