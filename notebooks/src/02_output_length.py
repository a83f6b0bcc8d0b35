# %% [markdown] lang=en
# # 02 · Output too short or too long
#
# The most common surprise with `generate()`: the answer stops mid-sentence, or runs on far
# past the point you wanted. Both come down to the stop conditions of the generation loop
# from notebook 01: a length limit, the model's end-of-sequence token, or a stop string.
#
# **What you will learn**
#
# - where the 20-token default comes from, and the warning that tells you it was used
# - to set the limit yourself with `max_new_tokens`
# - that the output of `generate()` starts with the prompt, and how to keep only the new text
# - how the end-of-sequence (EOS) token ends generation early, and how `min_new_tokens` delays it
# - to stop at a piece of text with `stop_strings`

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real small LLM, CPU); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 50  # upper bound on new tokens per generate() call (the guide uses 50 here)
SEED = 0  # setup_notebook(seed=SEED) seeds Python, NumPy and torch, so sampling is repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
import warnings

import torch

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(type(model).__name__, "on", model.device)

# %% [markdown] lang=en
# ## The 20-token default
#
# Let the model count, and call `generate()` without any length on purpose. We record the
# warnings it raises so that we can print the important one:

# %%
model_inputs = tokenizer(["A sequence of numbers: 1, 2"], return_tensors="pt").to(model.device)
prompt_length = model_inputs["input_ids"].shape[1]

with warnings.catch_warnings(record=True) as caught_warnings:
    warnings.simplefilter("always")
    default_ids = model.generate(**model_inputs, do_sample=False)  # no max_new_tokens: do not copy this
for warning in caught_warnings:
    if "max_length" in str(warning.message):
        print(f"{warning.category.__name__}: {str(warning.message).splitlines()[0]}")

print(tokenizer.batch_decode(default_ids, skip_special_tokens=True)[0])
print(f"prompt: {prompt_length} tokens, new: {default_ids.shape[1] - prompt_length} tokens")

# %% [markdown] lang=en
# The count stops after 20 new tokens, in the middle of the sequence. The number comes from
# the model's `GenerationConfig`. This model's config sets no length at all:

# %%
print("max_length:    ", model.generation_config.max_length)
print("max_new_tokens:", model.generation_config.max_new_tokens)

# %% [markdown] lang=en
# When neither the config nor your call sets a length, transformers falls back to its
# model-agnostic default `max_length=20` and warns you, as above. In transformers 5 the
# prompt is added on top (here `max_length` = prompt length + 20); older versions, like the
# one the guide was written with, counted the prompt in those 20 tokens, which left even
# less room for the answer. Either way it is rarely what you want.
#
# ## Setting the limit: `max_new_tokens`
#
# `max_new_tokens` sets how many tokens may be *added*, independent of the prompt's
# length. (`max_length` counts the prompt too, so the room it leaves for the answer
# changes with every prompt; prefer `max_new_tokens`.)

# %%
generated_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
print(tokenizer.batch_decode(generated_ids, skip_special_tokens=True)[0])
print(f"new: {generated_ids.shape[1] - prompt_length} tokens")

# %% [markdown] lang=en
# ## The prompt is part of the output
#
# A decoder-only model continues its input, so `generate()` returns the prompt's ids
# followed by the new ones. To keep only the new text, cut off the first `prompt_length`
# columns before decoding:

# %%
print("starts with the prompt:", torch.equal(generated_ids[:, :prompt_length], model_inputs["input_ids"]))
new_ids = generated_ids[:, prompt_length:]
print(repr(tokenizer.batch_decode(new_ids, skip_special_tokens=True)[0]))

# %% [markdown] lang=en
# `companion.generate_text` does this slicing for you (`return_full_text=False`, the default);
# with `return_full_text=True` it keeps the prompt, like decoding `generate()`'s output:

# %%
for return_full_text in (False, True):
    text = companion.generate_text(
        model, tokenizer, "A sequence of numbers: 1, 2", max_new_tokens=10, do_sample=False,
        return_full_text=return_full_text,
    )[0]
    print(f"return_full_text={return_full_text}: {text!r}")

# %% [markdown] lang=en
# ## The model can stop by itself: the EOS token
#
# A well-trained model ends a text by producing its *end-of-sequence* token. `generate()`
# stops as soon as it appears (its id is in the generation config), even if
# `max_new_tokens` would allow more.

# %%
print("EOS token:", repr(tokenizer.eos_token), "id", tokenizer.eos_token_id)
print("generation_config.eos_token_id:", model.generation_config.eos_token_id)

# %%
eos_ids = model.generation_config.eos_token_id
eos_ids = [eos_ids] if isinstance(eos_ids, int) else list(eos_ids or [])

color_inputs = tokenizer(["A list of colors: red, blue"], return_tensors="pt").to(model.device)
color_ids = model.generate(**color_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
new_color_ids = color_ids[0, color_inputs["input_ids"].shape[1]:]
print(repr(tokenizer.decode(new_color_ids)))  # special tokens kept, to see the EOS
print(f"{len(new_color_ids)} new tokens of at most {MAX_NEW_TOKENS}; "
      f"ended with EOS: {new_color_ids[-1].item() in eos_ids}")

# %% [markdown] lang=en
# With `tutorial-tiny` the list ends after a dozen tokens with `</s>`, far below the limit.
# (Decode with `skip_special_tokens=True` and the `</s>` disappears from the text.)
#
# If the model stops too early for your purpose, `min_new_tokens` forbids the EOS token
# until that many tokens have been generated. The model then has to keep going, which
# often just means rambling:

# %%
color_ids = model.generate(**color_inputs, max_new_tokens=MAX_NEW_TOKENS, min_new_tokens=20, do_sample=False)
new_color_ids = color_ids[0, color_inputs["input_ids"].shape[1]:]
print(repr(tokenizer.decode(new_color_ids)))
print(f"{len(new_color_ids)} new tokens")

# %% [markdown] lang=en
# ## Stopping at a piece of text: `stop_strings`
#
# Sometimes you know where the answer should end: at the end of a line, before the next
# question, after a number. `stop_strings` ends generation once the generated text contains
# one of the strings. `generate()` needs the tokenizer for this, to turn tokens back into
# text, so pass `tokenizer=tokenizer` as well. The stop string stays in the output.

# %%
generated_ids = model.generate(
    **model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, stop_strings=["7"], tokenizer=tokenizer
)
print(tokenizer.batch_decode(generated_ids, skip_special_tokens=True)[0])

# %% [markdown] lang=en
# ## Exercises
#
# **Exercise 1.** How many new tokens does `generate()` add at most when you set no length
# at all (and the model's generation config sets none either)?

# %%
from companion.exercises.output_length import check_default_new_tokens, check_new_text_only, check_stop_string

answer = None  # your answer here
check_default_new_tokens(answer)

# %% [markdown] lang=en
# *Solution:* count the new tokens of the default run at the top of this notebook.

# %%
answer = default_ids.shape[1] - prompt_length  # output length minus prompt length
check_default_new_tokens(answer)

# %% [markdown] lang=en
# **Exercise 2.** Generate greedily with `max_new_tokens=15` for `"A list of colors: red, blue"`
# and return only the new text as a string (no prompt, no special tokens), using
# `model.generate()` and `tokenizer.batch_decode` directly.

# %%
answer = None  # your code here
check_new_text_only(answer, model, tokenizer, "A list of colors: red, blue", max_new_tokens=15)

# %% [markdown] lang=en
# *Solution:*

# %%
exercise_ids = model.generate(**color_inputs, max_new_tokens=15, do_sample=False)
exercise_new_ids = exercise_ids[:, color_inputs["input_ids"].shape[1]:]  # drop the prompt's columns
answer = tokenizer.batch_decode(exercise_new_ids, skip_special_tokens=True)[0]
check_new_text_only(answer, model, tokenizer, "A list of colors: red, blue", max_new_tokens=15)

# %% [markdown] lang=en
# **Exercise 3.** Let the model count from `"A sequence of numbers: 1, 2"` with
# `max_new_tokens=MAX_NEW_TOKENS`, greedily, but make it stop as soon as `"10"` appears.
# Hand in the whole decoded text (prompt included, special tokens skipped).

# %%
answer = None  # your code here
check_stop_string(answer, model, tokenizer, "A sequence of numbers: 1, 2", "10", MAX_NEW_TOKENS)

# %% [markdown] lang=en
# *Solution:*

# %%
exercise_ids = model.generate(
    **model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, stop_strings=["10"], tokenizer=tokenizer
)
answer = tokenizer.batch_decode(exercise_ids, skip_special_tokens=True)[0]
print(answer)
check_stop_string(answer, model, tokenizer, "A sequence of numbers: 1, 2", "10", MAX_NEW_TOKENS)

# %% [markdown] lang=en
# ## Summary
#
# - Without a length, `generate()` falls back to a default of 20 tokens (in transformers 5:
#   20 new tokens; earlier versions counted the prompt in them) and warns. Always pass
#   `max_new_tokens`.
# - The output starts with the prompt. Slice off `input_ids.shape[1]` columns to keep the
#   new tokens only (`companion.generate_text` does this by default).
# - Generation ends early when the model emits its EOS token; `min_new_tokens` postpones
#   that, and `stop_strings` (with `tokenizer=`) ends it at a piece of text you choose.
#
# Next, notebook 03: greedy decoding versus sampling.
