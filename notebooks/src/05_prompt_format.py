# %% [markdown] lang=en
# # 05 · Wrong prompt format
#
# **What you will learn**
#
# - why an instruct (chat) model needs its prompt in the format it was trained on;
# - how `tokenizer.apply_chat_template` turns a list of messages into that format, and which special tokens it uses;
# - why `add_generation_prompt=True` matters;
# - how to decode only the model's answer, and how to answer a batch of chats at once.
#
# The guide's version we follow ends its list of pitfalls with a note that the prompt format still had to be covered; newer versions of the guide add this pitfall. We use `smollm2-135m`, a real instruct model that runs on a CPU.

# %% [colab-install]

# %% tags=parameters
MODEL = "smollm2-135m"  # an instruct model with a chat template; on a GPU e.g. "HuggingFaceTB/SmolLM2-1.7B-Instruct"
QUANTIZATION = None     # None, "4bit" or "8bit"
MAX_NEW_TOKENS = 30     # upper bound on new tokens per generate() call
SEED = 0                # set_seed(SEED) makes sampling repeatable (this notebook decodes greedily)

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
from transformers import set_seed

from companion.chat import chat, chat_messages, chat_prompt, render_chat, require_chat_template

set_seed(SEED)
model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
require_chat_template(tokenizer)  # raises an error that says what to do if MODEL is a base model
print("chat template: yes")

# %% [markdown] lang=en
# ## A base model has no chat template
#
# `tutorial-tiny`, like the guide's `open_llama_7b`, is a **base** model: it was trained to continue text, and its tokenizer has no chat template. `require_chat_template` says so, and what to use instead:

# %%
_, tiny_tokenizer = companion.load_model("tutorial-tiny")
try:
    require_chat_template(tiny_tokenizer)
except companion.CompanionError as error:
    print("CompanionError:", error)

# %% [markdown] lang=en
# ## A raw question
#
# An instruct model was fine-tuned on conversations. Ask it a question as plain text, as we prompted the base model so far, and see what comes back. We keep the special tokens in the output (`skip_special_tokens=False`) to see everything the model wrote:

# %%
QUESTION = "What is the capital of France?"
raw_answer = companion.generate_text(
    model, tokenizer, QUESTION, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, skip_special_tokens=False
)
print(repr(raw_answer[0]))

# %% [markdown] lang=en
# Instead of an answer, the model may end the text at once with its end-of-turn token, or ramble on: the plain question does not look like anything it was fine-tuned on.
#
# ## The chat template
#
# A chat is a list of messages, each with a `role` ("system", "user" or "assistant") and its `content`. The tokenizer's chat template writes them in the model's format:

# %%
messages = [{"role": "user", "content": QUESTION}]
prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
print(prompt)

# %% [markdown] lang=en
# SmolLM2's template wraps each turn in `<|im_start|>role` ... `<|im_end|>` and adds a default system message when the chat has none. These markers are **special tokens**: each is one token id, not text the tokenizer spells out letter by letter.

# %%
prompt_ids = tokenizer(prompt)["input_ids"]
print("tokens in the prompt:", len(prompt_ids))
for special_token in tokenizer.all_special_tokens:
    token_id = tokenizer.convert_tokens_to_ids(special_token)
    print(f"{special_token:>15}  id {token_id:>3}  appears {prompt_ids.count(token_id)} times")
print("end-of-sequence token:", tokenizer.eos_token, "| generate() stops at id", model.generation_config.eos_token_id)

# %% [markdown] lang=en
# The end of a turn, `<|im_end|>`, is also the model's end-of-sequence token: when the model writes it, its answer is complete and `generate()` stops.
#
# The template text already holds every special token the model needs. SmolLM2's tokenizer adds none of its own, so `tokenizer(prompt)` gives exactly the template's tokens. Some tokenizers (Llama's, for one) put a BOS token in front of every text they tokenize; for them, tokenize template text with `add_special_tokens=False`, or use `companion.chat.render_chat`, which takes care of it.
#
# Now the same question, in the chat format:

# %%
templated_answer = companion.generate_text(
    model, tokenizer, prompt, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, skip_special_tokens=False
)
print(repr(templated_answer[0]))

# %% [markdown] lang=en
# ## Why `add_generation_prompt=True` matters
#
# The template ends the user's turn with `<|im_end|>`. `add_generation_prompt=True` adds one more line, the opening of the assistant's turn, so that the model's next tokens are its answer. Without it, the prompt stops after the user's turn:

# %%
prompt_without_header = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
print("only with add_generation_prompt=True:", repr(prompt[len(prompt_without_header):]))
answer_without_header = companion.generate_text(
    model, tokenizer, prompt_without_header, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, skip_special_tokens=False
)
print(repr(answer_without_header[0]))

# %% [markdown] lang=en
# Now the model first has to open the next turn itself. It may do so correctly, write a different role, or not at all, and whatever it writes for that header ends up in your "answer". With the header in the prompt, the answer starts right away.
#
# ## Decode only the answer
#
# `generate()` returns the prompt followed by the new tokens. For a chat, the prompt is long (system message, markers, the question), so decode only the columns after it. `companion.generate_ids` returns both the sequences and the (left-padded) prompt ids:

# %%
sequences, batch_prompt_ids = companion.generate_ids(
    model, tokenizer, prompt, max_new_tokens=MAX_NEW_TOKENS, do_sample=False
)
print("whole sequence:", repr(tokenizer.batch_decode(sequences)[0]))
new_tokens = sequences[:, batch_prompt_ids.shape[1]:]
print("answer only   :", repr(tokenizer.batch_decode(new_tokens, skip_special_tokens=True)[0]))

# %% [markdown] lang=en
# `companion.chat.chat_prompt(tokenizer, question, system=None)` builds the messages and renders them with `add_generation_prompt=True` in one call (`render_chat(tokenizer, messages)` does the same for a list of messages you wrote yourself):

# %%
print(chat_prompt(tokenizer, QUESTION, system="You answer in one word."))

# %% [markdown] lang=en
# ## A batch of chats
#
# Chats of different lengths in one batch are padded like any other prompts, and, as notebook 04 showed, on the **left**. `companion.tokenize_batch` shows the padding; `companion.chat.chat(model, tokenizer, chats, max_new_tokens=...)` renders every chat with its template, generates the batch with `companion.generate_text` (left padding, attention mask passed, greedy here) and returns only the answers:

# %%
chats = [
    chat_messages("What is 2 + 3?"),
    chat_messages("Name three colors.", system="You are a helpful assistant. Answer in a few words."),
]
batch = companion.tokenize_batch(tokenizer, [render_chat(tokenizer, messages) for messages in chats])
for row, row_mask in enumerate(batch["attention_mask"]):
    padding = int((row_mask == 0).sum())
    print(f"chat {row}: {int(row_mask.sum())} tokens, {padding} padding tokens on the left")

answers = chat(model, tokenizer, chats, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
for messages_of_chat, answer_text in zip(chats, answers):
    print(f"{messages_of_chat[-1]['content']!r} -> {answer_text!r}")

# %% [markdown] lang=en
# ## Exercise 1: the prompt for a chat
#
# Render `exercise_messages` (a system and a user message) into the prompt text the model should continue. Store the string in `answer`.

# %%
from companion.exercises.prompt_format import check_answers_only, check_generation_prompt

exercise_messages = [
    {"role": "system", "content": "You are a friendly geography teacher."},
    {"role": "user", "content": "What is the capital of Italy?"},
]
answer = None  # your code here
check_generation_prompt(tokenizer, exercise_messages, answer)

# %% [markdown] lang=en
# **Solution**

# %%
answer = tokenizer.apply_chat_template(exercise_messages, tokenize=False, add_generation_prompt=True)
check_generation_prompt(tokenizer, exercise_messages, answer)

# %% [markdown] lang=en
# ## Exercise 2: only the answers
#
# `sequences` and `batch_prompt_ids` below come from `companion.generate_ids` for two chats. Decode each chat's answer alone: no prompt, no special tokens. Store the list of two strings in `answer`.

# %%
sequences, batch_prompt_ids = companion.generate_ids(
    model, tokenizer, [chat_prompt(tokenizer, "What is 2 + 3?"), prompt], max_new_tokens=MAX_NEW_TOKENS, do_sample=False
)
answer = None  # your code here
check_answers_only(tokenizer, sequences, batch_prompt_ids, answer)

# %% [markdown] lang=en
# **Solution**

# %%
answer = tokenizer.batch_decode(sequences[:, batch_prompt_ids.shape[1]:], skip_special_tokens=True)
print(answer)
check_answers_only(tokenizer, sequences, batch_prompt_ids, answer)

# %% [markdown] lang=en
# ## Summary
#
# - Instruct models expect their prompt in the chat format they were fine-tuned on; a raw question can get an empty or rambling reply.
# - `tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)` writes the messages in that format, with the model's special tokens (for SmolLM2 `<|im_start|>` and `<|im_end|>`).
# - `add_generation_prompt=True` opens the assistant's turn, so the model answers at once instead of having to write the header itself.
# - Decode only the new tokens (`sequences[:, prompt_length:]`, `skip_special_tokens=True`) to get the answer alone.
# - Batches of chats are padded on the left like any prompts; `companion.chat.chat` does all of it. Base models such as `tutorial-tiny` have no chat template: use an instruct model.
