# %% [markdown] lang=en
# # 05 · Wrong prompt format
#
# **What you will learn**
#
# - what an instruct (chat) model does with a bare question, and why it needs its prompt in the format it was fine-tuned on;
# - how `tokenizer.apply_chat_template` writes a list of messages in that format, with the model's special tokens;
# - the calls that answer a chat: `apply_chat_template(..., return_dict=True)`, `model.generate(**inputs, ...)`, cut off the prompt, `batch_decode`; and why code written for transformers 4 breaks in transformers 5;
# - what the system message, `add_generation_prompt=True` and the earlier turns of a conversation change;
# - why a base model cannot be prompted as a chat, and how to answer a batch of chats at once.
#
# The version of the guide we follow ends its list of pitfalls with a note that the prompt format was still to be covered; newer versions of the guide add this pitfall. We use `smollm2-135m`, a real instruct model that runs on a CPU, and the course's base model `tutorial-tiny` for comparison.

# %% [markdown] lang=de
# # 05 · Falsches Prompt-Format
#
# Die Version der Anleitung, der wir folgen, schließt ihre Liste der Fallstricke mit dem Hinweis, dass das Prompt-Format noch zu behandeln sei; neuere Versionen der Anleitung nehmen diesen Fallstrick auf. Wir arbeiten mit `smollm2-135m`, einem echten Instruct-Modell, das auch auf einer CPU läuft, und zum Vergleich mit dem Basismodell des Kurses, `tutorial-tiny`.
#
# **Was Sie lernen**
#
# - was ein Instruct-Modell (Chat-Modell) mit einer bloßen Frage anfängt und warum es seinen Prompt in dem Format braucht, auf das es beim Fine-Tuning (dem Nachtrainieren auf Gespräche) trainiert wurde;
# - wie `tokenizer.apply_chat_template` eine Liste von Nachrichten in dieses Format schreibt, mit den Spezial-Tokens des Modells;
# - mit welchen Aufrufen ein Chat beantwortet wird: `apply_chat_template(..., return_dict=True)`, `model.generate(**inputs, ...)`, den Prompt abschneiden, `batch_decode`; und warum Code, der für transformers 4 geschrieben wurde, unter transformers 5 scheitert;
# - was die Systemnachricht, `add_generation_prompt=True` und die früheren Beiträge eines Gesprächs verändern;
# - warum sich ein Basismodell nicht wie ein Chat ansprechen lässt und wie Sie einen ganzen Batch von Chats auf einmal beantworten lassen.

# %% [colab-install]

# %% tags=parameters
MODEL = "smollm2-135m"        # an instruct model (it has a chat template); on a GPU e.g. "HuggingFaceTB/SmolLM2-1.7B-Instruct"
BASE_MODEL = "tutorial-tiny"  # a base model (no chat template), for the comparison
QUANTIZATION = None           # None, "4bit" or "8bit" (for MODEL)
MAX_NEW_TOKENS = 30           # upper bound on new tokens per generate() call
SEED = 0                      # setup_notebook seeds Python, NumPy and torch with it (this notebook decodes greedily)

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
if tokenizer.chat_template is None:
    # A base model has no chat format to follow, so the chat sections need an instruct model.
    print(
        f"MODEL = {MODEL!r} has no chat template: it is a base model, trained to continue text, not to answer chats. "
        "This notebook needs an instruct model, so its chat sections use 'smollm2-135m' instead."
    )
    MODEL = "smollm2-135m"
    model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(f"MODEL = {MODEL!r}, chat template: {tokenizer.chat_template is not None}")

# %% [markdown] lang=en
# ## A bare question
#
# So far we prompted models with plain text. Do that with the instruct model: tokenize the question, generate, and decode the new tokens with their special tokens kept (`batch_decode` without `skip_special_tokens=True`), to see everything the model wrote:

# %% [markdown] lang=de
# ## Eine bloße Frage
#
# Bisher haben wir Modellen einfachen Text als Prompt gegeben. Versuchen Sie das nun mit dem Instruct-Modell: Tokenisieren Sie die Frage, lassen Sie das Modell generieren und dekodieren Sie die neuen Tokens, ohne die Spezial-Tokens zu entfernen (`batch_decode` ohne `skip_special_tokens=True`), damit Sie alles sehen, was das Modell geschrieben hat:

# %%
QUESTION = "What is the sun?"

raw_inputs = tokenizer(QUESTION, return_tensors="pt").to(model.device)
raw_outputs = model.generate(**raw_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
raw_new_tokens = raw_outputs[:, raw_inputs["input_ids"].shape[1]:]
print("new tokens:", raw_new_tokens.shape[1])
print(repr(tokenizer.batch_decode(raw_new_tokens)[0]))

# %% [markdown] lang=en
# With the default model the reply is one token, `<|im_end|>`: SmolLM2's marker for the end of a turn, which is also its end-of-sequence token, so `generate()` stops right there. A bare question looks like nothing the model was fine-tuned on, and to the model the text is complete.
#
# ## The chat template
#
# An instruct model was fine-tuned on conversations written in a fixed format. A conversation is a list of **messages**, each with a `role` (`"system"`, `"user"` or `"assistant"`) and its `content`; the system message says how the assistant should behave. The tokenizer's **chat template** writes the messages in the model's format. With `tokenize=False` it returns the text, to look at:

# %% [markdown] lang=de
# Mit dem voreingestellten Modell besteht die Antwort aus einem einzigen Token, `<|im_end|>`: Mit dieser Markierung beendet SmolLM2 einen Gesprächsbeitrag (englisch „turn“), und sie ist zugleich sein End-of-Sequence-Token, der Token für das Ende der Sequenz. Deshalb hört `generate()` genau dort auf. Eine bloße Frage gleicht nichts, was das Modell beim Fine-Tuning gesehen hat, und für das Modell ist der Text damit vollständig.
#
# ## Das Chat-Template
#
# Ein Instruct-Modell wurde auf Gesprächen nachtrainiert, die in einem festen Format geschrieben sind. Ein Gespräch ist eine Liste von **Nachrichten** (messages), jede mit einer Rolle `role` (`"system"`, `"user"` oder `"assistant"`) und ihrem Inhalt `content`; die Systemnachricht legt fest, wie sich der Assistent verhalten soll. Das **Chat-Template** des Tokenizers, die Vorlage für Gespräche, schreibt die Nachrichten im Format des Modells. Mit `tokenize=False` gibt es den Text zurück, damit Sie ihn ansehen können:

# %%
SYSTEM_PROMPT = "You are a helpful assistant. Answer in one short sentence."
messages = [
    {"role": "system", "content": SYSTEM_PROMPT},
    {"role": "user", "content": QUESTION},
]
prompt_text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
print(prompt_text)

# %% [markdown] lang=en
# SmolLM2's template wraps each message in `<|im_start|>role` ... `<|im_end|>`. `add_generation_prompt=True` ends the text with `<|im_start|>assistant` and a line break, the opening of the assistant's turn, so that the model's next tokens are its answer. The markers are **special tokens**: each is a single token id, not text that the tokenizer cuts into pieces. Without `tokenize=False`, `apply_chat_template` returns the token ids:

# %% [markdown] lang=de
# Das Template von SmolLM2 setzt jede Nachricht zwischen `<|im_start|>role` ... `<|im_end|>`. `add_generation_prompt=True` beendet den Text mit `<|im_start|>assistant` und einem Zeilenumbruch, dem Anfang des Beitrags des Assistenten; so sind die nächsten Tokens des Modells seine Antwort. Diese Markierungen sind **Spezial-Tokens** (Tokens mit einer festen Sonderbedeutung für das Modell): Jede von ihnen ist eine einzige Token-ID, kein Text, den der Tokenizer in Stücke zerlegt. Ohne `tokenize=False` gibt `apply_chat_template` die Token-IDs zurück:

# %%
prompt_ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True)["input_ids"]
print("tokens in the prompt:", len(prompt_ids))
for special_token in tokenizer.all_special_tokens:
    token_id = tokenizer.convert_tokens_to_ids(special_token)
    print(f"{special_token:>15}  id {token_id:>3}  appears {prompt_ids.count(token_id)} times")
print("end-of-sequence token:", tokenizer.eos_token, "| generate() stops at id", model.generation_config.eos_token_id)

# %% [markdown] lang=en
# `<|im_end|>` closes a turn and is the end-of-sequence token: when the model writes it, its answer is complete and `generate()` stops.
#
# In transformers 5.24, `apply_chat_template` tokenizes the text it renders with `add_special_tokens=False`: the template already holds every special token the model needs (templates that begin with a BOS token write it themselves), so nothing is added twice. If you tokenize template text yourself with `tokenizer(text)`, pass `add_special_tokens=False` for the same reason.
#
# ## Generate an answer
#
# Three calls answer a chat. `apply_chat_template(..., return_tensors="pt", return_dict=True)` returns the model inputs, `input_ids` and `attention_mask`, in a `BatchEncoding`: a dict with extras such as `.to(device)`. `model.generate(**inputs, ...)` takes both. Its output holds the prompt followed by the new tokens, so we cut off the prompt's columns and decode the rest:

# %% [markdown] lang=de
# `<|im_end|>` schließt einen Beitrag ab und ist der End-of-Sequence-Token: Sobald das Modell ihn schreibt, ist seine Antwort fertig, und `generate()` hält an.
#
# In transformers 5.24 tokenisiert `apply_chat_template` den Text, den es erzeugt, mit `add_special_tokens=False`: Das Template enthält bereits jeden Spezial-Token, den das Modell braucht (Templates, die mit einem BOS-Token beginnen, also einem Token für den Anfang der Sequenz, schreiben ihn selbst), daher wird nichts doppelt eingefügt. Wenn Sie Text aus dem Template selbst mit `tokenizer(text)` tokenisieren, übergeben Sie aus demselben Grund `add_special_tokens=False`.
#
# ## Eine Antwort generieren
#
# Drei Aufrufe genügen, um einen Chat beantworten zu lassen. `apply_chat_template(..., return_tensors="pt", return_dict=True)` liefert die Eingaben des Modells, `input_ids` und `attention_mask`, in einem `BatchEncoding`: einem Dict mit Extras wie `.to(device)`. `model.generate(**inputs, ...)` nimmt beide entgegen. Seine Ausgabe enthält den Prompt und danach die neuen Tokens; wir schneiden also die Spalten des Prompts ab und dekodieren den Rest:

# %%
inputs = tokenizer.apply_chat_template(
    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
).to(model.device)
print(type(inputs).__name__, {name: tuple(tensor.shape) for name, tensor in inputs.items()})

outputs = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
new_tokens = outputs[:, inputs["input_ids"].shape[1]:]
first_answer = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)[0]
print("new tokens:", new_tokens.shape[1])
print(repr(first_answer))

# %% [markdown] lang=en
# In its chat format the model answers, in one sentence as the system message asks. `skip_special_tokens=True` leaves the closing `<|im_end|>` out of the text.
#
# ## Code written for transformers 4 breaks
#
# In transformers 4, `apply_chat_template(..., return_tensors="pt")` returned just the tensor of token ids: `return_dict` defaulted to `False`. Transformers 5.0 changed that default to `True` (its migration guide: "`apply_chat_template` returns `BatchEncoding`"); in transformers 5.24 the same call returns the `BatchEncoding` above. Much code on the web still does this:

# %% [markdown] lang=de
# In seinem Chat-Format antwortet das Modell, und zwar in einem Satz, wie es die Systemnachricht verlangt. `skip_special_tokens=True` lässt das abschließende `<|im_end|>` im Text weg.
#
# ## Code für transformers 4 scheitert
#
# In transformers 4 gab `apply_chat_template(..., return_tensors="pt")` nur den Tensor der Token-IDs zurück: `return_dict` war standardmäßig `False`. Transformers 5.0 hat diesen Standardwert auf `True` geändert (im Migrationsleitfaden heißt es: „`apply_chat_template` returns `BatchEncoding`“); in transformers 5.24 liefert derselbe Aufruf das `BatchEncoding` von oben. Viel Code im Netz macht trotzdem noch Folgendes:

# %%
# Written for transformers 4, where this call returned a tensor of token ids.
old_inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
print("apply_chat_template returned a", type(old_inputs).__name__, "with keys", list(old_inputs.keys()))
try:
    old_outputs = model.generate(old_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    print(tokenizer.batch_decode(old_outputs[:, old_inputs.shape[1]:], skip_special_tokens=True))
except AttributeError as error:
    print(f"{type(error).__name__}: {error}")  # the last line of the traceback, as a notebook shows it

# %% [markdown] lang=en
# That is the whole message: `AttributeError:` and nothing after it. (The cell catches the error so that the notebook runs on; without `try`, the same line ends a long traceback.) Read upwards in that traceback and you find the cause. Its first part ends in `KeyError: 'shape'`, raised in `BatchEncoding.__getattr__` (`tokenization_utils_base.py`, transformers 5.24), and the frame in `generate()` is the line `batch_size = inputs_tensor.shape[0]` (`generation/utils.py`). So `generate()` took the `BatchEncoding` for a tensor of ids and asked for its `.shape`; a `BatchEncoding` looks attribute names up among its keys, has no key `'shape'`, and turns the `KeyError` into an `AttributeError` without a message. The next line of the old code, `old_inputs.shape[1]` for the prompt's length, would fail the same way. The fix is two small changes: unpack the dict into `generate()`, and take the length from its `input_ids`:

# %% [markdown] lang=de
# Das ist die ganze Meldung: `AttributeError:` und nichts danach. (Die Zelle fängt den Fehler ab, damit das Notebook weiterläuft; ohne `try` steht dieselbe Zeile am Ende eines langen Tracebacks.) Lesen Sie in diesem Traceback nach oben, finden Sie die Ursache: Sein erster Teil endet mit `KeyError: 'shape'`, ausgelöst in `BatchEncoding.__getattr__` (`tokenization_utils_base.py`, transformers 5.24), und die Stelle in `generate()` ist die Zeile `batch_size = inputs_tensor.shape[0]` (`generation/utils.py`). `generate()` hat das `BatchEncoding` also für einen Tensor aus IDs gehalten und nach seinem `.shape` gefragt; ein `BatchEncoding` sucht Attributnamen unter seinen Schlüsseln, hat keinen Schlüssel `'shape'` und macht aus dem `KeyError` einen `AttributeError` ohne Meldung. Die nächste Zeile des alten Codes, `old_inputs.shape[1]` für die Länge des Prompts, würde genauso scheitern. Die Korrektur besteht aus zwei kleinen Änderungen: Entpacken Sie das Dict in den Aufruf von `generate()`, und nehmen Sie die Länge aus seinen `input_ids`:

# %%
fixed_outputs = model.generate(**old_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
fixed_answer = tokenizer.batch_decode(fixed_outputs[:, old_inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
print(repr(fixed_answer))
print("same answer as above:", fixed_answer == first_answer)

# %% [markdown] lang=en
# Write `return_dict=True` anyway, as above: the line then says what it returns. (`return_dict=False` gives back the bare tensor of ids, without the attention mask.)
#
# ## The system message matters
#
# Without a system message, SmolLM2's template puts in a default one ("You are a helpful AI assistant named SmolLM, trained by Hugging Face"). Compare the answers to the same question with that default and with our `SYSTEM_PROMPT`:

# %% [markdown] lang=de
# Schreiben Sie trotzdem `return_dict=True` wie oben: Dann sagt die Zeile selbst, was sie zurückgibt. (`return_dict=False` liefert den bloßen Tensor der IDs, ohne die Attention Mask.)
#
# ## Die Systemnachricht zählt
#
# Ohne Systemnachricht setzt das Template von SmolLM2 eine eigene Standardnachricht ein („You are a helpful AI assistant named SmolLM, trained by Hugging Face“). Vergleichen Sie die Antworten auf dieselbe Frage mit dieser Standardnachricht und mit unserem `SYSTEM_PROMPT`:

# %%
chats_to_compare = {
    "the template's default system message": [{"role": "user", "content": QUESTION}],
    "our SYSTEM_PROMPT": messages,
}
for label, conversation in chats_to_compare.items():
    compare_inputs = tokenizer.apply_chat_template(
        conversation, add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(model.device)
    compare_outputs = model.generate(**compare_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    answer_ids = compare_outputs[0, compare_inputs["input_ids"].shape[1]:].tolist()
    ended = tokenizer.eos_token_id in answer_ids
    print(f"{label}: {len(answer_ids)} new tokens, ended with {tokenizer.eos_token}: {ended}")
    print("   ", repr(tokenizer.decode(answer_ids, skip_special_tokens=True)))

# %% [markdown] lang=en
# With the default settings: under the template's default system message the model talks on until `MAX_NEW_TOKENS` cuts it off (and gets facts wrong on the way: the sun does not orbit itself). With ours it answers in one sentence and ends its turn by itself. The system message is part of the prompt the model continues, so it changes what comes next.
#
# ## Why `add_generation_prompt=True` matters
#
# Without it, the prompt ends after the user's turn (`<|im_end|>` and a line break), and what comes next is up to the model. Here is what the default model writes, decoded once with its special tokens and once without:

# %% [markdown] lang=de
# Mit den voreingestellten Parametern gilt: Unter der Standard-Systemnachricht des Templates redet das Modell weiter, bis `MAX_NEW_TOKENS` es abschneidet (und verdreht unterwegs Fakten: Die Sonne umkreist nicht sich selbst). Mit unserer Systemnachricht antwortet es in einem Satz und beendet seinen Beitrag von selbst. Die Systemnachricht gehört zu dem Prompt, den das Modell fortsetzt, und verändert deshalb, was als Nächstes kommt.
#
# ## Warum `add_generation_prompt=True` wichtig ist
#
# Ohne diese Einstellung endet der Prompt nach dem Beitrag des Nutzers (`<|im_end|>` und ein Zeilenumbruch), und was danach kommt, bleibt dem Modell überlassen. Das schreibt das voreingestellte Modell, einmal mit seinen Spezial-Tokens dekodiert und einmal ohne:

# %%
inputs_without_header = tokenizer.apply_chat_template(
    messages, add_generation_prompt=False, return_tensors="pt", return_dict=True
).to(model.device)
outputs_without_header = model.generate(**inputs_without_header, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
new_tokens_without_header = outputs_without_header[:, inputs_without_header["input_ids"].shape[1]:]
print("with special tokens     :", repr(tokenizer.batch_decode(new_tokens_without_header)[0]))
text_without_header = tokenizer.batch_decode(new_tokens_without_header, skip_special_tokens=True)[0]
print("skip_special_tokens=True:", repr(text_without_header))
print("ends with first_answer  :", text_without_header.endswith(first_answer))

# %% [markdown] lang=en
# SmolLM2 writes the missing header itself, `<|im_start|>assistant` and a line break, and then the same answer as before. So the answer survives here, but the header lands in your output: `<|im_start|>` is a special token and disappears with `skip_special_tokens=True`, while `assistant` and the line break are ordinary text, so the decoded answer begins with the word "assistant". The header's tokens also count against `max_new_tokens`. Another model may instead go on with the user's message or open a turn with a different role; with `add_generation_prompt=True` you don't depend on what it does.
#
# ## Continuing the conversation
#
# A model keeps no memory between calls to `generate()`. To go on with a conversation, append its answer as an `"assistant"` message and the next question as a `"user"` message, and apply the template to the whole list again:

# %% [markdown] lang=de
# SmolLM2 schreibt den fehlenden Header, also die Kopfzeile, die den Beitrag des Assistenten eröffnet, selbst: `<|im_start|>assistant` und einen Zeilenumbruch, danach dieselbe Antwort wie zuvor. Die Antwort bleibt hier also erhalten, aber der Header landet in Ihrer Ausgabe: `<|im_start|>` ist ein Spezial-Token und verschwindet mit `skip_special_tokens=True`, `assistant` und der Zeilenumbruch dagegen sind gewöhnlicher Text, sodass die dekodierte Antwort mit dem Wort „assistant“ beginnt. Die Tokens des Headers werden außerdem auf `max_new_tokens` angerechnet. Ein anderes Modell setzt vielleicht stattdessen die Nachricht des Nutzers fort oder eröffnet einen Beitrag mit einer anderen Rolle; mit `add_generation_prompt=True` hängen Sie nicht davon ab, was es tut.
#
# ## Das Gespräch fortsetzen
#
# Ein Modell behält zwischen zwei Aufrufen von `generate()` nichts im Gedächtnis. Um ein Gespräch fortzusetzen, hängen Sie seine Antwort als `"assistant"`-Nachricht und die nächste Frage als `"user"`-Nachricht an und wenden das Template noch einmal auf die ganze Liste an:

# %%
FOLLOW_UP = "How far away is it?"
conversation = messages + [
    {"role": "assistant", "content": first_answer},
    {"role": "user", "content": FOLLOW_UP},
]
print(tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True))

conversation_inputs = tokenizer.apply_chat_template(
    conversation, add_generation_prompt=True, return_tensors="pt", return_dict=True
).to(model.device)
conversation_outputs = model.generate(**conversation_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
follow_up_answer = tokenizer.batch_decode(
    conversation_outputs[:, conversation_inputs["input_ids"].shape[1]:], skip_special_tokens=True
)[0]
print("in the conversation:", repr(follow_up_answer))

# %% [markdown] lang=en
# For comparison, the follow-up question alone, with the same system message:

# %% [markdown] lang=de
# Zum Vergleich die Anschlussfrage für sich allein, mit derselben Systemnachricht:

# %%
alone_messages = [
    {"role": "system", "content": SYSTEM_PROMPT},
    {"role": "user", "content": FOLLOW_UP},
]
alone_inputs = tokenizer.apply_chat_template(
    alone_messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
).to(model.device)
alone_outputs = model.generate(**alone_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
alone_answer = tokenizer.batch_decode(alone_outputs[:, alone_inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
print("asked alone        :", repr(alone_answer))

# %% [markdown] lang=en
# In the conversation, "it" is the sun, and the answer is about the sun. Asked alone, the question has nothing for "it" to point to, and the model makes something up that is not about the sun. With the default settings the distance in the answer is wrong, by the way: the sun is about 150 million kilometres (93 million miles) away. A 135M-parameter model mixes up facts; the earlier turns give it the context, not the knowledge.
#
# ## A base model has no chat template
#
# `BASE_MODEL` (`tutorial-tiny`, like the guide's `open_llama_7b`) is a **base** model: trained to continue text, never fine-tuned on conversations. Its tokenizer has no chat template, and transformers says so:

# %% [markdown] lang=de
# Im Gespräch meint „it“ die Sonne, und die Antwort handelt von der Sonne. Allein gestellt hat die Frage nichts, worauf sich „it“ beziehen könnte, und das Modell erfindet etwas, das nichts mit der Sonne zu tun hat. Mit den voreingestellten Parametern ist die Entfernung in der Antwort übrigens falsch: Die Sonne ist etwa 150 Millionen Kilometer (93 Millionen Meilen) entfernt. Ein Modell mit 135 Millionen Parametern bringt Fakten durcheinander; die früheren Beiträge geben ihm den Zusammenhang, nicht das Wissen.
#
# ## Ein Basismodell hat kein Chat-Template
#
# `BASE_MODEL` (`tutorial-tiny`, wie `open_llama_7b` in der Anleitung) ist ein **Basismodell**: darauf trainiert, Text fortzusetzen, und nie auf Gespräche nachtrainiert. Sein Tokenizer hat kein Chat-Template, und transformers sagt das auch:

# %%
base_model, base_tokenizer = companion.load_model(BASE_MODEL)
try:
    base_tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    print(f"{BASE_MODEL!r} has a chat template after all")
except ValueError as error:
    print("ValueError:", error)

# %% [markdown] lang=en
# A base model can only continue text. Below, each question goes to the base model as plain text and to the instruct model in its chat format (as a user message alone, so with the template's default system message):

# %% [markdown] lang=de
# Ein Basismodell kann Text nur fortsetzen. Unten geht jede Frage als einfacher Text an das Basismodell und im Chat-Format an das Instruct-Modell (nur als Nachricht des Nutzers, also mit der Standard-Systemnachricht des Templates):

# %%
for question in [QUESTION, "Is the sun warm?"]:
    base_inputs = base_tokenizer(question, return_tensors="pt").to(base_model.device)
    base_outputs = base_model.generate(**base_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    base_text = base_tokenizer.batch_decode(base_outputs[:, base_inputs["input_ids"].shape[1]:])[0]

    chat_inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(model.device)
    chat_outputs = model.generate(**chat_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    chat_text = tokenizer.batch_decode(chat_outputs[:, chat_inputs["input_ids"].shape[1]:])[0]

    print(repr(question))
    print(f"  {BASE_MODEL}, plain text:", repr(base_text))
    print(f"  {MODEL}, chat format:", repr(chat_text))

# %% [markdown] lang=en
# The base model does not answer. With the default models, it ends the first question at once with its end-of-text token `</s>`, and it goes on from the second with a sentence from the little stories it was trained on ("I am a fish."), over and over: a continuation, not an answer. The instruct model, in its chat format, answers both, here until `MAX_NEW_TOKENS` stops it. To chat, use an instruct model; a base model needs a prompt whose natural continuation is the text you want.
#
# ## A batch of chats
#
# `apply_chat_template` also takes a list of chats. Chats of different lengths are padded like any prompts, and, as notebook 04 showed, `generate()` needs them padded on the **left**. SmolLM2's tokenizer pads on the right unless told otherwise:

# %% [markdown] lang=de
# Das Basismodell antwortet nicht. Mit den voreingestellten Modellen beendet es die erste Frage sofort mit seinem End-of-Text-Token `</s>`, und an die zweite hängt es einen Satz aus den kleinen Geschichten an, mit denen es trainiert wurde („I am a fish.“), immer wieder: eine Fortsetzung, keine Antwort. Das Instruct-Modell beantwortet in seinem Chat-Format beide Fragen, hier so lange, bis `MAX_NEW_TOKENS` es stoppt. Zum Chatten nehmen Sie ein Instruct-Modell; ein Basismodell braucht einen Prompt, dessen natürliche Fortsetzung der Text ist, den Sie haben wollen.
#
# ## Ein Batch von Chats
#
# `apply_chat_template` nimmt auch eine Liste von Chats. Chats unterschiedlicher Länge erhalten Padding (kürzere Eingaben werden auf die Länge der längsten aufgefüllt) wie alle Prompts, und `generate()` braucht dieses Padding, wie Notebook 04 gezeigt hat, auf der **linken** Seite. Der Tokenizer von SmolLM2 füllt rechts auf, solange Sie ihm nichts anderes sagen:

# %%
print("padding side before:", tokenizer.padding_side)
tokenizer.padding_side = "left"
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token  # e.g. Llama tokenizers have no pad token (notebook 04)

chats = [
    [{"role": "user", "content": "What is 2 + 3?"}],
    messages,
]
batch_inputs = tokenizer.apply_chat_template(
    chats, add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
).to(model.device)
for row, row_mask in enumerate(batch_inputs["attention_mask"]):
    print(f"chat {row}: {int(row_mask.sum())} tokens, {int((row_mask == 0).sum())} padding tokens on the left")

batch_outputs = model.generate(**batch_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
batch_answers = tokenizer.batch_decode(
    batch_outputs[:, batch_inputs["input_ids"].shape[1]:], skip_special_tokens=True
)
for chat_of_row, answer_of_row in zip(chats, batch_answers):
    print(f"{chat_of_row[-1]['content']!r} -> {answer_of_row!r}")
print("second answer equals first_answer:", batch_answers[1] == first_answer)

# %% [markdown] lang=en
# Left padding puts the end of every prompt in the last column, so one slice cuts off all the prompts. The second chat's answer equals the one it got alone.
#
# ## Recap with `companion.chat`
#
# The course package wraps these steps for your own experiments: `require_chat_template(tokenizer)` fails with a message that says which kind of model to use; `render_chat(tokenizer, messages)` returns the prompt text (with `add_generation_prompt=True`, and without a doubled BOS token for tokenizers that add one of their own); `chat(model, tokenizer, chats, max_new_tokens=..., do_sample=...)` answers a batch of chats, padded on the left, and returns only the answers. They agree with the plain calls above:

# %% [markdown] lang=de
# Links-Padding setzt das Ende jedes Prompts in die letzte Spalte, sodass ein einziger Slice alle Prompts abschneidet. Die Antwort auf den zweiten Chat ist dieselbe, die er allein bekommen hat.
#
# ## Rückblick mit `companion.chat`
#
# Das Kurspaket fasst diese Schritte für Ihre eigenen Experimente zusammen: `require_chat_template(tokenizer)` scheitert mit einer Fehlermeldung, die sagt, welche Art von Modell Sie brauchen; `render_chat(tokenizer, messages)` gibt den Text des Prompts zurück (mit `add_generation_prompt=True` und ohne doppelten BOS-Token bei Tokenizern, die selbst einen hinzufügen); `chat(model, tokenizer, chats, max_new_tokens=..., do_sample=...)` beantwortet einen links aufgefüllten Batch von Chats und gibt nur die Antworten zurück. Die Ergebnisse stimmen mit denen der einfachen Aufrufe oben überein:

# %%
from companion.chat import chat, render_chat, require_chat_template

print("render_chat gives prompt_text:", render_chat(tokenizer, messages) == prompt_text)
recap_answers = chat(model, tokenizer, chats, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
print("chat() gives batch_answers:", recap_answers == batch_answers)
try:
    require_chat_template(base_tokenizer)
except companion.CompanionError as error:
    print("CompanionError:", error)

# %% [markdown] lang=en
# ## Exercise 1: predict, then count
#
# `add_generation_prompt=True` appends the assistant's header to a chat. **Predict** how many tokens it adds to `exercise_messages`, write your number in `answer`, then run the cell. You have seen the header's text above; the question is how the tokenizer cuts it.

# %% [markdown] lang=de
# ## Übung 1: vorhersagen, dann zählen
#
# `add_generation_prompt=True` hängt den Header des Assistenten an einen Chat an. **Sagen Sie vorher**, wie viele Tokens er zu `exercise_messages` hinzufügt, schreiben Sie Ihre Zahl in `answer` und führen Sie dann die Zelle aus. Den Text des Headers haben Sie oben gesehen; die Frage ist, wie der Tokenizer ihn zerlegt.

# %%
from companion.exercises.prompt_format import check_continued_message, check_fixed_chat_batch, check_header_token_count

exercise_messages = [
    {"role": "system", "content": "You are a friendly geography teacher."},
    {"role": "user", "content": "What is the capital of Italy?"},
]
answer = None  # your code here
check_header_token_count(tokenizer, exercise_messages, answer)

# %% [markdown] lang=en
# **Solution**

# %% [markdown] lang=de
# **Lösung**

# %% tags=solution
with_header = tokenizer.apply_chat_template(exercise_messages, add_generation_prompt=True)["input_ids"]
without_header = tokenizer.apply_chat_template(exercise_messages, add_generation_prompt=False)["input_ids"]
print(tokenizer.convert_ids_to_tokens(with_header[len(without_header):]))
answer = len(with_header) - len(without_header)
check_header_token_count(tokenizer, exercise_messages, answer)

# %% [markdown] lang=en
# ## Exercise 2: fix code written for transformers 4
#
# A script written for transformers 4 loads its own tokenizer and answers two chats in one batch:
#
# ```python
# exercise_tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(MODEL))
# inputs = exercise_tokenizer.apply_chat_template(
#     exercise_chats, add_generation_prompt=True, padding=True, return_tensors="pt"
# ).to(model.device)
# outputs = model.generate(inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
# answer = exercise_tokenizer.batch_decode(outputs[:, inputs.shape[1]:], skip_special_tokens=True)
# ```
#
# Paste it into the cell below and run it to see it fail. Then fix it, so that `answer` holds the greedy answers, one string per chat, without prompt or special tokens. There is more than one thing to fix: once it runs, read what transformers prints under the cell.

# %% [markdown] lang=de
# ## Übung 2: Code für transformers 4 reparieren
#
# Ein Skript, das für transformers 4 geschrieben wurde, lädt seinen eigenen Tokenizer und beantwortet zwei Chats in einem Batch:
#
# ```python
# exercise_tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(MODEL))
# inputs = exercise_tokenizer.apply_chat_template(
#     exercise_chats, add_generation_prompt=True, padding=True, return_tensors="pt"
# ).to(model.device)
# outputs = model.generate(inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
# answer = exercise_tokenizer.batch_decode(outputs[:, inputs.shape[1]:], skip_special_tokens=True)
# ```
#
# Fügen Sie es in die Zelle unten ein und führen Sie es aus, um zu sehen, wie es scheitert. Reparieren Sie es dann so, dass `answer` die Antworten des Greedy Decoding enthält, einen String pro Chat, ohne Prompt und ohne Spezial-Tokens. Es gibt mehr als eine Stelle zu reparieren: Sobald der Code läuft, lesen Sie, was transformers unter der Zelle ausgibt.

# %%
from transformers import AutoTokenizer

from companion.models import resolve_model_path

exercise_chats = [
    [{"role": "user", "content": "Name three colors."}],
    [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "What is the moon?"}],
]
answer = None  # your code here
check_fixed_chat_batch(model, tokenizer, exercise_chats, answer, max_new_tokens=MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Solution**

# %% [markdown] lang=de
# **Lösung**

# %% tags=solution
exercise_tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(MODEL))
exercise_tokenizer.padding_side = "left"  # a fresh SmolLM2 tokenizer pads on the right
inputs = exercise_tokenizer.apply_chat_template(
    exercise_chats, add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
).to(model.device)
outputs = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
answer = exercise_tokenizer.batch_decode(outputs[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
print(answer)
check_fixed_chat_batch(model, tokenizer, exercise_chats, answer, max_new_tokens=MAX_NEW_TOKENS)

# %% [markdown] lang=en
# ## Exercise 3: make the model finish your sentence
#
# Goal: the model continues an answer that you have started. `prefill_messages` ends with the beginning of the assistant's answer, `"1."`. Build the prompt text (a string) so that the model's next tokens continue that message instead of starting a new one after it. One setting of `apply_chat_template` does it; `help(tokenizer.apply_chat_template)` lists them all. Store the text in `answer`.

# %% [markdown] lang=de
# ## Übung 3: das Modell Ihren Satz beenden lassen
#
# Ziel: Das Modell setzt eine Antwort fort, die Sie begonnen haben. `prefill_messages` endet mit dem Anfang der Antwort des Assistenten, `"1."`. Erzeugen Sie den Text des Prompts (einen String) so, dass die nächsten Tokens des Modells diese Nachricht fortsetzen, statt nach ihr eine neue zu beginnen. Eine einzige Einstellung von `apply_chat_template` erledigt das; `help(tokenizer.apply_chat_template)` zeigt sie alle. Speichern Sie den Text in `answer`.

# %%
prefill_messages = [
    {"role": "user", "content": "Name three colors."},
    {"role": "assistant", "content": "1."},
]
answer = None  # your code here
check_continued_message(tokenizer, prefill_messages, answer)

# %% [markdown] lang=en
# **Solution**

# %% [markdown] lang=de
# **Lösung**

# %% tags=solution
answer = tokenizer.apply_chat_template(prefill_messages, tokenize=False, continue_final_message=True)
print(repr(answer))
prefill_inputs = tokenizer.apply_chat_template(
    prefill_messages, continue_final_message=True, return_tensors="pt", return_dict=True
).to(model.device)
prefill_outputs = model.generate(**prefill_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
print(repr(tokenizer.batch_decode(prefill_outputs[:, prefill_inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]))
check_continued_message(tokenizer, prefill_messages, answer)

# %% [markdown] lang=en
# ## Summary
#
# - An instruct model expects its prompt in the chat format it was fine-tuned on; to a bare question SmolLM2 replies with nothing but its end-of-turn token.
# - `tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)` writes the messages in that format, with the model's special tokens, and returns `input_ids` and `attention_mask`; pass both with `model.generate(**inputs, max_new_tokens=..., do_sample=...)`, cut off `inputs["input_ids"].shape[1]` columns and `batch_decode` the rest with `skip_special_tokens=True`.
# - Since transformers 5.0 that call returns a `BatchEncoding`, not a tensor: code written for transformers 4 that passes it to `generate()` as a tensor, or asks for its `.shape`, fails with an `AttributeError`.
# - The system message is part of the prompt and steers the answer. `add_generation_prompt=True` opens the assistant's turn; without it SmolLM2 writes the header itself, and "assistant" ends up in your answer. A conversation goes on by appending the answer and the next question and applying the template again.
# - Base models such as `tutorial-tiny` have no chat template (transformers raises a `ValueError`) and continue text instead of answering. Batches of chats are padded on the left like any prompts; `companion.chat.chat` does all of it in one call.

# %% [markdown] lang=de
# ## Zusammenfassung
#
# - Ein Instruct-Modell erwartet seinen Prompt in dem Chat-Format, auf das es nachtrainiert wurde; auf eine bloße Frage antwortet SmolLM2 nur mit seinem Token für das Ende eines Beitrags.
# - `tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)` schreibt die Nachrichten in dieses Format, mit den Spezial-Tokens des Modells, und liefert `input_ids` und `attention_mask`; übergeben Sie beide mit `model.generate(**inputs, max_new_tokens=..., do_sample=...)`, schneiden Sie `inputs["input_ids"].shape[1]` Spalten ab und dekodieren Sie den Rest mit `batch_decode` und `skip_special_tokens=True`.
# - Seit transformers 5.0 gibt dieser Aufruf ein `BatchEncoding` zurück, keinen Tensor: Code für transformers 4, der es als Tensor an `generate()` übergibt oder nach seinem `.shape` fragt, scheitert mit einem `AttributeError`.
# - Die Systemnachricht ist Teil des Prompts und lenkt die Antwort. `add_generation_prompt=True` eröffnet den Beitrag des Assistenten; ohne diese Einstellung schreibt SmolLM2 den Header selbst, und „assistant“ landet in Ihrer Antwort. Ein Gespräch geht weiter, indem Sie die Antwort und die nächste Frage anhängen und das Template erneut anwenden.
# - Basismodelle wie `tutorial-tiny` haben kein Chat-Template (transformers löst einen `ValueError` aus) und setzen Text fort, statt zu antworten. Batches von Chats werden wie alle Prompts links aufgefüllt; `companion.chat.chat` erledigt all das in einem Aufruf.
