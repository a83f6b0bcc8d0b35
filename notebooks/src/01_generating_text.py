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

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real small LLM, CPU); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 30  # upper bound on new tokens per generate() call
SEED = 0  # setup_notebook(seed=SEED) seeds Python, NumPy and torch, so sampling is repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %% [markdown] lang=en
# ## Loading the model
#
# The guide loads its model like this:
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
# `companion.load_model` makes exactly these calls (`device_map="auto"` always, and a
# `BitsAndBytesConfig` when you set `QUANTIZATION`). By default it loads `tutorial-tiny`,
# the course's own tiny Llama model (about 156 thousand parameters), trained to reproduce
# the guide's examples instantly on any CPU. Change `MODEL` in the parameters cell to try a
# real LLM; the code below works for any of them.

# %%
import torch

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(type(model).__name__, "on", model.device)
parameter_count = sum(parameter.numel() for parameter in model.parameters())
print(f"{parameter_count:,} parameters, vocabulary of {model.config.vocab_size:,} tokens")

# %% [markdown] lang=en
# ## From text to tokens
#
# The tokenizer turns text into token ids. It also returns an **attention mask**: 1 for every
# real token, 0 for padding (there is none with a single prompt, but batches need it, see
# notebook 04). `generate()` tries to guess the mask when you leave it out; pass it anyway.

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

# %%
with torch.inference_mode():
    outputs = model(**model_inputs)
print("logits shape (batch, length, vocabulary):", tuple(outputs.logits.shape))

# %% [markdown] lang=en
# A softmax turns the scores of the last position into probabilities that add up to 1.
# `companion.inspection.next_token_probabilities` does this for one prompt or a batch and
# lists the most likely tokens (token text in quotes, so you can see leading spaces):

# %%
from companion.inspection import format_token_table, next_token_probabilities

probabilities = torch.softmax(outputs.logits[0, -1], dim=-1)  # (vocabulary,)
print(f"probabilities add up to {probabilities.sum().item():.3f}")
print(format_token_table(next_token_probabilities(model, tokenizer, "A list of colors: red, blue", top_k=5)[0]))

# %% [markdown] lang=en
# With `tutorial-tiny`, a comma after "red, blue" is close to certain. The start of the list
# leaves a model much more room; this chart shows the ten most likely first tokens:

# %%
from companion.plots import plot_top_tokens

top_rows = next_token_probabilities(model, tokenizer, "A list of colors:", top_k=10)[0]
figure = plot_top_tokens(top_rows, title="Next token after 'A list of colors:'")

# %% [markdown] lang=en
# ## The autoregressive loop, by hand
#
# Choosing the next token from this distribution is where generation strategies differ.
# The simplest one, **greedy decoding**, always takes the most likely token. Then the
# chosen token is appended to the input and the model is asked again. Here are six steps
# written out as a plain loop:

# %%
input_ids = model_inputs["input_ids"]
for step in range(1, 7):
    with torch.inference_mode():
        logits = model(input_ids=input_ids).logits  # (1, length, vocabulary)
    next_token_probs = torch.softmax(logits[0, -1], dim=-1)  # distribution of the next token
    next_id = next_token_probs.argmax()  # greedy: take the most likely token
    input_ids = torch.cat([input_ids, next_id.view(1, 1)], dim=-1)  # append it and go again
    print(f"step {step}: picked {tokenizer.decode(next_id)!r:<10} p = {next_token_probs[next_id].item():6.1%}"
          f"   -> {tokenizer.decode(input_ids[0], skip_special_tokens=True)!r}")

# %% [markdown] lang=en
# `generate()` does the same. With `do_sample=False` (greedy) and six new tokens it returns
# exactly the ids our loop built: the prompt followed by the six chosen tokens.

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

# %%
generated_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
tokenizer.batch_decode(generated_ids, skip_special_tokens=True)[0]

# %% [markdown] lang=en
# `companion.generate_text` wraps these steps for one prompt or a whole batch (padding each
# batch correctly, see notebook 04) and by default returns only the new text:

# %%
companion.generate_text(
    model, tokenizer, ["A list of colors: red, blue", "The cat"], max_new_tokens=MAX_NEW_TOKENS, do_sample=False
)

# %% [markdown] lang=en
# ## Exercises
#
# **Exercise 1.** Which token does the model find most likely after `"A list of colors:"`?
# Run the model on the tokenized prompt and take the argmax of the right logits. Give the
# token id (an int or a one-element tensor) or the token's text.

# %%
from companion.exercises.generating_text import check_greedy_loop, check_most_likely_token

answer = None  # your code here
check_most_likely_token(answer, model, tokenizer, "A list of colors:")

# %% [markdown] lang=en
# *Solution:*

# %%
exercise_inputs = tokenizer("A list of colors:", return_tensors="pt").to(model.device)
with torch.inference_mode():
    exercise_logits = model(**exercise_inputs).logits  # (1, length, vocabulary)
answer = exercise_logits[0, -1].argmax()  # last position = prediction for the next token
check_most_likely_token(answer, model, tokenizer, "A list of colors:")

# %% [markdown] lang=en
# **Exercise 2.** Write your own greedy loop for the prompt `"A sequence of numbers: 1, 2"`
# and let it add 5 tokens. Hand in the ids (prompt plus new tokens); the check compares them
# with `generate(..., max_new_tokens=5, do_sample=False)`.

# %%
answer = None  # your code here
check_greedy_loop(answer, model, tokenizer, "A sequence of numbers: 1, 2", steps=5)

# %% [markdown] lang=en
# *Solution:*

# %%
answer = tokenizer("A sequence of numbers: 1, 2", return_tensors="pt")["input_ids"].to(model.device)
for step in range(5):
    with torch.inference_mode():
        logits = model(input_ids=answer).logits
    next_id = logits[:, -1].argmax(dim=-1)  # (1,)
    answer = torch.cat([answer, next_id[:, None]], dim=-1)
print(tokenizer.decode(answer[0], skip_special_tokens=True))
check_greedy_loop(answer, model, tokenizer, "A sequence of numbers: 1, 2", steps=5)

# %% [markdown] lang=en
# ## Summary
#
# - A causal LM returns logits of shape (batch, length, vocabulary); the last position holds
#   the scores for the next token, and a softmax turns them into probabilities.
# - Generation is a loop: forward pass, choose a token, append it, repeat until an EOS token
#   or a length limit. Greedy decoding chooses the most likely token, and our six-line loop
#   gives the same tokens as `generate(do_sample=False)`.
# - Load with `device_map="auto"` (and a 4-bit `BitsAndBytesConfig` for large models on a
#   small GPU), tokenize with `return_tensors="pt"` and pass the attention mask, call
#   `generate()` with `max_new_tokens` and `do_sample`, and decode with `batch_decode`.
#
# Next, notebook 02: why output comes out too short or too long, and how to control it.
