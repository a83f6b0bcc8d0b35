# %% [markdown] lang=en
# # 04 · Wrong padding side
#
# **What you will learn**
#
# - why a batch of prompts with different lengths needs padding, and what to do when a tokenizer has no pad token;
# - what right and left padding look like: token ids, attention mask and positions;
# - why a decoder-only model must be padded **on the left** for `generate()`: right padding breaks the short rows, left padding gives exactly the tokens you get one prompt at a time;
# - why you always pass the `attention_mask` to `generate()`.
#
# This is the pitfall "wrong padding side" from the guide. We reproduce its example with the course's tiny model, then show the same effect on a real small LLM.

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"      # or "smollm2-135m" (a real small LLM on CPU), or "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None          # None, "4bit" or "8bit"
MAX_NEW_TOKENS = 10          # upper bound on new tokens per generate() call
SEED = 0                     # set_seed(SEED) makes sampling repeatable (this notebook decodes greedily)
REAL_MODEL = "smollm2-135m"  # a real LLM that shows the same effect at the end; None skips that part

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
from transformers import set_seed

from companion.padding import (
    compare_padding_sides,
    generate_padded,
    pad_batch,
    padding_table,
    predicted_next_tokens,
    transformers_warnings,
)

set_seed(SEED)
model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print("pad token:", tokenizer.pad_token)
print("padding side:", tokenizer.padding_side)

# %% [markdown] lang=en
# ## A batch needs padding
#
# `generate()` works on a tensor of shape `(batch, length)`: every row must have the same length. The guide's two prompts do not, so the shorter one has to be filled up with **padding** tokens. The tokenizer does that with `padding=True`, but only if it knows which token to pad with. Llama models (the guide's `open_llama_7b` and our `tutorial-tiny`) have no pad token, and transformers says so:

# %%
PROMPTS = ["1, 2, 3", "A, B, C, D, E"]

try:
    tokenizer(PROMPTS, padding=True, return_tensors="pt")
    print("This tokenizer already has a pad token:", repr(tokenizer.pad_token))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown] lang=en
# The usual fix, as in the guide: reuse the end-of-sequence token `</s>` as pad token. That is safe because the attention mask (below) tells the model which tokens are padding.

# %%
tokenizer.pad_token = tokenizer.eos_token  # Llama has no pad token of its own
batch = tokenizer(PROMPTS, padding=True, return_tensors="pt")
print("padding side:", tokenizer.padding_side)
print(batch["input_ids"])
print(batch["attention_mask"])

# %% [markdown] lang=en
# ## Right and left padding side by side
#
# `pad_batch(tokenizer, prompts, side)` pads on the side you ask for, without changing the tokenizer (it is the same as setting `tokenizer.padding_side` and calling the tokenizer). `padding_table` shows each row three times: the tokens, the **attention mask** (1 = real token, 0 = padding) and the **position** of each token. In transformers 5, `generate()` computes positions from the attention mask: it counts the real tokens, and padding gets position 0.

# %%
right_batch = pad_batch(tokenizer, PROMPTS, side="right")
left_batch = pad_batch(tokenizer, PROMPTS, side="left")
print(padding_table(tokenizer, right_batch, title="Padding on the right"))
print()
print(padding_table(tokenizer, left_batch, title="Padding on the left"))

# %% [markdown] lang=en
# Both batches hold the same tokens. On the left, every row ends in its prompt's last token, and every prompt starts at position 0 as if it were alone. On the right, the short row ends in padding.
#
# ## Generate with each
#
# `compare_padding_sides` generates greedily (`do_sample=False`) three times for each prompt: alone (no padding at all), in the right-padded batch and in the left-padded batch. The attention mask is passed every time.

# %%
comparisons = compare_padding_sides(model, tokenizer, PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
for comparison in comparisons:
    print(comparison.report())

# %% [markdown] lang=en
# The long prompt has no padding, so both batches continue it correctly. The short prompt is different: padded on the left it gives exactly what it gives alone, token for token; padded on the right its continuation goes wrong. (The guide's 7B model returned an empty string there; compare the tiny model's right-padded line with its line alone.)
#
# ## Why: the last position predicts the next token
#
# A decoder-only model produces one score vector per position, and `generate()` takes the next token from the **last** position of each row. `predicted_next_tokens` does that one forward pass and shows, for each row, the token in the last column and the greedy choice after it:

# %%
for side, padded_batch in [("right", right_batch), ("left", left_batch)]:
    print(f"Padding on the {side}:")
    for row, (last_token, next_token) in enumerate(predicted_next_tokens(model, tokenizer, padded_batch)):
        print(f"  row {row}: last token {last_token:>6} -> predicted next token {next_token}")

# %% [markdown] lang=en
# With right padding, the short row's next token is predicted from a padding position that holds `</s>`, not from its last real token. The model never saw text continue after a padding token, so what comes out is a guess. And in transformers 5 the new tokens take their positions from the last column, which has position 0, so they are numbered 1, 2, 3, ... again, clashing with the prompt's own positions. With left padding, the last column is a real token in every row and positions carry on where each prompt ends.
#
# transformers notices right padding and warns about it. `setup_notebook` hides library warnings to keep outputs clean; `transformers_warnings()` collects them so we can read them:

# %%
with transformers_warnings() as warnings_seen:
    generate_padded(model, tokenizer, right_batch, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
for message in warnings_seen:
    print(message)

# %% [markdown] lang=en
# ## Always pass the attention mask
#
# Left padding is only half of the fix. Without the attention mask, the model cannot tell padding from text: it reads the padding as part of the prompt, and positions count from the first padding token. When the pad token is a real token of its own, `generate()` can rebuild the mask from it; when the pad token is `</s>` (as here) it cannot, because `</s>` may also be real text, and it warns. Here is a batch with more padding, generated with and without the mask:

# %%
MASK_PROMPTS = ["A, B", "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7"]
mask_batch = pad_batch(tokenizer, MASK_PROMPTS, side="left")

with_mask = generate_padded(model, tokenizer, mask_batch, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)

with transformers_warnings() as warnings_seen:
    sequences = model.generate(
        input_ids=mask_batch["input_ids"],  # attention_mask left out on purpose
        max_new_tokens=MAX_NEW_TOKENS,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
    )
without_mask = tokenizer.batch_decode(sequences[:, mask_batch["input_ids"].shape[1]:], skip_special_tokens=True)

for row, prompt in enumerate(MASK_PROMPTS):
    print(f"prompt {prompt!r}")
    print(f"  with mask   : {with_mask[row]!r}")
    print(f"  without mask: {without_mask[row]!r}   same: {with_mask[row] == without_mask[row]}")
for message in warnings_seen:
    print("warning:", message)

# %% [markdown] lang=en
# The row without padding does not care. The padded row may or may not come out the same without its mask: that depends on how the model reacts to a run of `</s>` tokens, which is luck, not design. Pass the mask and you never depend on it. Every helper in `companion` passes it, pads on the left and falls back to EOS as pad token (`companion.tokenize_batch`); `companion.check_left_padded(attention_mask)` raises an error when a batch is padded on the right.

# %% [markdown] lang=en
# ## The same on a real LLM
#
# `tutorial-tiny` was trained to reproduce the guide's examples. Does a real model care about the padding side as much? Here is `smollm2-135m` (skipped if `REAL_MODEL` is None):

# %%
if REAL_MODEL:
    real_model, real_tokenizer = companion.load_model(REAL_MODEL)
    real_comparisons = compare_padding_sides(real_model, real_tokenizer, PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
    for comparison in real_comparisons:
        print(comparison.report())

# %% [markdown] lang=en
# The real model, too, continues its short prompt from padding when padded on the right, and goes somewhere else entirely; padded on the left, it gives the same text as alone.
#
# ## Exercise 1: a batch that generate() can continue
#
# Tokenize `PROMPTS` into one batch with the tokenizer itself (not `pad_batch`), so that generation works. Store what the tokenizer returns in `answer`.

# %%
from companion.exercises.padding_side import check_batch_ready_for_generation, check_position_ids

answer = None  # your code here
check_batch_ready_for_generation(answer)

# %% [markdown] lang=en
# **Solution**

# %%
tokenizer.padding_side = "left"
answer = tokenizer(PROMPTS, padding=True, return_tensors="pt")
check_batch_ready_for_generation(answer)

# %% [markdown] lang=en
# ## Exercise 2: positions from the attention mask
#
# Compute the position ids that `generate()` uses for the left-padded batch, from `left_batch["attention_mask"]` alone: each row counts its real tokens 0, 1, 2, ..., and padding gets 0. (Tip: `cumsum` and `masked_fill`.)

# %%
attention_mask = left_batch["attention_mask"]
answer = None  # your code here
check_position_ids(attention_mask, answer)

# %% [markdown] lang=en
# **Solution**

# %%
answer = attention_mask.cumsum(dim=-1) - 1
answer = answer.masked_fill(attention_mask == 0, 0)
print(answer)
check_position_ids(attention_mask, answer)

# %% [markdown] lang=en
# ## Summary
#
# - Prompts of different lengths are padded to one length; Llama tokenizers have no pad token, so set `tokenizer.pad_token = tokenizer.eos_token`.
# - Pad **on the left** for generation (`tokenizer.padding_side = "left"`): the model predicts the next token from the last position, which must be the prompt's last token in every row. Then a batch gives exactly what each prompt gives alone.
# - Right padding makes short rows continue from padding, and transformers warns about it.
# - Always pass the `attention_mask` to `generate()`: it hides the padding and, in transformers 5, sets the positions. Without it, a pad token that is also `</s>` cannot be told apart from text.
# - `companion.tokenize_batch` and `companion.generate_text` do all of this for you; `companion.check_left_padded` catches right-padded batches.
